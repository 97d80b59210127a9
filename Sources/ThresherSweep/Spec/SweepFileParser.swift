import Foundation
import Yams

/// Reads a sweep file in the Weights & Biases format (YAML, or JSON, which is YAML) into a
/// validated `SweepSpec`.
///
/// Guarantees:
/// - **All errors at once.** Every problem the file has is reported in one `SweepFileErrors`,
///   each with its key path, line:column, what was expected and what was found. Only a YAML
///   syntax error stops the reading early (there is no tree to check after it).
/// - **W&B files parse unchanged.** Every key of W&B's sweep schema is understood or accepted
///   silently (see `ignoredWandBKeys`); other unknown top-level keys are warnings; a near miss
///   of a known key (`distrbution`, `Method`) is an error with "did you mean".
/// - **A returned spec is consistent**: bounds ordered, probabilities summing to 1, only
///   grid-enumerable parameters under `method: grid`, a metric whenever a policy or bayes needs one.
///
/// Pure: no I/O except in `parse(contentsOf:)`, which only reads the file.
public enum SweepFileParser {
    /// The top-level keys Thresher interprets.
    public static let topLevelKeys = ["method", "parameters", "metric", "early_terminate", "run_cap", "program",
                                      "command", "name", "description", "randomize_order", "thresher"]
    /// Top-level keys of W&B's sweep schema that Thresher accepts and ignores.
    public static let ignoredWandBKeys = ["apiVersion", "kind", "controller", "entity", "project", "job", "image_uri"]
    /// Largest sweep file read, in bytes (1 MiB): sweep files are hand-written and small; this
    /// bounds what a client's `SubmitSweep` makes the coordinator parse and store.
    public static let maxFileBytes = 1 << 20
    /// Keys of `metric:`; `impute` and `impute_while_running` are W&B's, checked and ignored.
    public static let metricKeys = ["name", "goal", "target", "impute", "impute_while_running"]

    /// Parses and validates `text`; `fileName` is used only in diagnostics.
    public static func parse(_ text: String, fileName: String) throws(SweepFileErrors) -> ParsedSweepFile {
        let reader = SweepFileReader(file: fileName)
        let spec = compose(text, reader: reader).flatMap(reader.sweepSpec)
        return try finish(spec, reader: reader, fileName: fileName)
    }

    /// Reads the file at `path` and parses it; an unreadable file is one error naming the path.
    public static func parse(contentsOf path: String) throws(SweepFileErrors) -> ParsedSweepFile {
        try parse(try readText(contentsOf: path), fileName: path)
    }

