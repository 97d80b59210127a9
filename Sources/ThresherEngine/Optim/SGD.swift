/// Stochastic gradient descent with optional momentum: PyTorch's `torch.optim.SGD`.
///
/// For each trainable parameter p with gradient g:
/// ```
/// g ← g + weight_decay·p                               // coupled (L2) weight decay
/// buf ← g                      on the first step       // momentum ≠ 0 only
/// buf ← momentum·buf + (1 − dampening)·g   afterwards
/// g ← g + momentum·buf  (nesterov)   or   g ← buf
/// p ← p − lr·g
/// ```
/// Defaults are PyTorch's: momentum 0, dampening 0, weight_decay 0, nesterov false. Like PyTorch,
/// nesterov requires momentum > 0 and dampening 0. Scalars are rounded to Float32 once, tensor
/// arithmetic is Float32 in PyTorch's order.
///
/// State per parameter (only with momentum ≠ 0): `<name>.momentum_buffer`.
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Double
    public let momentum: Double
    public let dampening: Double
    public let weightDecay: Double
    public let nesterov: Bool

    private var buffers: [[Float]?]

    public init(
        parameters: [Parameter], learningRate: Double = 1e-3, momentum: Double = 0, dampening: Double = 0,
        weightDecay: Double = 0, nesterov: Bool = false
    ) throws(OptimizerError) {
        try OptimizerSupport.require(learningRate >= 0, "lr", learningRate, "≥ 0")
        try OptimizerSupport.require(momentum >= 0, "momentum", momentum, "≥ 0")
        try OptimizerSupport.require(weightDecay >= 0, "weight_decay", weightDecay, "≥ 0")
        try OptimizerSupport.require(dampening.isFinite, "dampening", dampening, "finite")
        if nesterov {
            try OptimizerSupport.require(momentum > 0, "momentum", momentum, "> 0 with nesterov")
            try OptimizerSupport.require(dampening == 0, "dampening", dampening, "0 with nesterov")
        }
        try OptimizerSupport.checkUniqueNames(parameters)
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        self.buffers = Array(repeating: nil, count: parameters.count)
    }

    public func step() throws(OptimizerError) {
        for parameter in parameters where parameter.isTrainable {
            try OptimizerSupport.checkGradient(parameter)
        }
        let lr = Float(-learningRate)
        let wd = Float(weightDecay)
        let mu = Float(momentum)
        let keep = Float(1 - dampening)
        let (decays, usesMomentum, nesterov) = (weightDecay != 0, momentum != 0, self.nesterov)
        for (i, parameter) in parameters.enumerated() where parameter.isTrainable {
            let first = buffers[i] == nil
            var buffer = buffers[i] ?? (usesMomentum ? [Float](repeating: 0, count: parameter.value.count) : [])
            buffers[i] = nil  // unique while updated in place
            let g = parameter.grad.storage
            g.withUnsafeBufferPointer { g in
                parameter.value.storage.withUnsafeMutableBufferPointer { p in
                    buffer.withUnsafeMutableBufferPointer { buf in
                        for j in 0..<p.count {
                            var d = g[j]
                            if decays { d = d + wd * p[j] }
                            if usesMomentum {
                                buf[j] = first ? d : buf[j] * mu + keep * d
                                d = nesterov ? d + mu * buf[j] : buf[j]
                            }
                            p[j] = p[j] + lr * d
                        }
                    }
                }
            }
            if usesMomentum { buffers[i] = buffer }
        }
    }

    public var state: [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (i, parameter) in parameters.enumerated() {
            guard let buffer = buffers[i] else { continue }
            out[parameter.name + ".momentum_buffer"] = Tensor(shape: parameter.value.shape, storage: buffer)
        }
        return out
    }

    /// Accepts `<name>.momentum_buffer` keys only (an SGD without momentum keeps no state, so only
    /// an empty state fits it).
    public func loadState(_ state: [String: Tensor]) throws(OptimizerError) {
        let suffixes = momentum != 0 ? ["momentum_buffer"] : []
        let groups = try OptimizerSupport.group(state, parameters: parameters, suffixes: suffixes)
        var restored = [[Float]?](repeating: nil, count: parameters.count)
        for (i, group) in groups { restored[i] = group["momentum_buffer"]?.storage }
        buffers = restored
    }
}
