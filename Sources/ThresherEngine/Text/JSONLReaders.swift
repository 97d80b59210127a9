import Foundation

/// One JSON value as the readers need it: the scalar kinds are kept apart (a JSON `1` is never a
/// Bool, a JSON `"true"` is never a Bool), everything else is `.other`.
enum JSONScalar: Decodable, Equatable {
    case bool(Bool)
    case number(Double)
    case string(String)
    case null
    case other

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        // Bool first: JSONDecoder decodes only `true`/`false` as Bool, never a number.
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let d = try? c.decode(Double.self) { self = .number(d); return }
        self = .other
    }

    /// How a value is named in error messages.
    var kind: String {
        switch self {
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .null: "null"
        case .other: "an array or object"
        }
    }
}

/// Splits JSON-lines bytes into objects with their 1-based line numbers; blank lines are skipped.
enum JSONLines {
    static func objects(_ bytes: [UInt8], path: String) throws(DatasetError) -> [(line: Int, fields: [String: JSONScalar])] {
        let decoder = JSONDecoder()
        var out: [(line: Int, fields: [String: JSONScalar])] = []
        var start = 0
        var line = 0
        while start < bytes.count {
            line += 1
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            let slice = bytes[start..<end]
            start = end + 1
            if slice.allSatisfy(WordTokenizer.isSpace) { continue }
            guard String(validating: slice, as: UTF8.self) != nil else {
                throw .file(path: path, line: line, message: "not valid UTF-8")
            }
            do {
                out.append((line, try decoder.decode([String: JSONScalar].self, from: Data(slice))))
            } catch {
                throw .file(path: path, line: line, message: "not a JSON object (\(Self.reason(error)))")
            }
        }
        return out
    }

    private static func reason(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error { return context.debugDescription }
        if case DecodingError.typeMismatch(_, let context) = error { return context.debugDescription }
        return "\(error)"
    }

    static func string(_ fields: [String: JSONScalar], _ key: String, path: String, line: Int) throws(DatasetError) -> String {
        switch fields[key] {
        case .string(let s): return s
        case nil: throw .file(path: path, line: line, message: "'\(key)' is missing")
        case let other?: throw .file(path: path, line: line, message: "'\(key)' must be a string, found \(other.kind)")
        }
    }
}

/// One BoolQ example. `line` is the 1-based line of the file it came from.
public struct BoolQExample: Sendable, Equatable {
    public var question: String
    /// nil only when read with `questionsOnly` from a line without a passage.
    public var passage: String?
    public var answer: Bool
    public var line: Int

    public init(question: String, passage: String?, answer: Bool, line: Int = 0) {
        self.question = question
        self.passage = passage
        self.answer = answer
        self.line = line
    }
}

/// Reads BoolQ JSON lines: `question` (string), `passage` (string), `answer` (true/false); other
/// keys (`title`) are ignored.
///
/// Guarantees: examples come back in file order; blank lines are skipped; every other line that is
/// not such an object is a `DatasetError.file` with the path, the 1-based line and the key at fault
/// (e.g. "'answer' must be true or false"). `passage` is required unless `questionsOnly` is set
/// (for the questions-and-labels copy of the train split); when present it must be a string.
public struct BoolQReader: Sendable {
    public var questionsOnly: Bool

    public init(questionsOnly: Bool = false) {
        self.questionsOnly = questionsOnly
    }

    public func read(path: String) throws(DatasetError) -> [BoolQExample] {
        try parse(bytes: try WordVectors.fileBytes(path), path: path)
    }

    /// Parses file contents already in memory; `path` is used in error messages only.
    public func parse(bytes: [UInt8], path: String) throws(DatasetError) -> [BoolQExample] {
        var out: [BoolQExample] = []
        for (line, fields) in try JSONLines.objects(bytes, path: path) {
            let question = try JSONLines.string(fields, "question", path: path, line: line)
            var passage: String?
            if !questionsOnly || fields["passage"] != nil {
                passage = try JSONLines.string(fields, "passage", path: path, line: line)
            }
            guard case .bool(let answer) = fields["answer"] else {
                let found = fields["answer"].map { ", found \($0.kind)" } ?? " (missing)"
                throw .file(path: path, line: line, message: "'answer' must be true or false\(found)")
            }
            out.append(BoolQExample(question: question, passage: passage, answer: answer, line: line))
        }
        return out
    }
}