    /// The file's text; an unreadable file is one error naming the path.
    static func readText(contentsOf path: String) throws(SweepFileErrors) -> String {
        func unreadable(_ reason: String) -> SweepFileErrors {
            SweepFileErrors(errors: [SweepFileDiagnostic(severity: .error, keyPath: "", file: path, line: nil, column: nil,
                                                         message: "cannot read the sweep file: \(reason)")])
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw unreadable("no such file")
        }
        guard !isDirectory.boolValue else { throw unreadable("it is a directory") }
        // Checked before reading, so a huge file (or a device) is never read into memory.
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber,
           size.int64Value > Int64(maxFileBytes) {
            throw unreadable("it is \(size.int64Value) bytes; a sweep file may have at most \(maxFileBytes) (1 MiB)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw unreadable("permission denied or I/O error") }
        guard let text = String(data: data, encoding: .utf8) else { throw unreadable("it is not UTF-8 text") }
        return text
    }

    /// The reader's verdict on `spec`: its diagnostics (each passed through `attribute` first, then
    /// sorted by place, place-less ones first) thrown when there is an error, else the spec.
    static func finish(_ spec: SweepSpec?, reader: SweepFileReader, fileName: String,
                       attribute: (inout SweepFileDiagnostic) -> Void = { _ in }) throws(SweepFileErrors) -> ParsedSweepFile {
        let diagnostics = reader.diagnostics.map { diagnostic in
            var diagnostic = diagnostic
            attribute(&diagnostic)
            return diagnostic
        }.enumerated().sorted { lhs, rhs in
            let l = (lhs.element.line ?? 0, lhs.element.column ?? 0), r = (rhs.element.line ?? 0, rhs.element.column ?? 0)
            return l != r ? l < r : lhs.offset < rhs.offset
        }.map(\.element)
        let errors = diagnostics.filter { $0.severity == .error }
        let warnings = diagnostics.filter { $0.severity == .warning }
        guard let spec, errors.isEmpty else {
            throw SweepFileErrors(errors: errors.isEmpty ? [internalFailure(fileName)] : errors, warnings: warnings)
        }
        return ParsedSweepFile(spec: spec, warnings: warnings)
    }

    /// The YAML tree, or nil after recording why there is none.
    static func compose(_ text: String, reader: SweepFileReader) -> Node? {
        guard text.utf8.count <= maxFileBytes else {
            reader.record(.error, "", line: nil, column: nil,
                          "the file is \(text.utf8.count) bytes; a sweep file may have at most \(maxFileBytes) (1 MiB)")
            return nil
        }
        do {
            if let root = try Yams.compose(yaml: text) { return root }
            reader.record(.error, "", line: 1, column: 1,
                          "the file is empty (expected a mapping with at least method and parameters)")
        } catch let error as YamlError {
            switch error {
            case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
                 let .composer(context, problem, mark, _):
                let while_ = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
                reader.record(.error, "", mark, "the file is not valid YAML: \(problem)\(while_)")
            case let .duplicatedKeysInMapping(duplicates, context):
                let keys = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
                // Yams places the error at the first repeated key in its own order, which is not a
                // total order when a key is not a scalar ("<uncovertable>") or two keys read alike
                // (1 and "1"): the line then changed from run to run (found by fuzzing). Those
                // cases get no line, so the same file always gets the same message.
                let ambiguous = duplicates.contains("<uncovertable>") || Set(duplicates).count != duplicates.count
                reader.record(.error, "", ambiguous ? nil : context.mark,
                              "a mapping repeats the key(s) \(keys) (each key may appear once per mapping)")
            default:
                reader.record(.error, "", nil, "the file cannot be read as YAML: \(error)")
            }
        } catch {
            reader.record(.error, "", nil, "the file cannot be read as YAML: \(error)")
        }
        return nil
    }

    private static func internalFailure(_ file: String) -> SweepFileDiagnostic {
        SweepFileDiagnostic(severity: .error, keyPath: "", file: file, line: nil, column: nil,
                            message: "the sweep file could not be interpreted")
    }
}

/// The top level, `metric:` and `command:`.
extension SweepFileReader {
    func sweepSpec(_ root: Node) -> SweepSpec? {
        guard let entries = mapping(root, path: "", expected: "a mapping of sweep settings (method, parameters, …)")
        else { return nil }
        checkKeys(entries, known: SweepFileParser.topLevelKeys, accepted: SweepFileParser.ignoredWandBKeys,
                  unknownIsWarning: true, context: "a sweep file")
        var byKey: [String: YAMLEntry] = [:]
        for entry in entries where byKey[entry.key] == nil { byKey[entry.key] = entry }

        let method = byKey["method"].flatMap(searchMethod)
        if byKey["method"] == nil { error("method", at: root, "is missing (expected grid, random or bayes)") }
        var spec = SweepSpec(method: method ?? .random, parameters: [])
        if let entry = byKey["parameters"] {
            spec.parameters = parameters(entry.value, path: entry.path, method: method) ?? []
            checkNesting(spec.parameters, entry: entry)
        } else {
            error("parameters", at: root, "is missing (expected a mapping of the parameters to sweep)")
        }
        if let entry = byKey["metric"] { spec.metric = metric(entry.value, path: entry.path) }
        if let entry = byKey["early_terminate"] {
            spec.earlyTerminate = earlyTerminate(entry.value, path: entry.path)
            if byKey["metric"] == nil {
                error(entry.path, at: entry.keyNode, "needs a metric to compare trials; add metric: {name: …, goal: …}")
            }
        }
        if method == .bayes, byKey["metric"] == nil, let entry = byKey["method"] {
            error(entry.path, at: entry.value, "bayes needs a metric to model; add metric: {name: …, goal: …}")
        }
        if let entry = byKey["run_cap"] { spec.runCap = int(entry.value, path: entry.path, minimum: 1) }
        if let entry = byKey["name"] { spec.name = text(entry.value, path: entry.path) }
        if let entry = byKey["description"] { spec.description = text(entry.value, path: entry.path) }
        if let entry = byKey["program"] { spec.program = text(entry.value, path: entry.path) }
        if let entry = byKey["command"] { spec.command = command(entry, hasProgram: byKey["program"] != nil) }
        if let entry = byKey["randomize_order"], let randomize = bool(entry.value, path: entry.path) {
            spec.randomizeOrder = randomize
            if randomize, let method, method != .grid {
                warning(entry.path, at: entry.keyNode, "has an effect only with method: grid (found \(method.rawValue))")
            }
        }
        if let entry = byKey["thresher"], let settings = thresherSettings(entry.value, path: entry.path) {
            spec.thresher = settings
        }
        return hasErrors ? nil : spec
    }

    private func searchMethod(_ entry: YAMLEntry) -> SearchMethod? {
        if entry.value.scalar?.string == "custom" {
            error(entry.path, at: entry.value, "must be grid, random or bayes (found 'custom': W&B's custom "
                + "controllers are not supported)")
            return nil
        }
        return choice(entry.value, path: entry.path, among: SearchMethod.allCases.map(\.rawValue))
            .flatMap(SearchMethod.init(rawValue:))
    }

    private func metric(_ node: Node, path: String) -> MetricSpec? {
        guard let entries = mapping(node, path: path) else { return nil }
        checkKeys(entries, known: SweepFileParser.metricKeys, context: "metric")
        var name: String?, goal = MetricGoal.minimize, target: Double?
        var failed = hasUnknownKey(entries, known: SweepFileParser.metricKeys)
        for entry in entries {
            switch entry.key {
            case "name":
                name = text(entry.value, path: entry.path)
                if name?.isEmpty == true { error(entry.path, at: entry.value, "must not be empty"); failed = true }
            case "goal":
                let choice = choice(entry.value, path: entry.path, among: MetricGoal.allCases.map(\.rawValue))
                if let parsed = choice.flatMap(MetricGoal.init(rawValue:)) { goal = parsed } else { failed = true }
            case "target":
                target = number(entry.value, path: entry.path); failed = failed || target == nil
            case "impute":
                failed = choice(entry.value, path: entry.path, among: ["latest", "best", "worst"]) == nil || failed
            case "impute_while_running":
                // W&B's schema says the string "false"; YAML makes a plain `false` a boolean.
                if entry.value.resolvedTagName == .bool, entry.value.bool == false { continue }
                failed = choice(entry.value, path: entry.path, among: ["latest", "best", "worst", "false"]) == nil || failed
            default:
                break
            }
        }
        guard entries.contains(where: { $0.key == "name" }) else {
            error(path, at: node, "needs name (the metric the sweep optimises)")
            return nil
        }
        guard let name, !failed else { return nil }
        return MetricSpec(name: name, goal: goal, target: target)
    }

    /// The command list, elements kept as written; whole-element macros checked.
    private func command(_ entry: YAMLEntry, hasProgram: Bool) -> [String]? {
        guard let nodes = sequence(entry.value, path: entry.path, expected: "a list of command-line elements")
        else { return nil }
        var elements: [String] = []
        for (index, node) in nodes.enumerated() {
            let path = "\(entry.path)[\(index)]"
            guard case let .scalar(scalar) = node else {
                error(path, at: node, "must be a string (found \(describe(node)))")
                continue
            }
            checkMacros(scalar.string, node: node, path: path, hasProgram: hasProgram)
            elements.append(scalar.string)
        }
        // W&B runs its default command for an empty list (`command or DEFAULT`); so does Thresher.
        return elements.isEmpty ? nil : elements
    }

    private func checkMacros(_ element: String, node: Node, path: String, hasProgram: Bool) {
        for name in CommandMacro.environmentVariableNames(in: element) where !CommandMacro.isValidVariableName(name) {
            error(path, at: node, "has ${envvar:\(name)}, which is not an environment variable name (letters, digits, _)")
        }
        guard let name = CommandMacro.wholeElementMacroName(element) else { return }
        if name.hasPrefix("envvar:") { return }
        guard let macro = CommandMacro(rawValue: name) else {
            let known = CommandMacro.allCases.map(\.rawValue)
            if let guess = KeySuggestion.nearMiss(of: name, among: known) {
                error(path, at: node, "is not a command macro (found ${\(name)}); did you mean ${\(guess)}?")
            } else {
                warning(path, at: node, "is not a command macro (found ${\(name)}); W&B drops it from the command, and so does Thresher")
            }
            return
        }
        if macro == .program, !hasProgram {
            error(path, at: node, "uses ${program}, but the file has no program key")
        }
    }
}
