import Yams

/// `early_terminate:` — W&B's hyperband, and Thresher's own asha and median policies.
extension SweepFileReader {
    static let earlyTerminateTypes = ["hyperband", "asha", "median"]

    func earlyTerminate(_ node: Node, path: String) -> EarlyTerminateSpec? {
        guard let entries = mapping(node, path: path) else { return nil }
        guard let typeEntry = entries.first(where: { $0.key == "type" }) else {
            error(path, at: node, "needs type: hyperband, asha or median (found \(entries.isEmpty ? "an empty mapping" : "no type"))")
            return nil
        }
        guard let type = choice(typeEntry.value, path: typeEntry.path, among: Self.earlyTerminateTypes) else { return nil }
        switch type {
        case "hyperband": return hyperband(entries, node: node, path: path).map(EarlyTerminateSpec.hyperband)
        case "asha": return asha(entries, node: node, path: path).map(EarlyTerminateSpec.asha)
        default: return median(entries, path: path).map(EarlyTerminateSpec.median)
        }
    }

    private func hyperband(_ entries: [YAMLEntry], node: Node, path: String) -> HyperbandSpec? {
        checkKeys(entries, known: ["type", "min_iter", "max_iter", "s", "eta", "strict"], context: "hyperband early_terminate")
        var spec = HyperbandSpec()
        var failed = hasUnknownKey(entries, known: ["type", "min_iter", "max_iter", "s", "eta", "strict"])
        var sNode: Node?
        for entry in entries {
            switch entry.key {
            case "min_iter": spec.minIter = int(entry.value, path: entry.path, minimum: 1); failed = failed || spec.minIter == nil
            case "max_iter": spec.maxIter = int(entry.value, path: entry.path, minimum: 1); failed = failed || spec.maxIter == nil
            case "s": spec.s = int(entry.value, path: entry.path, minimum: 1); sNode = entry.value; failed = failed || spec.s == nil
            case "eta":
                if let eta = number(entry.value, path: entry.path) {
                    if eta > 1 { spec.eta = eta } else {
                        error(entry.path, at: entry.value, "must be > 1 (found \(entry.value.scalar?.string ?? "\(eta)"))")
                        failed = true
                    }
                } else { failed = true }
            case "strict":
                if let strict = bool(entry.value, path: entry.path) { spec.strict = strict } else { failed = true }
            default: break
            }
        }
        // W&B's precedence: max_iter with s gives the bands; otherwise min_iter does.
        let has = Set(entries.map(\.key))
        let fromMaxIter = has.contains("max_iter")
        if fromMaxIter, !has.contains("s") {
            error(path, at: node, "needs s (the number of bands) with max_iter for hyperband")
            return nil
        }
        if !fromMaxIter, !has.contains("min_iter") {
            error(path, at: node, "needs max_iter with s, or min_iter, for hyperband (found neither)")
            return nil
        }
        if fromMaxIter, has.contains("min_iter") {
            warning(Self.join(path, "min_iter"), at: entries.first { $0.key == "min_iter" }?.keyNode,
                    "is ignored: with max_iter and s given, W&B and Thresher take the bands from those")
        } else if !fromMaxIter, let ignored = entries.first(where: { $0.key == "s" }) {
            warning(ignored.path, at: ignored.keyNode, "is ignored without max_iter: the bands come from min_iter, as in W&B")
        }
        if failed { return nil }
        return checkBands(spec, path: path, sNode: sNode, maxIterNode: entries.first { $0.key == "max_iter" }?.value) ? spec : nil
    }

    /// W&B divides max_iter by eta s times and drops the bands below one iteration: a warning
    /// when some are dropped, an error (as in W&B) when none is left.
    private func checkBands(_ spec: HyperbandSpec, path: String, sNode: Node?, maxIterNode: Node?) -> Bool {
        guard let maxIter = spec.maxIter, let s = spec.s else { return true }
        let bands = HyperbandStopping.bands(for: spec, limit: .max)
        guard bands.count < s else { return true }
        guard !bands.isEmpty else {
            error(Self.join(path, "max_iter"), at: maxIterNode, "\(maxIter) with eta \(spec.eta.cleanDescription) gives no band of at "
                + "least one iteration (max_iter / eta < 1); raise max_iter or lower eta")
            return false
        }
        let shown = bands.map(String.init).joined(separator: ", ")
        warning(Self.join(path, "s"), at: sNode,
                "is \(s), but max_iter \(maxIter) with eta \(spec.eta.cleanDescription) gives only \(bands.count) "
                    + "band(s) of at least one iteration ([\(shown)]); the other \(s - bands.count) are dropped, as in W&B")
        return true
    }

    private func asha(_ entries: [YAMLEntry], node: Node, path: String) -> ASHASpec? {
        let known = ["type", "grace_period", "reduction_factor", "max_t", "brackets"]
        checkKeys(entries, known: known, context: "asha early_terminate")
        var failed = hasUnknownKey(entries, known: known)
        var grace = 1, factor = 3.0, brackets = 1
        var maxT: Int?
        var maxTNode: Node?
        for entry in entries {
            switch entry.key {
            case "grace_period":
                if let value = int(entry.value, path: entry.path, minimum: 1) { grace = value } else { failed = true }
            case "reduction_factor":
                if let value = number(entry.value, path: entry.path) {
                    if value > 1 { factor = value } else {
                        error(entry.path, at: entry.value, "must be > 1 (found \(entry.value.scalar?.string ?? "\(value)"))")
                        failed = true
                    }
                } else { failed = true }
            case "max_t":
                maxT = int(entry.value, path: entry.path, minimum: 1); maxTNode = entry.value; failed = failed || maxT == nil
            case "brackets":
                if let value = int(entry.value, path: entry.path, minimum: 1) { brackets = value } else { failed = true }
            default: break
            }
        }
        guard let maxT else {
            if maxTNode == nil { error(path, at: node, "needs max_t (the most iterations a trial may run) for asha") }
            return nil
        }
        if maxT < grace {
            error(Self.join(path, "max_t"), at: maxTNode, "must be ≥ grace_period (\(maxT) < \(grace))")
            return nil
        }
        return failed ? nil : ASHASpec(gracePeriod: grace, reductionFactor: factor, maxT: maxT, brackets: brackets)
    }

    private func median(_ entries: [YAMLEntry], path: String) -> MedianStoppingSpec? {
        let known = ["type", "warmup_steps", "min_trials"]
        checkKeys(entries, known: known, context: "median early_terminate")
        var failed = hasUnknownKey(entries, known: known)
        var spec = MedianStoppingSpec()
        for entry in entries {
            switch entry.key {
            case "warmup_steps":
                if let value = int(entry.value, path: entry.path, minimum: 0) { spec.warmupSteps = value } else { failed = true }
            case "min_trials":
                if let value = int(entry.value, path: entry.path, minimum: 1) { spec.minTrials = value } else { failed = true }
            default: break
            }
        }
        return failed ? nil : spec
    }

    func hasUnknownKey(_ entries: [YAMLEntry], known: [String]) -> Bool {
        entries.contains { !known.contains($0.key) }
    }
}

fileprivate extension Double {
    /// `3` for 3.0, `2.5` for 2.5: numbers in messages as a person writes them.
    var cleanDescription: String {
        rounded() == self && abs(self) < 1e15 ? String(Int64(self)) : "\(self)"
    }
}
