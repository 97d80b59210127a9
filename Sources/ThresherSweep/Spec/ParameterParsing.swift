import ThresherWire
import Yams

/// `parameters:` blocks: inference of the distribution, per-distribution keys, defaults and bounds.
extension SweepFileReader {
    /// A `parameters:` mapping (top level or nested), in file order; nil after any error in it.
    /// `method` enables the grid check (nil when the method itself is invalid).
    func parameters(_ node: Node, path: String, method: SearchMethod?) -> [ParameterSpec]? {
        guard let entries = mapping(node, path: path, expected: "a mapping of parameter names to parameter blocks")
        else { return nil }
        if entries.isEmpty {
            error(path, at: node, "must define at least one parameter (found an empty mapping)")
            return nil
        }
        var specs: [ParameterSpec] = []
        var failed = false
        for entry in entries {
            checkParameterName(entry)
            if let kind = parameterKind(entry, method: method) {
                specs.append(ParameterSpec(name: entry.key, kind: kind))
            } else {
                failed = true
            }
        }
        return failed ? nil : specs
    }

    /// W&B's schema allows `[A-Za-z_][A-Za-z0-9_.-]*`; anything else may not survive `--name=value`.
    private func checkParameterName(_ entry: YAMLEntry) {
        let allowed = { (c: Character) in c.isASCII && (c.isLetter || c.isNumber || "_.-".contains(c)) }
        guard let first = entry.key.first, first.isASCII, first.isLetter || first == "_", entry.key.allSatisfy(allowed)
        else {
            warning(entry.path, at: entry.keyNode,
                    "is not a parameter name W&B accepts (a letter or _, then letters, digits, _ . -); "
                        + "command-line arguments built from it may not parse")
            return
        }
    }

    private func parameterKind(_ entry: YAMLEntry, method: SearchMethod?) -> ParameterKind? {
        guard case .mapping = entry.value else {
            let hint = entry.value.scalar != nil ? "; for a constant write {value: \(entry.value.scalar?.string ?? "")}" : ""
            error(entry.path, at: entry.value,
                  "must be a parameter block with value, values, min/max, distribution or parameters "
                      + "(found \(describe(entry.value)))\(hint)")
            return nil
        }
        guard let block = mapping(entry.value, path: entry.path) else { return nil }
        var byKey: [String: YAMLEntry] = [:]
        for item in block where byKey[item.key] == nil { byKey[item.key] = item }

        var failed = false
        for item in block where !DistributionName.allKeys.contains(item.key) {
            failed = true
            let guess = KeySuggestion.nearMiss(of: item.key, among: DistributionName.allKeys)
            error(item.path, at: item.keyNode, "is not a parameter key"
                + (guess.map { "; did you mean '\($0)'?" } ?? " (expected \(DistributionName.allKeys.joined(separator: ", ")))"))
        }

        if let nested = byKey["parameters"] {
            for item in block where item.key != "parameters" && DistributionName.allKeys.contains(item.key) {
                error(item.path, at: item.keyNode, "cannot stand beside parameters (a block of nested parameters holds nothing else)")
                failed = true
            }
            let children = parameters(nested.value, path: nested.path, method: method)
            return failed ? nil : children.map(ParameterKind.nested)
        }

        guard let name = distributionName(of: entry, byKey: byKey) else { return nil }
        for item in block where DistributionName.allKeys.contains(item.key) && item.key != "distribution"
            && !name.keys.contains(item.key) {
            error(item.path, at: item.keyNode,
                  "does not apply to a \(name.rawValue) parameter (it takes \(name.keys.joined(separator: ", ")))")
            failed = true
        }
        for key in name.requiredKeys where byKey[key] == nil {
            error(entry.path, at: entry.value, "needs \(key) for a \(name.rawValue) parameter (found \(describeKeys(block)))")
            failed = true
        }
        // The block's own problems (bounds, types) are reported even when grid search cannot use
        // it, so a user fixes the file in one pass.
        let parsed = failed ? nil : kind(name, byKey: byKey, entry: entry)
        if method == .grid, name == .categoricalWithProbabilities {
            error(entry.path, at: byKey["probabilities"]?.keyNode ?? entry.value,
                  "has probabilities, which grid search cannot use (every value is one grid point); remove them")
            return nil
        } else if method == .grid, !name.isGridEnumerable {
            error(entry.path, at: byKey["distribution"]?.value ?? entry.value,
                  "is a \(name.rawValue) distribution, which grid search cannot enumerate; use values: [...]")
            return nil
        }
        return parsed
    }

