/// A first-order optimizer over a fixed list of `Parameter`s.
///
/// Guarantees shared by every conforming type:
/// - `step()` updates each trainable parameter from its current `grad` and skips frozen ones
///   (`isTrainable == false`), the way PyTorch skips parameters whose `.grad` is `None`. Per-parameter
///   state is created lazily on a parameter's first update, so a parameter unfrozen later starts
///   from fresh state exactly as in PyTorch.
/// - `state` names every state tensor `"<parameter name>.<state name>"` with PyTorch's state names
///   (`exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`, `step`, `momentum_buffer`), so a checkpoint can
///   save it next to the weights; `loadState(_:)` validates a saved state completely before
///   changing anything (all or nothing).
/// - `learningRate` is the rate the next `step()` uses; a schedule sets it before each step.
public protocol Optimizer: AnyObject {
    /// The parameters this optimizer updates, in the order given at construction.
    var parameters: [Parameter] { get }
    /// The learning rate the next `step()` uses (a Double, as PyTorch's `param_group["lr"]`).
    var learningRate: Double { get set }
    /// One update of every trainable parameter from its gradient.
    func step() throws(OptimizerError)
    /// The optimizer's state as named tensors (empty before the first step).
    var state: [String: Tensor] { get }
    /// Replaces the state with a saved one after checking every key and shape.
    func loadState(_ state: [String: Tensor]) throws(OptimizerError)
}

extension Optimizer {
    /// Zeroes every parameter's gradient (PyTorch's `zero_grad(set_to_none=False)`).
    public func zeroGrad() {
        for parameter in parameters { parameter.zeroGrad() }
    }
}

/// Shared checks and state (de)serialisation for the optimizers in this folder.
enum OptimizerSupport {
    /// Float32 counts whole numbers exactly up to 2^24.
    static let maxExactStep: Float = 16_777_216

    static func checkUniqueNames(_ parameters: [Parameter]) throws(OptimizerError) {
        var seen = Set<String>()
        for parameter in parameters where !seen.insert(parameter.name).inserted {
            throw .duplicateParameterName(parameter.name)
        }
    }

    static func require(_ condition: Bool, _ name: String, _ value: Double, _ requirement: String) throws(OptimizerError) {
        if !condition || !value.isFinite { throw .invalidHyperparameter(name: name, value: value, requirement: requirement) }
    }

    static func checkGradient(_ parameter: Parameter) throws(OptimizerError) {
        if parameter.grad.shape != parameter.value.shape {
            throw .gradientShapeMismatch(parameter: parameter.name, value: parameter.value.shape, gradient: parameter.grad.shape)
        }
    }

    /// Splits a saved state into per-parameter groups keyed by the parameter index, checking that every
    /// key is `"<name>.<one of suffixes>"`, that a parameter has all its suffixes or none, and that
    /// every tensor has the parameter's shape (or shape `[]` for `step`, a valid whole count).
    static func group(
        _ state: [String: Tensor], parameters: [Parameter], suffixes: [String]
    ) throws(OptimizerError) -> [Int: [String: Tensor]] {
        var index: [String: Int] = [:]
        for (i, parameter) in parameters.enumerated() { index[parameter.name] = i }
        var groups: [Int: [String: Tensor]] = [:]
        for (key, tensor) in state.sorted(by: { $0.key < $1.key }) {
            let match = suffixes.lazy.compactMap { suffix -> (String, Int)? in
                guard key.hasSuffix("." + suffix), let i = index[String(key.dropLast(suffix.count + 1))] else { return nil }
                return (suffix, i)
            }.first
            guard let (suffix, i) = match else { throw .unexpectedStateKey(key) }
            let expected = suffix == "step" ? [] : parameters[i].value.shape
            guard tensor.shape == expected else {
                throw .stateShapeMismatch(key: key, expected: expected, found: tensor.shape)
            }
            if suffix == "step" {
                let value = tensor.storage[0]
                guard value >= 0, value <= maxExactStep, value.rounded(.towardZero) == value else {
                    throw .invalidStepCount(key: key, value: value)
                }
            }
            groups[i, default: [:]][suffix] = tensor
        }
        for (i, group) in groups {
            if let missing = suffixes.first(where: { group[$0] == nil }) {
                throw .incompleteState(parameter: parameters[i].name, missing: missing)
            }
        }
        return groups
    }
}
