import Foundation
import Yams

/// `--set KEY=VALUE` overrides of a sweep file, applied to its YAML tree before the file is
/// validated, so an overridden value is checked exactly as if it had been written in the file.
///
/// Guarantees:
/// - **Same validation.** The parser judges the overridden tree; a problem in a value that came
///   from an override is reported with the override (`--set thresher.engine.dat=x: …; did you
///   mean 'data'?`) instead of a file line.
/// - **Paths.** Values of the engine's path keys (`TrialProgram.enginePathKeys`) given on the
///   command line are relative to `workingDirectory` (the user's current folder) and are made
///   absolute here; paths written in the file stay relative to the file's folder.
/// - **Structure.** A missing key (and any missing mapping above it) is created; descending into a
///   scalar or a list is an error naming the override. Later overrides win over earlier ones.
/// - **Identity.** `EffectiveSweepFile.text` is the YAML the sweep really runs (the file itself
///   when there are no overrides), checked to parse back to the same spec, so a store that keys a
///   sweep by its text tells `--set epochs=2` from `--set epochs=3`.
/// - Never traps on any argument or file.
public struct SweepOverrides: Sendable, Hashable {
    public var items: [SweepOverride]
    /// The folder relative command-line paths are relative to.
    public var workingDirectory: String

    public var isEmpty: Bool { items.isEmpty }

    /// Parses every argument; all malformed ones are reported together.
    public init(arguments: [String], workingDirectory: String = FileManager.default.currentDirectoryPath) throws(SweepFileErrors) {
        var items: [SweepOverride] = []
        var errors: [SweepFileDiagnostic] = []
        for argument in arguments {
            do { items.append(try SweepOverride.parse(argument)) } catch { errors.append(Self.diagnostic(error)) }
        }
        guard errors.isEmpty else { throw SweepFileErrors(errors: errors) }
        self.items = items
        self.workingDirectory = workingDirectory
    }

    /// Reads the file at `path` and parses it with the overrides applied.
    public func parse(contentsOf path: String) throws(SweepFileErrors) -> EffectiveSweepFile {
        let text = try SweepFileParser.readText(contentsOf: path)
        return try parse(text, fileName: path)
    }

    /// Parses `text` with the overrides applied; `fileName` is used only in diagnostics.
    public func parse(_ text: String, fileName: String) throws(SweepFileErrors) -> EffectiveSweepFile {
        if items.isEmpty { return EffectiveSweepFile(text: text, parsed: try SweepFileParser.parse(text, fileName: fileName)) }
        let reader = SweepFileReader(file: fileName)
        guard var root = SweepFileParser.compose(text, reader: reader) else {
            _ = try SweepFileParser.finish(nil, reader: reader, fileName: fileName)
            throw SweepFileErrors(errors: [])  // not reached: finish throws when there is no spec
        }
        var created: [(override: SweepOverride, path: [String])] = []
        var errors: [SweepFileDiagnostic] = []
        for item in items {
            do {
                let value = try Self.compose(item)
                var anchor: [String]?
                root = try Self.setting(value, at: item.path[...], in: root, walked: [], item: item, createdAt: &anchor)
                root = resolvingPaths(in: root, under: item.path)
                created.append((item, anchor ?? item.path))
            } catch {
                errors.append(Self.diagnostic(error))
            }
        }
        guard errors.isEmpty else { throw SweepFileErrors(errors: errors) }

        let spec = reader.sweepSpec(root)
        let parsed = try SweepFileParser.finish(spec, reader: reader, fileName: fileName) { diagnostic in
            // The last override that wrote the key (or created a mapping above it) owns the problem.
            guard let owner = created.last(where: { Self.isWithin(diagnostic.keyPath, $0.path) }) else { return }
            diagnostic.override = owner.override.argument
            diagnostic.line = nil; diagnostic.column = nil
        }
        let effective: String
        do { effective = try Yams.serialize(node: root) } catch {
            throw SweepFileErrors(errors: [Self.internalError(fileName, "the overridden file cannot be written as YAML: \(error)")])
        }
        // The stored text is what workers and restarts will parse: it must mean the same sweep.
        // (Compared as text too: a `.nan` value is never == itself.)
        guard let reread = try? SweepFileParser.parse(effective, fileName: fileName),
              reread.spec == parsed.spec || String(describing: reread.spec) == String(describing: parsed.spec) else {
            throw SweepFileErrors(errors: [Self.internalError(fileName, "the overridden file does not read back as the same sweep")])
        }
        return EffectiveSweepFile(text: effective, parsed: parsed)
    }

    // MARK: Tree editing

