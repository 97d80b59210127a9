import Foundation

/// AdamW with decoupled weight decay: PyTorch's `torch.optim.AdamW` (single-tensor CPU path).
///
/// For each trainable parameter p with gradient g, at step t (counted per parameter from 1):
/// ```
/// p ← p · (1 − lr·weight_decay)                       // decoupled decay, before the Adam update
/// m ← m + (1 − β1)·(g − m)                            // exp_avg.lerp_(g, 1 − β1)
/// v ← β2·v + (1 − β2)·g·g                             // exp_avg_sq
/// v_max ← max(v_max, v)                               // only with amsgrad
/// p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)
/// ```
/// eps is added to √v̂ after the bias correction, as PyTorch does (not inside the square root, and
/// not to the uncorrected √v). Scalars (bias corrections, step size, decay factor) are computed in
/// Double and rounded to Float32 once, like PyTorch's Python-float scalars; tensor arithmetic is
/// Float32 in PyTorch's operation order. Results agree with PyTorch to Float32 rounding (PyTorch's
/// vectorised kernels may fuse a multiply-add where this code rounds twice).
///
/// State per parameter: `<name>.step` (scalar), `<name>.exp_avg`, `<name>.exp_avg_sq`, and with
/// amsgrad `<name>.max_exp_avg_sq` — the keys of PyTorch's `optimizer.state_dict()["state"]`
/// with the parameter's name in place of its index.
public final class AdamW: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Double
    public let beta1: Double
    public let beta2: Double
    public let epsilon: Double
    public let weightDecay: Double
    public let amsgrad: Bool

    private struct Moments {
        var step: Int
        var expAvg: [Float]
        var expAvgSq: [Float]
        var maxExpAvgSq: [Float]
    }
    private var moments: [Moments?]

    /// Defaults are PyTorch's: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0.01.
    /// Throws for the values PyTorch's constructor rejects (lr, eps, weight_decay < 0; betas outside [0, 1))
    /// and for duplicate parameter names.
    public init(
        parameters: [Parameter], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
        epsilon: Double = 1e-8, weightDecay: Double = 0.01, amsgrad: Bool = false
    ) throws(OptimizerError) {
        try OptimizerSupport.require(learningRate >= 0, "lr", learningRate, "≥ 0")
        try OptimizerSupport.require(epsilon >= 0, "eps", epsilon, "≥ 0")
        try OptimizerSupport.require(betas.0 >= 0 && betas.0 < 1, "betas[0]", betas.0, "in [0, 1)")
        try OptimizerSupport.require(betas.1 >= 0 && betas.1 < 1, "betas[1]", betas.1, "in [0, 1)")
        try OptimizerSupport.require(weightDecay >= 0, "weight_decay", weightDecay, "≥ 0")
        try OptimizerSupport.checkUniqueNames(parameters)
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = betas.0
        self.beta2 = betas.1
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
        self.moments = Array(repeating: nil, count: parameters.count)
    }

    public func step() throws(OptimizerError) {
        for parameter in parameters where parameter.isTrainable {
            try OptimizerSupport.checkGradient(parameter)
        }
        for (i, parameter) in parameters.enumerated() where parameter.isTrainable {
            let n = parameter.value.count
            var m = moments[i] ?? Moments(
                step: 0, expAvg: [Float](repeating: 0, count: n), expAvgSq: [Float](repeating: 0, count: n),
                maxExpAvgSq: amsgrad ? [Float](repeating: 0, count: n) : [])
            moments[i] = nil  // keep the arrays uniquely referenced while updating them in place
            m.step += 1
            update(parameter, &m)
            moments[i] = m
        }
    }

    private func update(_ parameter: Parameter, _ m: inout Moments) {
        let t = Double(m.step)
        let decay = Float(1 - learningRate * weightDecay)
        let lerpWeight = Float(1 - beta1)
        let b2 = Float(beta2)
        let oneMinusB2 = Float(1 - beta2)
        let stepSize = Float(-(learningRate / (1 - pow(beta1, t))))
        let correction2Sqrt = Float((1 - pow(beta2, t)).squareRoot())
        let eps = Float(epsilon)
        let decays = weightDecay != 0
        let amsgrad = self.amsgrad
        let g = parameter.grad.storage
        g.withUnsafeBufferPointer { g in
            parameter.value.storage.withUnsafeMutableBufferPointer { p in
                m.expAvg.withUnsafeMutableBufferPointer { ea in
                    m.expAvgSq.withUnsafeMutableBufferPointer { es in
                        m.maxExpAvgSq.withUnsafeMutableBufferPointer { mx in
                            for j in 0..<p.count {
                                if decays { p[j] *= decay }
                                ea[j] = Self.lerp(ea[j], g[j], lerpWeight)
                                es[j] = es[j] * b2 + oneMinusB2 * g[j] * g[j]
                                var second = es[j]
                                if amsgrad {
                                    mx[j] = max(mx[j], es[j])
                                    second = mx[j]
                                }
                                let denom = second.squareRoot() / correction2Sqrt + eps
                                p[j] = p[j] + stepSize * ea[j] / denom
                            }
                        }
                    }
                }
            }
        }
    }

    /// PyTorch's CPU `lerp`: the form depends on the weight, for accuracy near both ends.
    @inline(__always)
    static func lerp(_ start: Float, _ end: Float, _ weight: Float) -> Float {
        abs(weight) < 0.5 ? start + weight * (end - start) : end - (end - start) * (1 - weight)
    }

    public var state: [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (i, parameter) in parameters.enumerated() {
            guard let m = moments[i] else { continue }
            let shape = parameter.value.shape
            out[parameter.name + ".step"] = Tensor(shape: [], storage: [Float(m.step)])
            out[parameter.name + ".exp_avg"] = Tensor(shape: shape, storage: m.expAvg)
            out[parameter.name + ".exp_avg_sq"] = Tensor(shape: shape, storage: m.expAvgSq)
            if amsgrad { out[parameter.name + ".max_exp_avg_sq"] = Tensor(shape: shape, storage: m.maxExpAvgSq) }
        }
        return out
    }

    public func loadState(_ state: [String: Tensor]) throws(OptimizerError) {
        let suffixes = ["step", "exp_avg", "exp_avg_sq"] + (amsgrad ? ["max_exp_avg_sq"] : [])
        let groups = try OptimizerSupport.group(state, parameters: parameters, suffixes: suffixes)
        var restored = [Moments?](repeating: nil, count: parameters.count)
        for (i, group) in groups {
            guard let step = group["step"], let expAvg = group["exp_avg"], let expAvgSq = group["exp_avg_sq"] else { continue }
            restored[i] = Moments(
                step: Int(step.storage[0]), expAvg: expAvg.storage, expAvgSq: expAvgSq.storage,
                maxExpAvgSq: group["max_exp_avg_sq"]?.storage ?? [])
        }
        moments = restored
    }
}