/// One claim/evidence pair with its label as written in the file.
public struct ClaimEvidenceExample: Sendable, Equatable {
    /// A label is a class name ("SUPPORTS") or a class id (0, 1, 2).
    public enum Label: Sendable, Equatable, Hashable {
        case name(String)
        case id(Int)
    }

    public var claim: String
    public var evidence: String
    public var label: Label
    public var line: Int

    public init(claim: String, evidence: String, label: Label, line: Int = 0) {
        self.claim = claim
        self.evidence = evidence
        self.label = label
        self.line = line
    }
}

/// Class names ↔ ids for claim/evidence labels.
///
/// Guarantees: ids are 0..<names.count in the order of `names`, which is either the caller's list or
/// the sorted (by Unicode scalar values, so independent of locale and file order) distinct string
/// labels of the training examples — the same training file always gives the same mapping. Integer
/// labels in a file are taken as ids directly. When the training file has only integer labels the
/// names are "0"…"max".
public struct LabelMapping: Sendable, Equatable, Codable {
    public let names: [String]

    /// Uses `names` as given (must be non-empty and distinct).
    public init(names: [String]) throws(DatasetError) {
        guard !names.isEmpty else { throw .invalid("label mapping needs at least one class name") }
        guard Set(names).count == names.count else { throw .invalid("label names repeat: \(names)") }
        self.names = names
    }

    /// The mapping fitted on training examples (see the type's documentation).
    public init(fitting training: [ClaimEvidenceExample]) throws(DatasetError) {
        var names = Set<String>()
        var maxID = -1
        for e in training {
            switch e.label {
            case .name(let n): names.insert(n)
            case .id(let i): maxID = max(maxID, i)
            }
        }
        if names.isEmpty {
            try self.init(names: (0...max(maxID, 0)).map(String.init))
        } else {
            try self.init(names: names.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) })
        }
    }

    public var classCount: Int { names.count }

    /// "0=NOT_ENOUGH_INFO, 1=REFUTES, 2=SUPPORTS": for reports and logs.
    public var description: String {
        names.enumerated().map { "\($0.offset)=\($0.element)" }.joined(separator: ", ")
    }

    /// The class id of every example; an unknown name or an id outside 0..<classCount is a
    /// `DatasetError.file` naming the example's line.
    public func ids(of examples: [ClaimEvidenceExample], path: String) throws(DatasetError) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(examples.count)
        for e in examples {
            switch e.label {
            case .name(let n):
                guard let id = names.firstIndex(of: n) else {
                    throw .file(path: path, line: e.line, message: "'label' \"\(n)\" is not one of \(names.joined(separator: ", "))")
                }
                out.append(id)
            case .id(let i):
                guard i >= 0, i < names.count else {
                    throw .file(path: path, line: e.line, message: "'label' \(i) is outside 0..<\(names.count)")
                }
                out.append(i)
            }
        }
        return out
    }
}

/// Reads claim/evidence JSON lines: `claim` and `evidence` (strings) and `label` (a class name
/// string or a non-negative integer); other keys are ignored.
///
/// Guarantees: as `BoolQReader` — file order, blank lines skipped, every bad line a
/// `DatasetError.file` naming the path, line and key.
public struct ClaimEvidenceReader: Sendable {
    public init() {}

    public func read(path: String) throws(DatasetError) -> [ClaimEvidenceExample] {
        try parse(bytes: try WordVectors.fileBytes(path), path: path)
    }

    public func parse(bytes: [UInt8], path: String) throws(DatasetError) -> [ClaimEvidenceExample] {
        var out: [ClaimEvidenceExample] = []
        for (line, fields) in try JSONLines.objects(bytes, path: path) {
            let claim = try JSONLines.string(fields, "claim", path: path, line: line)
            let evidence = try JSONLines.string(fields, "evidence", path: path, line: line)
            let label: ClaimEvidenceExample.Label
            switch fields["label"] {
            case .string(let s) where !s.isEmpty:
                label = .name(s)
            case .number(let d) where d >= 0 && d <= 1_000_000 && d == d.rounded():
                label = .id(Int(d))
            case nil:
                throw .file(path: path, line: line, message: "'label' is missing")
            case .string?:
                throw .file(path: path, line: line, message: "'label' must not be an empty string")
            case let other?:
                throw .file(path: path, line: line,
                            message: "'label' must be a class name or a non-negative integer, found \(other.kind)")
            }
            out.append(ClaimEvidenceExample(claim: claim, evidence: evidence, label: label, line: line))
        }
        return out
    }
}
