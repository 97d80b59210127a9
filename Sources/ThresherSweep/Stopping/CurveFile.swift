/// One point of a learning curve: the sweep metric's value at a step.
public struct CurvePoint: Sendable, Hashable {
    public let step: Int64
    /// May be NaN or ±infinity (written `NaN`, `Infinity`, `-Infinity` or `null`): policies ignore it.
    public let value: Double

    public init(step: Int64, value: Double) { self.step = step; self.value = value }
}

/// The learning curve of one trial: its points in strictly increasing step order.
public struct TrialCurve: Sendable, Hashable {
    /// The trial's index, as `thresher sweep expand` numbers trials.
    public let trial: Int
    public let points: [CurvePoint]

    public init(trial: Int, points: [CurvePoint]) { self.trial = trial; self.points = points }
}

/// A line of a curves file that could not be read; `line` is 1-based.
public struct CurveFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public let line: Int
    public let message: String

    public init(line: Int, message: String) { self.line = line; self.message = message }

    public var description: String { "line \(line): \(message)" }
}

/// Reads the curves file of `thresher sweep simulate`: JSON Lines, one point per line,
/// `{"trial": i, "step": s, "value": v}`.
///
/// - `trial` and `step` are integers (`3.0` is accepted, `3.5` is not), `trial` ≥ 0; `value` is a
///   number, `NaN`, `Infinity`, `-Infinity` (as Python's `json.dumps` writes them) or `null` (NaN).
/// - Other keys with scalar values are ignored; blank lines are skipped; lines of different
///   trials may interleave, but each trial's steps must strictly increase down the file.
/// - The first bad line is reported with its 1-based number. Curves come back by ascending trial.
public enum CurveFile {
    public static func parse(_ text: String) throws(CurveFileError) -> [TrialCurve] {
        var points: [Int: [CurvePoint]] = [:]
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var scanner = FlatJSONScanner(Array(line.utf8))
            guard !scanner.isBlank else { continue }
            let fields: [String: FlatJSONScanner.Scalar]
            do { fields = try scanner.object() } catch { throw CurveFileError(line: lineNumber, message: error.message) }

            let trial = try integer("trial", in: fields, line: lineNumber)
            let step = try integer("step", in: fields, line: lineNumber)
            guard trial >= 0, let index = Int(exactly: trial) else {
                throw CurveFileError(line: lineNumber, message: "\"trial\" must be a non-negative integer (found \(trial))")
            }
            let value: Double
            switch fields["value"] {
            case .number(let number): value = number
            case .null: value = .nan
            case nil: throw CurveFileError(line: lineNumber, message: "missing \"value\"")
            case .some(let other): throw CurveFileError(line: lineNumber, message: "\"value\" must be a number (found \(other))")
            }
            if let previous = points[index]?.last, previous.step >= step {
                throw CurveFileError(line: lineNumber, message: "step \(step) of trial \(index) does not come after its step \(previous.step)")
            }
            points[index, default: []].append(CurvePoint(step: step, value: value))
        }
        return points.keys.sorted().compactMap { trial in points[trial].map { TrialCurve(trial: trial, points: $0) } }
    }

    private static func integer(_ key: String, in fields: [String: FlatJSONScanner.Scalar], line: Int) throws(CurveFileError) -> Int64 {
        guard let field = fields[key] else { throw CurveFileError(line: line, message: "missing \"\(key)\"") }
        guard case .number(let number) = field, let integer = Int64(exactly: number) else {
            throw CurveFileError(line: line, message: "\"\(key)\" must be an integer (found \(field))")
        }
        return integer
    }
}

/// A scanner for one JSON object whose values are scalars — all a curves line holds. Numbers
/// also take Python's `NaN`, `Infinity` and `-Infinity`.
struct FlatJSONScanner {
    enum Scalar: Sendable, Hashable, CustomStringConvertible {
        case number(Double), string(String), bool(Bool), null

        var description: String {
            switch self {
            case .number(let number): "\(number)"
            case .string(let string): "a string \"\(string)\""
            case .bool(let bool): "\(bool)"
            case .null: "null"
            }
        }
    }

    struct Failure: Error { let message: String }

    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isBlank: Bool { bytes.allSatisfy { Self.isSpace($0) } }

    mutating func object() throws(Failure) -> [String: Scalar] {
        var fields: [String: Scalar] = [:]
        try expect(UInt8(ascii: "{"), "expected a JSON object starting with '{'")
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                skipSpace()
                let key = try string()
                try expect(UInt8(ascii: ":"), "expected ':' after \"\(key)\"")
                skipSpace()
                let value = try scalar(for: key)
                guard fields.updateValue(value, forKey: key) == nil else { throw Failure(message: "duplicate key \"\(key)\"") }
                skipSpace()
                if peek() == UInt8(ascii: ",") { position += 1; continue }
                try expect(UInt8(ascii: "}"), "expected ',' or '}' after the value of \"\(key)\"")
                break
            }
        }
        skipSpace()
        guard position == bytes.count else { throw Failure(message: "unexpected text after the object") }
        return fields
    }

    private mutating func scalar(for key: String) throws(Failure) -> Scalar {
        switch peek() {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "{"), UInt8(ascii: "["): throw Failure(message: "\"\(key)\" holds an object or array; only plain values are allowed")
        default: break
        }
        let start = position
        while let byte = peek(), !Self.isSpace(byte), byte != UInt8(ascii: ","), byte != UInt8(ascii: "}") { position += 1 }
        let token = String(decoding: bytes[start..<position], as: UTF8.self)
        switch token {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        case "NaN": return .number(.nan)
        case "Infinity": return .number(.infinity)
        case "-Infinity": return .number(-.infinity)
        default:
            let numeric = token.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || "+-.eE".utf8.contains($0) }
            guard numeric, let number = Double(token), number.isFinite else {
                throw Failure(message: token.isEmpty ? "missing value for \"\(key)\"" : "\"\(key)\" has an invalid value \(token)")
            }
            return .number(number)
        }
    }

    private mutating func string() throws(Failure) -> String {
        try expect(UInt8(ascii: "\""), "expected a quoted key")
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        func flush() { scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars); raw.removeAll() }
        while let byte = peek() {
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                flush()
                return String(scalars)
            case UInt8(ascii: "\\"):
                flush()
                guard let escaped = peek() else { break }
                position += 1
                switch escaped {
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "b"): scalars.append("\u{8}")
                case UInt8(ascii: "f"): scalars.append("\u{C}")
                case UInt8(ascii: "u"):
                    guard position + 4 <= bytes.count,
                          let code = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16) else {
                        throw Failure(message: "invalid \\u escape in a string")
                    }
                    position += 4
                    scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                default: scalars.append(Unicode.Scalar(escaped))
                }
            default:
                raw.append(byte)
            }
        }
        throw Failure(message: "unterminated string")
    }

    private mutating func expect(_ byte: UInt8, _ message: String) throws(Failure) {
        skipSpace()
        guard peek() == byte else { throw Failure(message: message) }
        position += 1
    }

    private func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipSpace() { while let byte = peek(), Self.isSpace(byte) { position += 1 } }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
    }
}