    /// `node` with `value` stored at `path`; `createdAt` gets the first key that did not exist.
    private static func setting(_ value: Node, at path: ArraySlice<String>, in node: Node, walked: [String],
                                item: SweepOverride, createdAt: inout [String]?) throws(SweepOverrideError) -> Node {
        guard let key = path.first else { return value }
        guard case var .mapping(mapping) = node else {
            let place = walked.isEmpty ? "the sweep file" : walked.joined(separator: ".")
            throw SweepOverrideError(argument: item.argument,
                                     message: "\(place) is \(describe(node)), not a mapping, so it has no key '\(key)'")
        }
        let here = walked + [key]
        let index = mapping.firstIndex { $0.key.resolvedTagName != .merge && $0.key.scalar?.string == key }
        var child: Node
        if let index {
            child = mapping[index].value
        } else if let merged = mergedValue(of: key, in: mapping) {
            child = merged  // written explicitly below, so it wins over the merge as YAML says
        } else {
            if createdAt == nil { createdAt = here }
            child = Node.mapping(Node.Mapping([]))
        }
        let updated = try setting(value, at: path.dropFirst(), in: child, walked: here, item: item, createdAt: &createdAt)
        if let index {
            mapping[index] = (key: mapping[index].key, value: updated)
            return .mapping(mapping)
        }
        var pairs = Array(mapping).map { ($0.key, $0.value) }
        pairs.append((Node(key), updated))
        return .mapping(Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark))
    }

    /// The value a `<<` merge gives `key`, the first source first (as `SweepFileReader` reads merges).
    private static func mergedValue(of key: String, in mapping: Node.Mapping) -> Node? {
        func search(_ source: Node) -> Node? {
            switch source {
            case .mapping(let inner):
                if let hit = inner.first(where: { $0.key.resolvedTagName != .merge && $0.key.scalar?.string == key }) {
                    return hit.value
                }
                return mergedValue(of: key, in: inner)
            case .sequence(let sources):
                for source in sources { if let hit = search(source) { return hit } }
                return nil
            default:
                return nil
            }
        }
        for pair in mapping where pair.key.resolvedTagName == .merge {
            if let hit = search(pair.value) { return hit }
        }
        return nil
    }

    /// Makes the engine path keys that the override at `path` wrote absolute against `workingDirectory`.
    private func resolvingPaths(in root: Node, under path: [String]) -> Node {
        var root = root
        for key in TrialProgram.enginePathKeys {
            let target = ["thresher", "engine", key]
            guard path.count <= target.count, Array(target.prefix(path.count)) == path else { continue }
            guard case let .scalar(scalar)? = Self.node(at: target[...], in: root),
                  Node.scalar(scalar).resolvedTagName == .str, !scalar.string.isEmpty, !scalar.string.hasPrefix("/")
            else { continue }
            let absolute = URL(fileURLWithPath: scalar.string, relativeTo: URL(fileURLWithPath: workingDirectory, isDirectory: true))
                .standardizedFileURL.path
            var replaced = scalar
            replaced.string = absolute
            var ignored: [String]?
            let item = SweepOverride(argument: "", path: target, valueText: "")
            if let updated = try? Self.setting(.scalar(replaced), at: target[...], in: root, walked: [], item: item,
                                                createdAt: &ignored) {
                root = updated
            }
        }
        return root
    }

    private static func node(at path: ArraySlice<String>, in node: Node) -> Node? {
        guard let key = path.first else { return node }
        guard case let .mapping(mapping) = node,
              let child = mapping.first(where: { $0.key.resolvedTagName != .merge && $0.key.scalar?.string == key })?.value
        else { return nil }
        return Self.node(at: path.dropFirst(), in: child)
    }

    // MARK: Values and messages

    /// The override's value as a YAML node; empty text is null, as `key:` is in a file.
    private static func compose(_ item: SweepOverride) throws(SweepOverrideError) -> Node {
        do {
            if let node = try Yams.compose(yaml: item.valueText) { return node }
            return Node("null", Tag(.null))
        } catch let error as YamlError {
            let problem: String
            switch error {
            case let .scanner(_, text, _, _), let .parser(_, text, _, _), let .composer(_, text, _, _): problem = text
            case .duplicatedKeysInMapping(let keys, _): problem = "a mapping repeats the key(s) \(keys.sorted().joined(separator: ", "))"
            default: problem = "\(error)"
            }
            throw SweepOverrideError(argument: item.argument, message: "the value is not valid YAML (\(problem))")
        } catch {
            throw SweepOverrideError(argument: item.argument, message: "the value is not valid YAML (\(error))")
        }
    }

    /// True when `keyPath` names `path` or something inside it.
    static func isWithin(_ keyPath: String, _ path: [String]) -> Bool {
        let prefix = path.joined(separator: ".")
        return keyPath == prefix || keyPath.hasPrefix(prefix + ".") || keyPath.hasPrefix(prefix + "[")
    }

    private static func describe(_ node: Node) -> String {
        SweepFileReader(file: "").describe(node)
    }

    private static func diagnostic(_ error: SweepOverrideError) -> SweepFileDiagnostic {
        var diagnostic = SweepFileDiagnostic(severity: .error, keyPath: "", file: "", line: nil, column: nil, message: error.message)
        diagnostic.override = error.argument
        return diagnostic
    }

    private static func internalError(_ file: String, _ message: String) -> SweepFileDiagnostic {
        SweepFileDiagnostic(severity: .error, keyPath: "", file: file, line: nil, column: nil, message: message)
    }
}

/// A sweep file after `--set` overrides: the YAML it really runs and its validated spec.
public struct EffectiveSweepFile: Sendable, Hashable {
    /// The file's text when there were no overrides; otherwise the overridden tree written as YAML
    /// (comments are not kept). This is the text to store and to compare when resubmitting.
    public var text: String
    public var parsed: ParsedSweepFile

    public init(text: String, parsed: ParsedSweepFile) {
        self.text = text; self.parsed = parsed
    }
}
