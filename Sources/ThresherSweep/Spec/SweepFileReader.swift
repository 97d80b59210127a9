import ThresherWire
import Yams

/// One `key: value` pair of a YAML mapping, with the key's dotted path.
struct YAMLEntry {
    let key: String
    let keyNode: Node
    let value: Node
    let path: String
}

/// The typed, diagnosing view of a composed YAML tree that the sweep-file parsers share.
///
/// Every accessor either returns a value or records an error at the node's line:column and
/// returns nil, so a parser keeps going and the user sees every problem at once. Scalars are typed
/// by Yams' YAML 1.1 resolver (see `docs/sweep-file.md`, "YAML typing"): quoted scalars are
/// strings; plain `1e-3` is a float; `yes`/`no`/`on`/`off` are booleans, as in PyYAML.
final class SweepFileReader {
    let file: String
    private(set) var diagnostics: [SweepFileDiagnostic] = []

    init(file: String) { self.file = file }

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    // MARK: Diagnostics

    func error(_ path: String, at node: Node?, _ message: String) {
        record(.error, path, node?.mark, message)
    }

    func warning(_ path: String, at node: Node?, _ message: String) {
        record(.warning, path, node?.mark, message)
    }

    func record(_ severity: SweepFileDiagnostic.Severity, _ path: String, _ mark: Mark?, _ message: String) {
        record(severity, path, line: mark?.line, column: mark?.column, message)
    }

