/// The `distribution:` names of a W&B parameter block, with the keys each one takes.
///
/// Internal to the parser; the parsed form is `ParameterKind` / `Distribution`.
enum DistributionName: String, CaseIterable {
    case constant, categorical
    case categoricalWithProbabilities = "categorical_w_probabilities"
    case intUniform = "int_uniform"
    case uniform
    case qUniform = "q_uniform"
    case logUniform = "log_uniform"
    case logUniformValues = "log_uniform_values"
    case qLogUniform = "q_log_uniform"
    case qLogUniformValues = "q_log_uniform_values"
    case invLogUniform = "inv_log_uniform"
    case invLogUniformValues = "inv_log_uniform_values"
    case normal
    case qNormal = "q_normal"
    case logNormal = "log_normal"
    case qLogNormal = "q_log_normal"
    case beta
    case qBeta = "q_beta"

    /// Every key a parameter block may hold, for "did you mean" and the unknown-key message.
    static let allKeys = ["distribution", "value", "values", "probabilities", "min", "max", "mu", "sigma",
                         "q", "a", "b", "parameters"]

    /// The keys this distribution takes besides `distribution`.
    var keys: [String] {
        switch self {
        case .constant: return ["value"]
        case .categorical: return ["values"]
        case .categoricalWithProbabilities: return ["values", "probabilities"]
        case .intUniform, .uniform, .logUniform, .logUniformValues, .invLogUniform, .invLogUniformValues:
            return ["min", "max"]
        case .qUniform, .qLogUniform, .qLogUniformValues: return ["min", "max", "q"]
        case .normal, .logNormal: return ["mu", "sigma"]
        case .qNormal, .qLogNormal: return ["mu", "sigma", "q"]
        case .beta: return ["a", "b"]
        case .qBeta: return ["a", "b", "q"]
        }
    }

    /// Keys that must be present (the others have defaults).
    var requiredKeys: [String] {
        switch self {
        case .constant: return ["value"]
        case .categorical: return ["values"]
        case .categoricalWithProbabilities: return ["values", "probabilities"]
        case .normal, .logNormal, .qNormal, .qLogNormal, .beta, .qBeta: return []
        default: return ["min", "max"]
        }
    }

    /// Whether `method: grid` can enumerate it (W&B's grid search: value, values without
    /// probabilities, int_uniform, q_uniform).
    var isGridEnumerable: Bool {
        switch self {
        case .constant, .categorical, .intUniform, .qUniform: return true
        default: return false
        }
    }

    /// min and max must be > 0 (the `_values` forms take the bounds themselves, not their logs).
    var needsPositiveBounds: Bool {
        self == .logUniformValues || self == .qLogUniformValues || self == .invLogUniformValues
    }
}

extension Distribution {
    /// The W&B `distribution:` name of this distribution (`log_uniform_values`, `q_beta`, …).
    public var wandbName: String {
        switch self {
        case .intUniform: return DistributionName.intUniform.rawValue
        case .uniform: return DistributionName.uniform.rawValue
        case .qUniform: return DistributionName.qUniform.rawValue
        case .logUniform: return DistributionName.logUniform.rawValue
        case .logUniformValues: return DistributionName.logUniformValues.rawValue
        case .qLogUniform: return DistributionName.qLogUniform.rawValue
        case .qLogUniformValues: return DistributionName.qLogUniformValues.rawValue
        case .invLogUniform: return DistributionName.invLogUniform.rawValue
        case .invLogUniformValues: return DistributionName.invLogUniformValues.rawValue
        case .normal: return DistributionName.normal.rawValue
        case .qNormal: return DistributionName.qNormal.rawValue
        case .logNormal: return DistributionName.logNormal.rawValue
        case .qLogNormal: return DistributionName.qLogNormal.rawValue
        case .beta: return DistributionName.beta.rawValue
        case .qBeta: return DistributionName.qBeta.rawValue
        }
    }
}
