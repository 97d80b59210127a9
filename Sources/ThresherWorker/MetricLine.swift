/// One evaluation a trial program reported: a line of its metrics file, parsed.
///
/// Guarantees: `step` is ≥ 0; `values` keeps the line's order, holds each name once and never
/// holds `step` or `epoch`; a `null` in the line is left out (it means "not measured"), while
/// Python's `NaN`, `Infinity` and `-Infinity` are kept as the non-finite `Double`s they spell.
public struct MetricLine: Sendable, CustomStringConvertible {
    /// The program's step, or the worker's numbering when the line had none (see `MetricLineParser`).
    public var step: Int
    /// The program's epoch, if it wrote one (it may be fractional).
    public var epoch: Double?
    /// Metric name and value pairs in the order the line wrote them.
    public var values: [(name: String, value: Double)]

    public init(step: Int, epoch: Double? = nil, values: [(name: String, value: Double)]) {
        self.step = step
        self.epoch = epoch
        self.values = values
    }

    /// The value of metric `name`, or nil when the line did not report it.
    public subscript(name: String) -> Double? {
        values.first(where: { $0.name == name })?.value
    }

    public var description: String {
        let pairs = values.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
        let epochText = epoch.map { " epoch=\($0)" } ?? ""
        return "step=\(step)\(epochText) \(pairs)"
    }
}

extension MetricLine: Equatable {
    /// Equal when step, epoch and every name and value match in order; NaN equals NaN here,
    /// because a line that reported NaN twice reported the same thing twice.
    public static func == (lhs: MetricLine, rhs: MetricLine) -> Bool {
        func same(_ a: Double, _ b: Double) -> Bool { a == b || (a.isNaN && b.isNaN) }
        guard lhs.step == rhs.step, lhs.values.count == rhs.values.count else { return false }
        switch (lhs.epoch, rhs.epoch) {
        case (nil, nil): break
        case let (a?, b?): guard same(a, b) else { return false }
        default: return false
        }
        for (l, r) in zip(lhs.values, rhs.values) where l.name != r.name || !same(l.value, r.value) {
            return false
        }
        return true
    }
}

/// Why one line of a metrics file was rejected. The line is skipped and counted; the trial goes on.
public struct MetricLineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong with the line.
    public enum Reason: Error, Sendable, Equatable {
        /// The line is longer than the parser's limit (its bytes were discarded unread).
        case tooLong(limit: Int)
        /// The bytes are not UTF-8.
        case notUTF8
        /// Not JSON, or JSON but not an object (an array, a number, an empty line...).
        case notAnObject
        /// JSON syntax error at a byte offset within the line.
        case syntax(offset: Int, message: String)
        /// The same key appears twice; JSON leaves the meaning open, so the line is refused.
        case duplicateKey(String)
        /// A value that is not a number, `null` or a Python non-finite spelling (string, bool, array, object).
        case notNumeric(key: String)
        /// `step` is not an integer in 0...2⁵³ (or `epoch` is negative or non-finite).
        case badStep(String)
        /// The program exited with bytes after its last newline: a line it never finished.
        case incompleteFinalLine
    }

    /// 1-based line number within the metrics file.
    public var line: Int
    public var reason: Reason

    public init(line: Int, reason: Reason) {
        self.line = line
        self.reason = reason
    }

    public var description: String {
        let text: String
        switch reason {
        case .tooLong(let limit): text = "line longer than \(limit) bytes"
        case .notUTF8: text = "not UTF-8"
        case .notAnObject: text = "not a JSON object"
        case let .syntax(offset, message): text = "JSON syntax error at byte \(offset): \(message)"
        case .duplicateKey(let key): text = "duplicate key '\(key)'"
        case .notNumeric(let key): text = "value of '\(key)' is not a number or null"
        case .badStep(let message): text = message
        case .incompleteFinalLine: text = "program exited in the middle of a line (no final newline)"
        }
        return "metrics line \(line): \(text)"
    }
}
