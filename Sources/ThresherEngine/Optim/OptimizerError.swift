/// Everything an optimizer can reject: its hyperparameters (checked when it is built, with the
/// same bounds PyTorch's constructors check), its parameter list, a gradient whose shape does not
/// match its parameter, and a saved state that does not fit the parameters it is restored into.
public enum OptimizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A hyperparameter outside its valid range or not finite (`name` as PyTorch spells it, e.g. `betas[0]`).
    case invalidHyperparameter(name: String, value: Double, requirement: String)
    /// Two parameters share a name: their state keys would collide.
    case duplicateParameterName(String)
    /// A trainable parameter's gradient does not have its value's shape.
    case gradientShapeMismatch(parameter: String, value: [Int], gradient: [Int])
    /// A state tensor has the wrong shape (moments have the parameter's shape, `step` is a scalar).
    case stateShapeMismatch(key: String, expected: [Int], found: [Int])
    /// A state key that belongs to no parameter of this optimizer, or is not a state this optimizer keeps.
    case unexpectedStateKey(String)
    /// A parameter has some of its state tensors but not all of them.
    case incompleteState(parameter: String, missing: String)
    /// A `step` tensor that is not a whole number in 0...2^24 (the range Float32 counts exactly).
    case invalidStepCount(key: String, value: Float)

    public var description: String {
        switch self {
        case let .invalidHyperparameter(name, value, requirement):
            return "invalid \(name) \(value): must be \(requirement)"
        case let .duplicateParameterName(name):
            return "parameter name \"\(name)\" appears more than once"
        case let .gradientShapeMismatch(parameter, value, gradient):
            return "parameter \"\(parameter)\" has shape \(value) but its gradient has shape \(gradient)"
        case let .stateShapeMismatch(key, expected, found):
            return "optimizer state \"\(key)\" has shape \(found), expected \(expected)"
        case let .unexpectedStateKey(key):
            return "optimizer state \"\(key)\" belongs to no parameter of this optimizer"
        case let .incompleteState(parameter, missing):
            return "optimizer state for \"\(parameter)\" lacks \"\(parameter).\(missing)\""
        case let .invalidStepCount(key, value):
            return "optimizer state \"\(key)\" is \(value), not a whole step count in 0...16777216"
        }
    }
}
