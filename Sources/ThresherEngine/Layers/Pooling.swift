/// Pooling of a padded batch of sequences [batch, T, D] to [batch, D], each example using only
/// its first `length` steps (the mask). Both are exact linear maps; backward scatters the
/// gradient back to the steps that were read and leaves padding steps at zero.
///
/// Lengths are the caller's contract (computed from data it validated): each must lie in
/// 0...T for mean pooling and 1...T for last-step pooling; a violation is a programming error.
public enum SequencePooling: Sendable, Hashable {
    /// Mean over the first `length` steps: y[b] = (1/len_b) Σ_{t<len_b} x[b, t]. PyTorch
    /// equivalent: `(x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)`, so an
    /// empty sequence pools to zeros (not NaN).
    case maskedMean
    /// The step at index `length − 1`: y[b] = x[b, len_b − 1] (`x[arange(B), lengths − 1]`),
    /// what a packed-sequence RNN's last output is.
    case lastStep
}

/// A pooling layer (see `SequencePooling`). Caches the input shape and lengths for `backward`.
public final class Pooling {
    public let kind: SequencePooling
    private var cachedShape: [Int] = []
    private var cachedLengths: [Int] = []

    public init(_ kind: SequencePooling) {
        self.kind = kind
    }

    /// Pools x [batch, T, D] with one length per example; returns [batch, D].
    public func forward(_ x: Tensor, lengths: [Int]) -> Tensor {
        precondition(x.rank == 3, "Pooling expects [batch, T, D], got \(x.shape)")
        let (batch, steps, d) = (x.shape[0], x.shape[1], x.shape[2])
        precondition(lengths.count == batch, "Pooling got \(lengths.count) lengths for a batch of \(batch)")
        let minimum = kind == .lastStep ? 1 : 0
        for (b, len) in lengths.enumerated() {
            precondition(len >= minimum && len <= steps,
                         "Pooling(\(kind)) length \(len) of example \(b) is outside \(minimum)...\(steps)")
        }
        var y = Tensor(zeros: [batch, d])
        x.withPointer { xp in
            y.withMutablePointer { yp in
                for b in 0..<batch {
                    let len = lengths[b], out = yp + b * d, base = xp + b * steps * d
                    switch kind {
                    case .maskedMean:
                        guard len > 0 else { continue }
                        for t in 0..<len {
                            let row = base + t * d
                            for j in 0..<d { out[j] += row[j] }
                        }
                        Elementwise.scale(out, by: 1 / Float(len), count: d)
                    case .lastStep:
                        let row = base + (len - 1) * d
                        for j in 0..<d { out[j] = row[j] }
                    }
                }
            }
        }
        cachedShape = x.shape
        cachedLengths = lengths
        return y
    }

    /// dL/dx [batch, T, D] from dL/dy [batch, D]; zero at padding steps.
    public func backward(_ dy: Tensor) -> Tensor {
        precondition(cachedShape.count == 3, "Pooling backward called before forward")
        let (batch, steps, d) = (cachedShape[0], cachedShape[1], cachedShape[2])
        precondition(dy.shape == [batch, d], "Pooling backward expects [\(batch), \(d)], got \(dy.shape)")
        var dx = Tensor(zeros: cachedShape)
        dy.withPointer { gp in
            dx.withMutablePointer { dxp in
                for b in 0..<batch {
                    let len = cachedLengths[b], g = gp + b * d, base = dxp + b * steps * d
                    switch kind {
                    case .maskedMean:
                        guard len > 0 else { continue }
                        let s = 1 / Float(len)
                        for t in 0..<len {
                            let row = base + t * d
                            for j in 0..<d { row[j] = g[j] * s }
                        }
                    case .lastStep:
                        let row = base + (len - 1) * d
                        for j in 0..<d { row[j] = g[j] }
                    }
                }
            }
        }
        return dx
    }
}
