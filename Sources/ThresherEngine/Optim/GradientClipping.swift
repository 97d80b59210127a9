/// Gradient clipping by global norm: PyTorch's `torch.nn.utils.clip_grad_norm_` with `norm_type=2`.
public enum GradientClipping {
    /// Scales the gradients of the trainable parameters in place so their global L2 norm is at most
    /// about `maxNorm`, and returns the norm before clipping.
    ///
    /// As PyTorch: total = ‖(‖g₁‖, ‖g₂‖, …)‖₂ over the parameters that have gradients (frozen ones are
    /// skipped, as PyTorch skips `grad is None`); coefficient = min(1, maxNorm / (total + 1e-6)); every
    /// gradient is multiplied by it (nothing changes when it is 1). The norm is accumulated in Double
    /// (PyTorch accumulates in Float32; the results agree to Float32 rounding). As with PyTorch's default
    /// `error_if_nonfinite=False`, a non-finite norm is returned and applied (an infinite norm zeroes
    /// the gradients, NaN makes them NaN): check `isFinite` on the result to skip such a step.
    /// No parameters, or only frozen ones, give 0.
    @discardableResult
    public static func clipGlobalNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
        let trainable = parameters.filter(\.isTrainable)
        var sumOfSquares = 0.0
        for parameter in trainable {
            parameter.grad.storage.withUnsafeBufferPointer { g in
                var local = 0.0
                for x in g { local += Double(x) * Double(x) }
                sumOfSquares += local
            }
        }
        let total = Float(sumOfSquares.squareRoot())
        let coefficient = maxNorm / (total + 1e-6)  // Float32, as PyTorch's tensor arithmetic
        guard !(coefficient >= 1) else { return total }
        for parameter in trainable {
            parameter.grad.storage.withUnsafeMutableBufferPointer { g in
                for j in 0..<g.count { g[j] *= coefficient }
            }
        }
        return total
    }
}
