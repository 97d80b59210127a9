/// A fully connected layer with PyTorch's `nn.Linear` layout and numerics.
///
/// Parameters: `weight` [out, in] and optional `bias` [out], named `<prefix>.weight` and
/// `<prefix>.bias` (e.g. `fc1.weight`). Forward computes y = x·Wᵀ + b for x [..., in] (any leading
/// dimensions are flattened into one batch dimension; y has the same leading shape and `out` last).
///
/// Every product goes through `BLAS.sgemm` with transpose flags (no transposed copies):
/// forward  y  = x · Wᵀ          (NoTrans, Trans)
/// backward dX = dY · W          (NoTrans, NoTrans)
///          dW += dYᵀ · X        (Trans, NoTrans, beta 1)
///          db += Σ_batch dY
///
/// Caches the last forward input (needed for dW); `backward` must follow the `forward` it
/// differentiates. Gradients accumulate into `Parameter.grad` (call `zeroGrad` between steps),
/// as PyTorch's `.grad` does; a frozen parameter (`isTrainable == false`) gets no gradient.
public final class Linear {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?
    private var cachedInput: Tensor?

    /// A layer initialised as PyTorch does: weight and bias uniform(−k, k), k = 1/√inFeatures.
    /// The weight is drawn first, then the bias, each in storage order.
    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, prefix: String,
                random: inout EngineRandom) {
        precondition(inFeatures > 0 && outFeatures > 0,
                     "Linear(\(prefix)) needs positive sizes, got in \(inFeatures), out \(outFeatures)")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.weight = Parameter(name: "\(prefix).weight",
                                value: random.pytorchDefault([outFeatures, inFeatures], fanIn: inFeatures))
        self.bias = bias
            ? Parameter(name: "\(prefix).bias", value: random.pytorchDefault([outFeatures], fanIn: inFeatures))
            : nil
    }

    /// A layer over existing parameters (e.g. loaded from a checkpoint): weight [out, in], bias [out].
    public init(weight: Parameter, bias: Parameter?) {
        precondition(weight.value.rank == 2, "Linear weight \(weight.name) must be [out, in], got \(weight.value.shape)")
        self.outFeatures = weight.value.shape[0]
        self.inFeatures = weight.value.shape[1]
        if let bias {
            precondition(bias.value.shape == [outFeatures],
                         "Linear bias \(bias.name) must be [\(outFeatures)], got \(bias.value.shape)")
        }
        self.weight = weight
        self.bias = bias
    }

    /// The trainable tensors in PyTorch's order (weight, then bias).
    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    /// y = x·Wᵀ + b for x [..., in]; returns [..., out]. Caches x.
    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 1 && x.shape[x.rank - 1] == inFeatures,
                     "Linear(\(weight.name)) expects [..., \(inFeatures)], got \(x.shape)")
        let rows = x.count / inFeatures
        var outShape = x.shape
        outShape[outShape.count - 1] = outFeatures
        var y = Tensor(zeros: outShape)
        let (n, k) = (outFeatures, inFeatures)
        y.withMutablePointer { yp in
            if let bias {
                bias.value.withPointer { bp in
                    for r in 0..<rows {
                        let row = yp + r * n
                        for j in 0..<n { row[j] = bp[j] }
                    }
                }
            }
            x.withPointer { xp in
                weight.value.withPointer { wp in
                    BLAS.sgemm(.none, .transpose, m: rows, n: n, k: k,
                               a: xp, lda: k, b: wp, ldb: k, beta: bias == nil ? 0 : 1, c: yp, ldc: n)
                }
            }
        }
        cachedInput = x
        return y
    }

    /// Given dL/dy [..., out], accumulates dL/dW and dL/db and returns dL/dx [..., in].
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = cachedInput else {
            preconditionFailure("Linear(\(weight.name)).backward called before forward")
        }
        var expected = x.shape
        expected[expected.count - 1] = outFeatures
        precondition(dy.shape == expected, "Linear(\(weight.name)) backward expects \(expected), got \(dy.shape)")
        let rows = x.count / inFeatures
        let (n, k) = (outFeatures, inFeatures)
        var dx = Tensor(zeros: x.shape)
        dy.withPointer { dyp in
            weight.value.withPointer { wp in
                dx.withMutablePointer { dxp in
                    BLAS.sgemm(.none, .none, m: rows, n: k, k: n, a: dyp, lda: n, b: wp, ldb: k, c: dxp, ldc: k)
                }
            }
            if weight.isTrainable {
                x.withPointer { xp in
                    weight.grad.withMutablePointer { gp in
                        BLAS.sgemm(.transpose, .none, m: n, n: k, k: rows,
                                   a: dyp, lda: n, b: xp, ldb: k, beta: 1, c: gp, ldc: k)
                    }
                }
            }
            if let bias, bias.isTrainable {
                bias.grad.withMutablePointer { gp in
                    for r in 0..<rows {
                        let row = dyp + r * n
                        for j in 0..<n { gp[j] += row[j] }
                    }
                }
            }
        }
        return dx
    }
}
