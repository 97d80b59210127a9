import Foundation

/// Why a training run could not start or continue. Each case carries a message a person can act on.
public enum TrainingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A hyperparameter with a bad value (its name as given).
    case parameter(String, String)
    /// Hyperparameters that no part of the recipe reads.
    case unknownParameters([String], known: [String])
    case data(String)
    case model(ModelError)
    case optimizer(OptimizerError)
    case metrics(MetricsError)
    /// A checkpoint that cannot be written, read or applied to this run.
    case checkpoint(String)

    public var description: String {
        switch self {
        case .parameter(let name, let message): "param \(name) \(message)"
        case .unknownParameters(let names, let known):
            "unknown param\(names.count == 1 ? "" : "s") \(names.joined(separator: ", ")); this model reads \(known.sorted().joined(separator: ", "))"
        case .data(let s): "data: \(s)"
        case .model(let e): "\(e)"
        case .optimizer(let e): "optimizer: \(e)"
        case .metrics(let e): "metrics: \(e)"
        case .checkpoint(let s): "checkpoint: \(s)"
        }
    }
}
