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
