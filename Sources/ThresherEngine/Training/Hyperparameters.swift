import Foundation

/// One hyperparameter value as a sweep or the command line gives it: a number, a bool, a string
/// or a list (W2's class weights `[2, 1.2, 1]` are one value).
public enum HyperparameterValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case number(Double)
    case bool(Bool)
    case string(String)
    case list([HyperparameterValue])

    /// Parses the text after `=` in `--param k=v`: JSON when it parses as JSON (numbers, true/false,
    /// lists, quoted strings), otherwise the bare text as a string.
    public init(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let value = try? JSONDecoder().decode(HyperparameterValue.self, from: Data(trimmed.utf8)) {
            self = value
        } else {
            self = .string(trimmed)
        }
    }

    /// Decodes JSON scalars and arrays; JSON's `true` stays a bool (JSONDecoder keeps them apart).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else { self = .list(try c.decode([HyperparameterValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let d): try c.encode(d)
        case .bool(let b): try c.encode(b)
        case .string(let s): try c.encode(s)
        case .list(let l): try c.encode(l)
        }
    }

    public var description: String {
        switch self {
        case .number(let d): d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .bool(let b): String(b)
        case .string(let s): s
        case .list(let l): "[" + l.map(\.description).joined(separator: ", ") + "]"
        }
    }

    /// The JSON form (for sidecars and metadata).
    public var jsonObject: Any {
        switch self {
        case .number(let d): d
        case .bool(let b): b
        case .string(let s): s
        case .list(let l): l.map(\.jsonObject)
        }
    }
}

/// A trial's hyperparameters with typed, checked access. Every key read is recorded so that
/// `unusedKeys` can report what nothing consumed — a misspelt `learning_rat` must be an error,
/// not a silent default.
public struct Hyperparameters: Sendable {
    public private(set) var values: [String: HyperparameterValue]
    private var read: Set<String> = []

    public init(_ values: [String: HyperparameterValue] = [:]) { self.values = values }

    /// Keys given but never read.
    public var unusedKeys: [String] { values.keys.filter { !read.contains($0) }.sorted() }

    /// The first of `names` that is present, marking all of them read.
    private mutating func lookup(_ names: [String]) -> (String, HyperparameterValue)? {
        for n in names { read.insert(n) }
        for n in names { if let v = values[n] { return (n, v) } }
        return nil
    }

    public mutating func double(_ names: String..., default fallback: Double,
                                in range: ClosedRange<Double> = -.greatestFiniteMagnitude ... .greatestFiniteMagnitude)
        throws(TrainingError) -> Double {
        guard let (name, value) = lookup(names) else { return fallback }
        guard case .number(let d) = value, d.isFinite else { throw .parameter(name, "must be a number, got \(value)") }
        guard range.contains(d) else { throw .parameter(name, "must be in \(range.lowerBound)...\(range.upperBound), got \(value)") }
        return d
    }

    public mutating func optionalDouble(_ names: String..., in range: ClosedRange<Double>) throws(TrainingError) -> Double? {
        guard let (name, value) = lookup(names) else { return nil }
        guard case .number(let d) = value, d.isFinite else { throw .parameter(name, "must be a number, got \(value)") }
        guard range.contains(d) else { throw .parameter(name, "must be in \(range.lowerBound)...\(range.upperBound), got \(value)") }
        return d
    }

    public mutating func int(_ names: String..., default fallback: Int, in range: ClosedRange<Int>) throws(TrainingError) -> Int {
        guard let (name, value) = lookup(names) else { return fallback }
        guard case .number(let d) = value, d.rounded() == d, d.magnitude < 1e15 else {
            throw .parameter(name, "must be a whole number, got \(value)")
        }
        guard range.contains(Int(d)) else { throw .parameter(name, "must be in \(range.lowerBound)...\(range.upperBound), got \(value)") }
        return Int(d)
    }

    public mutating func bool(_ names: String..., default fallback: Bool) throws(TrainingError) -> Bool {
        guard let (name, value) = lookup(names) else { return fallback }
        switch value {
        case .bool(let b): return b
        case .number(let d) where d == 0 || d == 1: return d == 1
        case .string(let s) where ["true", "false"].contains(s.lowercased()): return s.lowercased() == "true"
        default: throw .parameter(name, "must be true or false, got \(value)")
        }
    }

    public mutating func string(_ names: String..., default fallback: String, oneOf choices: [String]) throws(TrainingError) -> String {
        guard let (name, value) = lookup(names) else { return fallback }
        guard case .string(let s) = value, choices.contains(s) else {
            throw .parameter(name, "must be one of \(choices.joined(separator: ", ")), got \(value)")
        }
        return s
    }

    /// A list of numbers (a single number is a one-element list).
    public mutating func numbers(_ names: String...) throws(TrainingError) -> [Double]? {
        guard let (name, value) = lookup(names) else { return nil }
        switch value {
        case .number(let d): return [d]
        case .list(let items):
            var out: [Double] = []
            for item in items {
                guard case .number(let d) = item, d.isFinite else { throw .parameter(name, "must be a list of numbers, got \(value)") }
                out.append(d)
            }
            return out
        default: throw .parameter(name, "must be a number or a list of numbers, got \(value)")
        }
    }
}