    /// `distribution:` as written, or inferred as W&B does: values → categorical (with
    /// probabilities → categorical_w_probabilities), value → constant, integer min and max →
    /// int_uniform, other numeric min/max → uniform.
    private func distributionName(of entry: YAMLEntry, byKey: [String: YAMLEntry]) -> DistributionName? {
        if let given = byKey["distribution"] {
            let names = DistributionName.allCases.map(\.rawValue)
            return choice(given.value, path: given.path, among: names).flatMap(DistributionName.init(rawValue:))
        }
        if byKey["values"] != nil { return byKey["probabilities"] != nil ? .categoricalWithProbabilities : .categorical }
        if byKey["value"] != nil { return .constant }
        if let min = byKey["min"], let max = byKey["max"] {
            return min.value.resolvedTagName == .int && max.value.resolvedTagName == .int ? .intUniform : .uniform
        }
        let found = byKey.isEmpty ? "an empty block" : "keys " + byKey.keys.sorted().joined(separator: ", ")
        let hint = byKey["mu"] != nil || byKey["sigma"] != nil ? "; add distribution: normal (or log_normal, …)" : ""
        if byKey["min"] != nil || byKey["max"] != nil {
            error(entry.path, at: entry.value, "needs both min and max (found \(found))")
        } else {
            error(entry.path, at: entry.value,
                  "does not say what to sample: expected value, values, min and max, distribution, or parameters (found \(found))\(hint)")
        }
        return nil
    }

    private func describeKeys(_ block: [YAMLEntry]) -> String {
        block.isEmpty ? "an empty block" : "keys " + block.map(\.key).joined(separator: ", ")
    }

    private func kind(_ name: DistributionName, byKey: [String: YAMLEntry], entry: YAMLEntry) -> ParameterKind? {
        switch name {
        case .constant:
            guard let item = byKey["value"] else { return nil }
            return value(item.value, path: item.path).map(ParameterKind.constant)
        case .categorical, .categoricalWithProbabilities:
            guard let item = byKey["values"], let values = categoricalValues(item) else { return nil }
            guard let weights = byKey["probabilities"] else { return .categorical(values: values, probabilities: nil) }
            return probabilities(weights, count: values.count).map { .categorical(values: values, probabilities: $0) }
        default:
            return distribution(name, byKey: byKey).map(ParameterKind.distribution)
        }
    }

    private func categoricalValues(_ item: YAMLEntry) -> [ParamValue]? {
        guard let nodes = sequence(item.value, path: item.path, expected: "a list of values") else { return nil }
        if nodes.isEmpty {
            error(item.path, at: item.value, "must hold at least one value (found an empty list)")
            return nil
        }
        var values: [ParamValue] = []
        for (index, node) in nodes.enumerated() {
            guard let value = value(node, path: "\(item.path)[\(index)]") else { return nil }
            if let earlier = values.firstIndex(of: value) {
                warning("\(item.path)[\(index)]", at: node,
                        "repeats values[\(earlier)] (\(node.scalar?.string ?? describe(node))); the grid uses it once")
            }
            values.append(value)
        }
        return values
    }

    private func probabilities(_ item: YAMLEntry, count: Int) -> [Double]? {
        guard let nodes = sequence(item.value, path: item.path, expected: "a list of numbers") else { return nil }
        guard nodes.count == count else {
            error(item.path, at: item.value, "must have one entry per value (found \(nodes.count) for \(count) values)")
            return nil
        }
        var weights: [Double] = []
        for (index, node) in nodes.enumerated() {
            let path = "\(item.path)[\(index)]"
            guard let weight = number(node, path: path) else { return nil }
            guard weight >= 0 else {
                error(path, at: node, "must be ≥ 0 (found \(node.scalar?.string ?? "\(weight)"))")
                return nil
            }
            weights.append(weight)
        }
        let sum = weights.reduce(0, +)
        guard abs(sum - 1) <= 1e-6 else {
            error(item.path, at: item.value, "must sum to 1 (found \(sum))")
            return nil
        }
        return weights
    }

