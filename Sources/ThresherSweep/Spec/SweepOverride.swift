import Foundation

/// One `--set KEY=VALUE` argument: a dotted key path into the sweep file and a YAML value.
///
/// Guarantees: `parse` never traps; every malformed argument (`=x`, `a..b=1`, no `=`) is a
/// `SweepOverrideError` that quotes the argument. The value is kept as text here and composed as
/// YAML when the override is applied, so `1e-3`, `[1, 2]` and `{min: 0, max: 1}` mean what they
/// mean in the file.
public struct SweepOverride: Sendable, Hashable, CustomStringConvertible {
    /// The argument as the user wrote it (`thresher.engine.epochs=2`), for messages.
    public var argument: String
    /// The key path, one element per dotted segment (`["thresher", "engine", "epochs"]`).
    public var path: [String]
    /// The YAML text after the first `=` (may be empty, which YAML reads as null).
    public var valueText: String

    /// The dotted key path as written (`thresher.engine.epochs`).
    public var keyPath: String { path.joined(separator: ".") }

    public var description: String { "--set \(argument)" }

    /// Splits `KEY=VALUE` at the first `=` (a value may contain `=`).
    public static func parse(_ argument: String) throws(SweepOverrideError) -> SweepOverride {
        guard let equals = argument.firstIndex(of: "=") else {
            throw SweepOverrideError(argument: argument, message: "expected KEY=VALUE, e.g. thresher.engine.epochs=2")
        }
        let key = String(argument[..<equals])
        let value = String(argument[argument.index(after: equals)...])
        guard !key.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw SweepOverrideError(argument: argument, message: "the key before '=' is empty (expected a dotted path such as thresher.engine.data)")
        }
        // Keep the segments as written: a sweep key never has surrounding blanks, and an empty
        // segment (`a..b`, `.a`, `a.`) can only be a typo.
        let path = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if path.contains(where: { $0.isEmpty }) {
            throw SweepOverrideError(argument: argument, message: "the key '\(key)' has an empty segment (expected names separated by single dots)")
        }
        if let padded = path.first(where: { $0.trimmingCharacters(in: .whitespaces) != $0 }) {
            throw SweepOverrideError(argument: argument, message: "the key segment '\(padded)' has leading or trailing blanks")
        }
        return SweepOverride(argument: argument, path: path, valueText: value)
    }
}

/// Why a `--set` argument cannot be used: names the argument and says what was expected.
public struct SweepOverrideError: Error, Sendable, Hashable, CustomStringConvertible {
    public var argument: String
    public var message: String

    public init(argument: String, message: String) {
        self.argument = argument; self.message = message
    }

    /// `--set a..b=1: the key 'a..b' has an empty segment (…)`.
    public var description: String { "--set \(argument): \(message)" }
}
