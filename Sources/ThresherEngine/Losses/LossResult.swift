/// What a loss returns: the scalar loss and its gradient with respect to the loss's input
/// (probabilities or logits), already divided by the reduction's denominator, so it is exactly
/// what PyTorch's `loss.backward()` leaves in `input.grad`.
public struct LossResult: Sendable {
    /// The reduced loss (accumulated in Double, returned as Float).
    public let loss: Float
    /// dLoss/dInput, with the input's shape.
    public let gradient: Tensor

    public init(loss: Float, gradient: Tensor) {
        self.loss = loss
        self.gradient = gradient
    }
}

/// How per-element (or per-example) losses combine, as PyTorch's `reduction` argument
/// (`'none'` is not offered: training and evaluation here need a scalar).
public enum LossReduction: Sendable, Hashable {
    /// The mean (for cross-entropy with class weights: PyTorch's weighted mean, see there).
    case mean
    /// The plain sum.
    case sum
}