    private func distribution(_ name: DistributionName, byKey: [String: YAMLEntry]) -> Distribution? {
        if name == .intUniform { return intUniform(byKey) }
        var failed = false
        func read(_ key: String, default fallback: Double? = nil, positive: Bool = false) -> Double {
            guard let item = byKey[key] else { return fallback ?? 0 }
            guard let number = number(item.value, path: item.path) else { failed = true; return 0 }
            if positive, number <= 0 {
                error(item.path, at: item.value, "must be > 0 (found \(item.value.scalar?.string ?? "\(number)"))")
                failed = true
            }
            return number
        }
        let min = read("min"), max = read("max")
        let q = read("q", default: 1, positive: true)
        let mu = read("mu", default: 0), sigma = read("sigma", default: 1, positive: true)
        let a = read("a", default: 1, positive: true), b = read("b", default: 1, positive: true)
        if name.requiredKeys.contains("min"), !failed {
            failed = !checkBounds(name, min: min, max: max, byKey: byKey)
        }
        if failed { return nil }
        switch name {
        case .uniform: return .uniform(min: min, max: max)
        case .qUniform: return .qUniform(min: min, max: max, q: q)
        case .logUniform: return .logUniform(min: min, max: max)
        case .logUniformValues: return .logUniformValues(min: min, max: max)
        case .qLogUniform: return .qLogUniform(min: min, max: max, q: q)
        case .qLogUniformValues: return .qLogUniformValues(min: min, max: max, q: q)
        case .invLogUniform: return .invLogUniform(min: min, max: max)
        case .invLogUniformValues: return .invLogUniformValues(min: min, max: max)
        case .normal: return .normal(mu: mu, sigma: sigma)
        case .qNormal: return .qNormal(mu: mu, sigma: sigma, q: q)
        case .logNormal: return .logNormal(mu: mu, sigma: sigma)
        case .qLogNormal: return .qLogNormal(mu: mu, sigma: sigma, q: q)
        case .beta: return .beta(a: a, b: b)
        case .qBeta: return .qBeta(a: a, b: b, q: q)
        case .constant, .categorical, .categoricalWithProbabilities, .intUniform: return nil
        }
    }

    /// min < max; min > 0 for the `_values` forms; a warning for the classic `log_uniform` slip.
    private func checkBounds(_ name: DistributionName, min: Double, max: Double, byKey: [String: YAMLEntry]) -> Bool {
        guard let minItem = byKey["min"], let maxItem = byKey["max"] else { return false }
        let minText = minItem.value.scalar?.string ?? "\(min)", maxText = maxItem.value.scalar?.string ?? "\(max)"
        if name.needsPositiveBounds, min <= 0 {
            error(minItem.path, at: minItem.value,
                  "must be > 0 for \(name.rawValue), which takes the bounds themselves (found \(minText))")
            return false
        }
        guard min < max else {
            error(minItem.path, at: minItem.value, "must be < max (\(minText) >= \(maxText))")
            return false
        }
        if name == .logUniform || name == .invLogUniform || name == .qLogUniform, min > 0, max <= 1 {
            let plain = name == .invLogUniform ? "inv_log_uniform_values" : "\(name.rawValue)_values"
            warning(String(minItem.path.dropLast(3)) + "distribution", at: byKey["distribution"]?.value ?? minItem.value,
                    "\(name.rawValue) takes natural-log exponents: min \(minText) and max \(maxText) mean "
                        + "exp(\(minText)) to exp(\(maxText)); for the bounds themselves use \(plain)")
        }
        return true
    }

    private func intUniform(_ byKey: [String: YAMLEntry]) -> Distribution? {
        guard let minItem = byKey["min"], let maxItem = byKey["max"] else { return nil }
        let min = integer(minItem.value, path: minItem.path, integralFloats: false)
        let max = integer(maxItem.value, path: maxItem.path, integralFloats: false)
        guard let min, let max else { return nil }
        guard min < max else {
            error(minItem.path, at: minItem.value, "must be < max (\(min) >= \(max))")
            return nil
        }
        return .intUniform(min: min, max: max)
    }
}
