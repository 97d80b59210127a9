import Foundation

/// Binary cross-entropy on probabilities, as PyTorch's `nn.BCELoss()`.
///
/// For probability p and target y (same shape, y usually 0 or 1):
///
///     ℓ = −( y·max(log p, −100) + (1 − y)·max(log(1 − p), −100) )
///     ∂ℓ/∂p = (p − y) / max(p(1 − p), 1e-12)
///
/// The clamp of the logs at −100 and the clamp of the gradient's denominator at 1e-12 are
/// PyTorch's (`binary_cross_entropy` and its backward). Values outside [0, 1] are not checked
/// (PyTorch raises); a NaN input gives a NaN loss, which a diverging trial must report rather than
/// trap. Prefer `BCEWithLogitsLoss` on logits: it is exact where this one saturates.
public struct BCELoss: Sendable {
    public let reduction: LossReduction

    public init(reduction: LossReduction = .mean) {
        self.reduction = reduction
    }

    /// The loss and dLoss/dProbabilities.
    public func callAsFunction(_ probabilities: Tensor, _ targets: Tensor) -> LossResult {
        precondition(probabilities.shape == targets.shape,
                     "BCELoss: probabilities \(probabilities.shape) and targets \(targets.shape) differ")
        let n = probabilities.count
        let scale: Float = reduction == .mean && n > 0 ? 1 / Float(n) : 1
        var gradient = Tensor(zeros: probabilities.shape)
        var total = 0.0
        probabilities.withPointer { pp in
            targets.withPointer { yp in
                gradient.withMutablePointer { gp in
                    for i in 0..<n {
                        let p = pp[i], y = yp[i]
                        let logP = max(Foundation.log(p), -100)
                        // log1p(−p), as PyTorch: log(1 − p) would round 1 − p to Float first and lose small p.
                        let log1mP = max(Foundation.log1p(-p), -100)
                        total -= Double(y * logP + (1 - y) * log1mP)
                        gp[i] = scale * (p - y) / max(p * (1 - p), 1e-12)
                    }
                }
            }
        }
        let loss = reduction == .mean && n > 0 ? total / Double(n) : total
        return LossResult(loss: Float(loss), gradient: gradient)
    }
}

/// Binary cross-entropy on logits, as PyTorch's `nn.BCEWithLogitsLoss(pos_weight=…)`,
/// numerically stable for any logit.
///
/// For logit x, target y and positive-class weight w (1 without `posWeight`), with
/// L = 1 + (w − 1)·y:
///
///     ℓ = (1 − y)·x + L·(log(1 + e^(−|x|)) + max(−x, 0))
///       = max(x, 0) − x·y + log(1 + e^(−|x|))            when w = 1
///     ∂ℓ/∂x = (1 − y) − L·σ(−x)  = σ(x) − y               when w = 1
///
/// `posWeight` is either one value or one per class of the last dimension (broadcast as PyTorch
/// broadcasts `pos_weight` [C] against input [..., C]).
public struct BCEWithLogitsLoss: Sendable {
    public let reduction: LossReduction
    public let posWeight: [Float]?

    public init(posWeight: [Float]? = nil, reduction: LossReduction = .mean) {
        if let posWeight { precondition(!posWeight.isEmpty, "BCEWithLogitsLoss: posWeight is empty") }
        self.posWeight = posWeight
        self.reduction = reduction
    }

    /// The loss and dLoss/dLogits.
    public func callAsFunction(_ logits: Tensor, _ targets: Tensor) -> LossResult {
        precondition(logits.shape == targets.shape,
                     "BCEWithLogitsLoss: logits \(logits.shape) and targets \(targets.shape) differ")
        let n = logits.count
        let weights = posWeight ?? [1]
        let classes = weights.count
        if classes > 1 {
            precondition(logits.rank >= 1 && logits.shape[logits.rank - 1] == classes,
                         "BCEWithLogitsLoss: posWeight has \(classes) values but logits are \(logits.shape)")
        }
        let scale: Float = reduction == .mean && n > 0 ? 1 / Float(n) : 1
        var gradient = Tensor(zeros: logits.shape)
        var total = 0.0
        logits.withPointer { xp in
            targets.withPointer { yp in
                gradient.withMutablePointer { gp in
                    for i in 0..<n {
                        let x = xp[i], y = yp[i]
                        let w = weights[classes == 1 ? 0 : i % classes]
                        let l = 1 + (w - 1) * y
                        let softplusNeg = Foundation.log1p(Foundation.exp(-abs(x))) + max(-x, 0)
                        total += Double((1 - y) * x + l * softplusNeg)
                        gp[i] = scale * ((1 - y) - l * Elementwise.sigmoid(-x))
                    }
                }
            }
        }
        let loss = reduction == .mean && n > 0 ? total / Double(n) : total
        return LossResult(loss: Float(loss), gradient: gradient)
    }
}