    func record(_ severity: SweepFileDiagnostic.Severity, _ path: String, line: Int?, column: Int?, _ message: String) {
        diagnostics.append(SweepFileDiagnostic(severity: severity, keyPath: path, file: file,
                                               line: line, column: column, message: message))
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    // MARK: Structure

    /// The entries of a mapping in file order (merge keys `<<` applied), or nil after an error.
    func mapping(_ node: Node, path: String, expected: String = "a mapping") -> [YAMLEntry]? {
        guard case let .mapping(mapping) = node else {
            error(path, at: node, "must be \(expected) (found \(describe(node)))")
            return nil
        }
        var entries: [YAMLEntry] = []
        var merged: [YAMLEntry] = []
        for (keyNode, value) in mapping {
            if keyNode.resolvedTagName == .merge {
                merged += mergeSources(value, path: path)
                continue
            }
            let key = keyNode.scalar?.string ?? describe(keyNode)
            entries.append(YAMLEntry(key: key, keyNode: keyNode, value: value, path: Self.join(path, key)))
        }
        // Explicit keys win over merged ones; merged keys keep their source order after them.
        let explicit = Set(entries.map(\.key))
        var seen = Set<String>()
        for entry in merged where !explicit.contains(entry.key) && seen.insert(entry.key).inserted {
            entries.append(YAMLEntry(key: entry.key, keyNode: entry.keyNode, value: entry.value,
                                     path: Self.join(path, entry.key)))
        }
        return entries
    }

    private func mergeSources(_ node: Node, path: String) -> [YAMLEntry] {
        switch node {
        case .mapping: return mapping(node, path: path) ?? []
        case let .sequence(sources): return sources.flatMap { mergeSources($0, path: path) }
        default:
            error(Self.join(path, "<<"), at: node, "must merge a mapping or a list of mappings (found \(describe(node)))")
            return []
        }
    }

    /// The elements of a sequence, or nil after an error.
    func sequence(_ node: Node, path: String, expected: String = "a list") -> [Node]? {
        guard case let .sequence(sequence) = node else {
            error(path, at: node, "must be \(expected) (found \(describe(node)))")
            return nil
        }
        return Array(sequence)
    }

    /// Reports every key of `entries` that is not in `known`. A near miss of a key in `known` or
    /// `accepted` is always an error ("did you mean"); another unknown key is an error, or a
    /// warning when `unknownIsWarning`. Keys in `accepted` are taken silently.
    func checkKeys(_ entries: [YAMLEntry], known: [String], accepted: [String] = [],
                   unknownIsWarning: Bool = false, context: String) {
        for entry in entries where !known.contains(entry.key) && !accepted.contains(entry.key) {
            if let guess = KeySuggestion.nearMiss(of: entry.key, among: known + accepted) {
                error(entry.path, at: entry.keyNode, "is not a known key of \(context); did you mean '\(guess)'?")
            } else if unknownIsWarning {
                warning(entry.path, at: entry.keyNode, "is not a key Thresher or W&B knows in \(context); it is ignored")
            } else {
                error(entry.path, at: entry.keyNode,
                      "is not a known key of \(context) (expected one of \(known.joined(separator: ", ")))")
            }
        }
    }

    // MARK: Scalars

    /// Any node as a typed value: scalars typed as YAML 1.1 does, lists and mappings recursively
    /// (mapping keys as written, in file order).
    func value(_ node: Node, path: String) -> ParamValue? {
        switch node {
        case let .scalar(scalar):
            return scalarValue(scalar, node: node, path: path)
        case let .sequence(sequence):
            var items: [ParamValue] = []
            var failed = false
            for (index, element) in sequence.enumerated() {
                if let item = value(element, path: "\(path)[\(index)]") { items.append(item) } else { failed = true }
            }
            return failed ? nil : .list(items)
        case .mapping:
            guard let entries = mapping(node, path: path) else { return nil }
            var pairs: [(String, ParamValue)] = []
            var failed = false
            for entry in entries {
                if let item = value(entry.value, path: entry.path) { pairs.append((entry.key, item)) } else { failed = true }
            }
            return failed ? nil : .map(ParamMap(entries: pairs))
        case .alias:
            error(path, at: node, "is an unresolved YAML alias")
            return nil
        }
    }

    private func scalarValue(_ scalar: Node.Scalar, node: Node, path: String) -> ParamValue? {
        switch node.resolvedTagName {
        case .null:
            return .null
        case .bool:
            if let bool = Bool.construct(from: scalar) { return .bool(bool) }
        case .int:
            if let int = Int64.construct(from: scalar) { return .int(int) }
            error(path, at: node, "must be an integer between \(Int64.min) and \(Int64.max) (found \(scalar.string))")
            return nil
        case .float:
            if let double = Double.construct(from: scalar) { return .double(double) }
        default:
            break
        }
        if node.resolvedTagName != .str, node.resolvedTagName != .implicit, node.resolvedTagName != .nonSpecific,
           node.resolvedTagName != .timestamp, node.resolvedTagName != .value {
            error(path, at: node, "has tag \(node.resolvedTagName.rawValue) but its text '\(scalar.string)' is not of that type")
            return nil
        }
        return .string(scalar.string)
    }

    /// A number (integer or float), finite.
    func number(_ node: Node, path: String) -> Double? {
        switch node.scalar.flatMap({ scalarValue($0, node: node, path: path) }) {
        case let .int(int)?: return Double(int)
        case let .double(double)? where double.isFinite: return double
        case let .double(double)?:
            error(path, at: node, "must be a finite number (found \(double))")
            return nil
        default:
            error(path, at: node, "must be a number (found \(describe(node)))")
            return nil
        }
    }

    /// An integer ≥ `minimum`. A float with an integral value (`2.0`) is accepted when
    /// `integralFloats`, as W&B's JSON schema does for its integer keys.
    func integer(_ node: Node, path: String, minimum: Int64? = nil, integralFloats: Bool = true) -> Int64? {
        let found: Int64
        switch node.scalar.flatMap({ scalarValue($0, node: node, path: path) }) {
        case let .int(int)?:
            found = int
        case let .double(double)? where integralFloats && double.rounded() == double && abs(double) < 9.0e18:
            found = Int64(double)
        default:
            let bound = minimum.map { $0 == 0 ? "a non-negative integer" : ($0 == 1 ? "a positive integer" : "an integer ≥ \($0)") }
            error(path, at: node, "must be \(bound ?? "an integer") (found \(describe(node)))")
            return nil
        }
        if let minimum, found < minimum {
            let bound = minimum == 0 ? "≥ 0" : (minimum == 1 ? "a positive integer" : "≥ \(minimum)")
            error(path, at: node, "must be \(bound) (found \(found))")
            return nil
        }
        return found
    }

    /// An integer ≥ `minimum` that fits in `Int`.
    func int(_ node: Node, path: String, minimum: Int64? = nil) -> Int? {
        integer(node, path: path, minimum: minimum).flatMap { Int(exactly: $0) }
    }

    func bool(_ node: Node, path: String) -> Bool? {
        if case let .bool(bool)? = node.scalar.flatMap({ scalarValue($0, node: node, path: path) }) { return bool }
        error(path, at: node, "must be true or false (found \(describe(node)))")
        return nil
    }

    /// A scalar's text as written (any scalar but null: `name: 2024` is the name "2024").
    func text(_ node: Node, path: String) -> String? {
        if case let .scalar(scalar) = node, node.resolvedTagName != .null { return scalar.string }
        error(path, at: node, "must be a string (found \(describe(node)))")
        return nil
    }

    /// One of `choices`, with "did you mean" for a near miss.
    func choice(_ node: Node, path: String, among choices: [String]) -> String? {
        let list = choices.joined(separator: ", ")
        guard case let .scalar(scalar) = node, node.resolvedTagName == .str else {
            error(path, at: node, "must be one of \(list) (found \(describe(node)))")
            return nil
        }
        if choices.contains(scalar.string) { return scalar.string }
        if let guess = KeySuggestion.nearMiss(of: scalar.string, among: choices) {
            error(path, at: node, "must be one of \(list) (found '\(scalar.string)'); did you mean '\(guess)'?")
        } else {
            error(path, at: node, "must be one of \(list) (found '\(scalar.string)')")
        }
        return nil
    }

    /// "a list", "a mapping", "null", "the string 'abc'", "the integer 3", … for messages.
    func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case let .scalar(scalar):
            switch node.resolvedTagName {
            case .null: return "null"
            case .bool: return "the boolean \(scalar.string)"
            case .int: return "the integer \(scalar.string)"
            case .float: return "the float \(scalar.string)"
            default: return "the string '\(scalar.string)'"
            }
        }
    }
}

extension Node {
    /// The node's tag after resolution (`tag:yaml.org,2002:int`, …): plain scalars by the YAML 1.1
    /// rules of Yams' default resolver, quoted ones as strings.
    var resolvedTagName: Tag.Name { Tag.Name(rawValue: tag.rawValue) }
}
