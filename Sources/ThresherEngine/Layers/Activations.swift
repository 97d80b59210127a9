/// The kernel pair an activation layer applies: forward from the input, backward from the cached
/// output (all three activations here have derivatives expressible in their output).
public enum ActivationKind: Sendable, Hashable {
    /// max(x, 0) — `nn.ReLU`; gradient 0 at x ≤ 0.
    case relu
    /// tanh(x) — `nn.Tanh`; gradient 1 − y².
    case tanh
    /// σ(x) = 1/(1 + e⁻ˣ), computed without overflow — `nn.Sigmoid`; gradient y(1 − y).
    case sigmoid
}

/// An elementwise activation layer (ReLU, Tanh or Sigmoid) over a tensor of any shape.
///
/// Matches PyTorch's `nn.ReLU`, `nn.Tanh`, `nn.Sigmoid` forward and backward. Caches the forward
/// output (its derivative needs nothing else); `backward` must follow the `forward` it
/// differentiates and returns dL/dx with the input's shape.
public final class Activation {
    public let kind: ActivationKind
    private var cachedOutput: Tensor?

    public init(_ kind: ActivationKind) {
        self.kind = kind
    }

    /// Applies the activation elementwise; caches the output.
    public func forward(_ x: Tensor) -> Tensor {
        var y = Tensor(zeros: x.shape)
        let n = x.count
        x.withPointer { xp in
            y.withMutablePointer { yp in
                switch kind {
                case .relu: Elementwise.relu(xp, into: yp, count: n)
                case .tanh: Elementwise.tanh(xp, into: yp, count: n)
                case .sigmoid: Elementwise.sigmoid(xp, into: yp, count: n)
                }
            }
        }
        cachedOutput = y
        return y
    }

    /// dL/dx from dL/dy (same shape as the forward input).
    public func backward(_ dy: Tensor) -> Tensor {
        guard let y = cachedOutput else { preconditionFailure("\(kind) backward called before forward") }
        precondition(dy.shape == y.shape, "\(kind) backward expects \(y.shape), got \(dy.shape)")
        var dx = Tensor(zeros: y.shape)
        let n = y.count
        y.withPointer { yp in
            dy.withPointer { dyp in
                dx.withMutablePointer { dxp in
                    switch kind {
                    case .relu: Elementwise.reluBackward(output: yp, gradOutput: dyp, into: dxp, count: n)
                    case .tanh: Elementwise.tanhBackward(output: yp, gradOutput: dyp, into: dxp, count: n)
                    case .sigmoid: Elementwise.sigmoidBackward(output: yp, gradOutput: dyp, into: dxp, count: n)
                    }
                }
            }
        }
        return dx
    }
}
