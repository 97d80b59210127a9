/// One problem found in a sweep file: where it is and what is wrong.
///
/// `description` renders the form every Thresher tool prints, key path first and place last:
///
///     parameters.lr.min must be < max (0.1 >= 0.01) at sweep.yaml:7:9
///
/// `line` and `column` are 1-based and point at the offending value (or at the key, for an
/// unknown or misplaced key, or at the enclosing mapping, for a missing key). They are nil only
/// when the problem has no place in the text (an unreadable file). `message` always says what
/// was expected and what was found.
public struct SweepFileDiagnostic: Sendable, Hashable, CustomStringConvertible {
    /// Errors make the file invalid; warnings are printed and the file is used.
    public enum Severity: String, Sendable, Hashable {
        case error, warning
    }

    public var severity: Severity
    /// Dotted path of the key concerned, as written in the file (`parameters.opt.parameters.lr.min`);
    /// empty for the whole file.
    public var keyPath: String
    /// The file name given to the parser (used only for rendering).
    public var file: String
    public var line: Int?
    public var column: Int?
    /// What was expected and what was found, without the key path or the place.
    public var message: String
    /// The `--set` argument (`KEY=VALUE`) the problem comes from, when it is not the file's own
    /// text; `description` then names it instead of a file line.
    public var override: String?

    public init(severity: Severity, keyPath: String, file: String, line: Int?, column: Int?, message: String) {
        self.severity = severity; self.keyPath = keyPath; self.file = file
        self.line = line; self.column = column; self.message = message
    }

    /// `file:line:column`, or just `file` when the problem has no place in the text.
    public var location: String {
        guard let line, let column else { return file }
        return "\(file):\(line):\(column)"
    }

    public var description: String {
        if let override {
            return keyPath.isEmpty ? "--set \(override): \(message)" : "--set \(override): \(keyPath) \(message)"
        }
        return keyPath.isEmpty ? "\(message) at \(location)" : "\(keyPath) \(message) at \(location)"
    }
}

/// Every error of a sweep file that could not be used, in file order, with the warnings found
/// alongside them. Never empty: a parse that finds no error succeeds.
public struct SweepFileErrors: Error, Sendable, Hashable, CustomStringConvertible {
    /// At least one; sorted by line and column (place-less ones first).
    public var errors: [SweepFileDiagnostic]
    public var warnings: [SweepFileDiagnostic]

    public init(errors: [SweepFileDiagnostic], warnings: [SweepFileDiagnostic] = []) {
        self.errors = errors; self.warnings = warnings
    }

    /// One error per line.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// A sweep file that passed validation: its spec, and the warnings to show the user.
public struct ParsedSweepFile: Sendable, Hashable {
    public var spec: SweepSpec
    /// Unknown-but-harmless keys, duplicate values, settings W&B accepts but that do nothing;
    /// sorted by line and column.
    public var warnings: [SweepFileDiagnostic]

    public init(spec: SweepSpec, warnings: [SweepFileDiagnostic] = []) {
        self.spec = spec; self.warnings = warnings
    }
}
