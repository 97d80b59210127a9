/// Inverted dropout, as PyTorch's `nn.Dropout(p)`.
///
/// In training each element is kept with probability 1 − p and scaled by 1/(1 − p), zeroed
/// otherwise, so the expected output equals the input; in evaluation (`isTraining == false`) and
/// for p = 0 it is the identity (no random draws are taken, so the generator's position is
/// unchanged). p = 1 zeroes everything, as PyTorch does.
///
/// The keep/drop decision for element i is `random.uniform() >= p`, drawn in storage order from
/// the layer's own `EngineRandom` (its state is part of a checkpoint). Caches the scaled mask
/// (0 or 1/(1 − p) per element) for `backward`, which returns dy ⊙ mask.
public final class Dropout {
    public let p: Float
    public var isTraining: Bool
    /// The generator masks are drawn from; save and restore it with a checkpoint.
    public var random: EngineRandom
    private var cachedMask: [Float]?
    private var cachedShape: [Int] = []

    public init(p: Float, random: EngineRandom, isTraining: Bool = true) {
        precondition(p >= 0 && p <= 1, "Dropout probability must be in [0, 1], got \(p)")
        self.p = p
        self.random = random
        self.isTraining = isTraining
    }

    /// Whether forward changes anything (training and p > 0).
    public var isActive: Bool { isTraining && p > 0 }

    /// Applies dropout (or the identity); caches the mask.
    public func forward(_ x: Tensor) -> Tensor {
        cachedShape = x.shape
        guard isActive else {
            cachedMask = nil
            return x
        }
        let n = x.count
        let scale: Float = p < 1 ? 1 / (1 - p) : 0
        var mask = [Float](repeating: 0, count: n)
        for i in 0..<n { mask[i] = random.uniform() >= p ? scale : 0 }
        var y = Tensor(zeros: x.shape)
        x.withPointer { xp in
            mask.withUnsafeBufferPointer { mp in
                y.withMutablePointer { yp in
                    if let m = mp.baseAddress { Elementwise.hadamard(xp, m, into: yp, count: n) }
                }
            }
        }
        cachedMask = mask
        return y
    }

    /// dL/dx = dL/dy ⊙ mask (the identity when the forward pass was).
    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.shape == cachedShape, "Dropout backward expects \(cachedShape), got \(dy.shape)")
        guard let mask = cachedMask else { return dy }
        var dx = Tensor(zeros: dy.shape)
        let n = dy.count
        dy.withPointer { dyp in
            mask.withUnsafeBufferPointer { mp in
                dx.withMutablePointer { dxp in
                    if let m = mp.baseAddress { Elementwise.hadamard(dyp, m, into: dxp, count: n) }
                }
            }
        }
        return dx
    }
}
