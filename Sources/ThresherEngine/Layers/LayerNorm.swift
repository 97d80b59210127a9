/// Layer normalisation over the last dimension, as PyTorch's `nn.LayerNorm(D)` (eps 1e-5,
/// elementwise affine).
///
/// For each row x of length D (every leading index of a [..., D] tensor):
///
///     μ = mean(x),  σ² = mean((x − μ)²)  (biased, as PyTorch),  r = 1/√(σ² + eps)
///     x̂ = (x − μ)·r,  y = x̂ ⊙ weight + bias
///
/// Backward, with g = dy ⊙ weight:
///
///     dx = r · (g − mean(g) − x̂ · mean(g ⊙ x̂)),  dweight += Σ_rows dy ⊙ x̂,  dbias += Σ_rows dy
///
/// Parameters `<prefix>.weight` (ones) and `<prefix>.bias` (zeros), both [D], PyTorch's init.
/// Caches x̂ and r per row. Row statistics are accumulated in Double (two passes) so rows with a
/// large mean lose no precision.
public final class LayerNorm {
    public let dimension: Int
    public let eps: Float
    public let weight: Parameter
    public let bias: Parameter
    private var cachedNormalized: Tensor?
    private var cachedInvStd: [Float] = []

    public init(dimension: Int, eps: Float = 1e-5, prefix: String) {
        precondition(dimension > 0, "LayerNorm(\(prefix)) needs a positive dimension, got \(dimension)")
        self.dimension = dimension
        self.eps = eps
        self.weight = Parameter(name: "\(prefix).weight",
                                value: Tensor(filled: 1, shape: [dimension]))
        self.bias = Parameter(name: "\(prefix).bias", value: Tensor(zeros: [dimension]))
    }

    /// The trainable tensors in PyTorch's order (weight, then bias).
    public var parameters: [Parameter] { [weight, bias] }

    /// Normalises each row of x [..., D]; caches x̂ and 1/σ.
    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 1 && x.shape[x.rank - 1] == dimension,
                     "LayerNorm(\(weight.name)) expects [..., \(dimension)], got \(x.shape)")
        let d = dimension
        let rows = x.count / d
        var xhat = Tensor(zeros: x.shape)
        var y = Tensor(zeros: x.shape)
        var invStd = [Float](repeating: 0, count: rows)
        x.withPointer { xp in
            xhat.withMutablePointer { hp in
                y.withMutablePointer { yp in
                    weight.value.withPointer { wp in
                        bias.value.withPointer { bp in
                            for r in 0..<rows {
                                let xr = xp + r * d, hr = hp + r * d, yr = yp + r * d
                                var sum = 0.0
                                for j in 0..<d { sum += Double(xr[j]) }
                                let mean = sum / Double(d)
                                var sq = 0.0
                                for j in 0..<d { let c = Double(xr[j]) - mean; sq += c * c }
                                let rstd = 1 / (sq / Double(d) + Double(eps)).squareRoot()
                                let m = Float(mean), s = Float(rstd)
                                invStd[r] = s
                                for j in 0..<d {
                                    let h = (xr[j] - m) * s
                                    hr[j] = h
                                    yr[j] = h * wp[j] + bp[j]
                                }
                            }
                        }
                    }
                }
            }
        }
        cachedNormalized = xhat
        cachedInvStd = invStd
        return y
    }

    /// Accumulates dweight and dbias; returns dL/dx for dL/dy [..., D].
    public func backward(_ dy: Tensor) -> Tensor {
        guard let xhat = cachedNormalized else {
            preconditionFailure("LayerNorm(\(weight.name)).backward called before forward")
        }
        precondition(dy.shape == xhat.shape, "LayerNorm(\(weight.name)) backward expects \(xhat.shape), got \(dy.shape)")
        let d = dimension
        let rows = xhat.count / d
        let invD = 1 / Float(d)
        var dx = Tensor(zeros: xhat.shape)
        var dw = [Float](repeating: 0, count: d)
        var db = [Float](repeating: 0, count: d)
        dy.withPointer { gp in
            xhat.withPointer { hp in
                weight.value.withPointer { wp in
                    dx.withMutablePointer { dxp in
                        dw.withUnsafeMutableBufferPointer { dwb in
                            db.withUnsafeMutableBufferPointer { dbb in
                                guard let dwp = dwb.baseAddress, let dbp = dbb.baseAddress else { return }
                                for r in 0..<rows {
                                    let g = gp + r * d, h = hp + r * d, out = dxp + r * d
                                    var sumG: Float = 0, sumGH: Float = 0
                                    for j in 0..<d {
                                        let gw = g[j] * wp[j]
                                        sumG += gw
                                        sumGH += gw * h[j]
                                        dwp[j] += g[j] * h[j]
                                        dbp[j] += g[j]
                                    }
                                    let meanG = sumG * invD, meanGH = sumGH * invD, s = cachedInvStd[r]
                                    for j in 0..<d {
                                        out[j] = s * (g[j] * wp[j] - meanG - h[j] * meanGH)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        Self.accumulate(dw, into: weight)
        Self.accumulate(db, into: bias)
        return dx
    }

    /// parameter.grad += gradient, unless the parameter is frozen.
    private static func accumulate(_ gradient: [Float], into parameter: Parameter) {
        guard parameter.isTrainable else { return }
        let n = gradient.count
        parameter.grad.withMutablePointer { g in
            gradient.withUnsafeBufferPointer { source in
                if let s = source.baseAddress { Elementwise.axpy(alpha: 1, x: s, y: g, count: n) }
            }
        }
    }
}
