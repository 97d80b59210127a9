import Yams

/// The top-level `thresher:` block: settings W&B never sees.
extension SweepFileReader {
    static let thresherKeys = ["seed", "slots", "retention", "engine"]
    static let retentionKeys = ["keep_top_k", "keep_top_k_per_trial", "keep_latest_per_trial", "max_bytes"]

    func thresherSettings(_ node: Node, path: String) -> ThresherSettings? {
        guard let entries = mapping(node, path: path) else { return nil }
        checkKeys(entries, known: Self.thresherKeys, context: "the thresher block")
        var settings = ThresherSettings()
        var failed = hasUnknownKey(entries, known: Self.thresherKeys)
        for entry in entries {
            switch entry.key {
            case "seed":
                if let seed = integer(entry.value, path: entry.path, minimum: 0) { settings.seed = UInt64(seed) } else { failed = true }
            case "slots":
                if let slots = int(entry.value, path: entry.path, minimum: 1) { settings.slots = slots } else { failed = true }
            case "retention":
                if let retention = retention(entry.value, path: entry.path) { settings.retention = retention } else { failed = true }
            case "engine":
                guard case .mapping = entry.value else {
                    error(entry.path, at: entry.value, "must be a mapping of engine settings (found \(describe(entry.value)))")
                    failed = true
                    continue
                }
                if checkEngine(entry.value, path: entry.path), case let .map(engine)? = value(entry.value, path: entry.path) {
                    settings.engine = engine
                } else {
                    failed = true
                }
            default:
                break
            }
        }
        return failed ? nil : settings
    }

    /// The engine block as `TrialProgram` will read it, checked here so `sweep validate` reports
    /// each problem at its line: `model` and `data` required strings, path keys strings,
    /// `epochs`/`max_steps` whole numbers ≥ 0, no near miss of those keys (`dat`, `epoch`) and no
    /// maps among the fixed params.
    private func checkEngine(_ node: Node, path: String) -> Bool {
        guard let entries = mapping(node, path: path) else { return false }
        var ok = true
        for required in ["model", "data"] where !entries.contains(where: { $0.key == required }) {
            error(Self.join(path, required), at: node, "is required (\(required == "model" ? "mlp, gru-classifier or pair-classifier" : "the data file or folder, relative to the sweep file"))")
            ok = false
        }
        for entry in entries {
            switch entry.key {
            case "model", "data", "embeddings", "cache_dir":
                guard case let .scalar(scalar) = entry.value, entry.value.resolvedTagName == .str, !scalar.string.isEmpty else {
                    error(entry.path, at: entry.value, "must be a non-empty string (found \(describe(entry.value)))")
                    ok = false
                    continue
                }
            case "epochs", "max_steps":
                if int(entry.value, path: entry.path, minimum: 0) == nil { ok = false }
            default:
                // Other keys are the engine's own params, judged by `thresher train`; but a near miss
                // of a flag (`dat`, `epoch`) would silently leave the flag at its default.
                // (`n_epochs`, `max_epochs` are the engine's own names for epochs, not typos.)
                if !["n_epochs", "max_epochs"].contains(entry.key),
                   let guess = KeySuggestion.nearMiss(of: entry.key, among: TrialProgram.engineFlags) {
                    error(entry.path, at: entry.keyNode, "is not an engine key; did you mean '\(guess)'?")
                    ok = false
                } else if case .mapping = entry.value {
                    error(entry.path, at: entry.value, "is a mapping; engine params are numbers, booleans, strings or lists")
                    ok = false
                }
            }
        }
        return ok
    }

    private func retention(_ node: Node, path: String) -> RetentionSettings? {
        guard let entries = mapping(node, path: path) else { return nil }
        checkKeys(entries, known: Self.retentionKeys, context: "thresher.retention")
        var retention = RetentionSettings()
        var failed = hasUnknownKey(entries, known: Self.retentionKeys)
        for entry in entries {
            switch entry.key {
            case "keep_top_k":
                if let k = int(entry.value, path: entry.path, minimum: 0) { retention.keepTopK = k } else { failed = true }
            case "keep_top_k_per_trial":
                if let k = int(entry.value, path: entry.path, minimum: 0) { retention.keepTopKPerTrial = k } else { failed = true }
            case "keep_latest_per_trial":
                if let keep = bool(entry.value, path: entry.path) { retention.keepLatestPerTrial = keep } else { failed = true }
            case "max_bytes":
                if let bytes = maxBytes(entry.value, path: entry.path) { retention.maxBytes = bytes } else { failed = true }
            default:
                break
            }
        }
        return failed ? nil : retention
    }

    /// A positive integer (bytes), or a string with a unit (`2GB`, `500MiB`; see `ByteCount`).
    private func maxBytes(_ node: Node, path: String) -> Int64? {
        let units = ByteCount.units.map(\.name).joined(separator: ", ")
        guard case let .scalar(scalar) = node, node.resolvedTagName == .int || node.resolvedTagName == .str else {
            error(path, at: node, "must be a byte count such as 2GB or 500MiB (found \(describe(node)))")
            return nil
        }
        switch ByteCount.parse(scalar.string) {
        case let .success(bytes):
            return bytes
        case .failure(.unknownUnit(let unit)):
            error(path, at: node, "has an unknown unit '\(unit)' (expected one of \(units))")
        case .failure(.notPositive):
            error(path, at: node, "must be at least one byte (found \(scalar.string))")
        case .failure(.tooLarge):
            error(path, at: node, "is too large (found \(scalar.string); at most 8 EB)")
        case .failure(.malformed):
            error(path, at: node, "must be a byte count such as 2GB or 500MiB (found '\(scalar.string)')")
        }
        return nil
    }
}
