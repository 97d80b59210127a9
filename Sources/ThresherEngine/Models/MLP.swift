import Foundation

/// The `mlp` model: a multi-layer perceptron classifier producing C-class logits.
///
/// Layout and names follow a PyTorch `nn.Sequential` stored in an attribute `layers`:
/// Linear, ReLU, [Dropout], Linear, ReLU, [Dropout], …, Linear. The Dropout module is present only
/// when `dropout > 0`, so the Linear layers sit at indices 0, 2, 4, … without dropout and 0, 3, 6, …
/// with it; parameters are `layers.<i>.weight` [out, in] and `layers.<i>.bias` [out], in that
/// order — the same keys as `state_dict()` of the equivalent PyTorch module.
///
/// Guarantees: initialisation is PyTorch's default for `nn.Linear`, drawn from one
/// `EngineRandom(seed:)` layer by layer, so a seed fixes the weights; dropout masks come from a
/// separate stream of the same seed. `forward` caches what `backward` needs; `backward` accumulates
/// into `Parameter.grad` as PyTorch does.
public final class MLPClassifier {
    public let inputSize: Int
    public let hiddenSizes: [Int]
    public let classCount: Int
    public let dropoutProbability: Float
    public let linears: [Linear]
    private let activations: [Activation]
    private let dropouts: [Dropout]

    /// Stream of the seed used for dropout masks (weights use stream 0).
    public static let dropoutStream: UInt64 = 0xD7_0907

    /// Sizes must be positive and dropout in [0, 1); returns nil otherwise.
    public init?(inputSize: Int, hiddenSizes: [Int], classCount: Int, dropout: Float = 0, seed: UInt64) {
        guard inputSize > 0, classCount > 0, hiddenSizes.allSatisfy({ $0 > 0 }), dropout >= 0, dropout < 1 else {
            return nil
        }
        self.inputSize = inputSize
        self.hiddenSizes = hiddenSizes
        self.classCount = classCount
        self.dropoutProbability = dropout
        var random = EngineRandom(seed: seed)
        let sizes = [inputSize] + hiddenSizes + [classCount]
        let stride = dropout > 0 ? 3 : 2
        var linears: [Linear] = []
        for k in 0..<(sizes.count - 1) {
            linears.append(Linear(inFeatures: sizes[k], outFeatures: sizes[k + 1], prefix: "layers.\(k * stride)",
                                  random: &random))
        }
        self.linears = linears
        self.activations = hiddenSizes.map { _ in Activation(.relu) }
        self.dropouts = hiddenSizes.indices.map { k in
            Dropout(p: dropout, random: EngineRandom(seed: seed, stream: Self.dropoutStream &+ UInt64(k)))
        }
    }

    /// All parameters in `state_dict()` order.
    public var parameters: [Parameter] { linears.flatMap(\.parameters) }

    /// Training mode enables dropout; evaluation mode makes it the identity.
    public var isTraining: Bool = true {
        didSet { for d in dropouts { d.isTraining = isTraining } }
    }

    /// Logits [N, C] for x [N, inputSize].
    public func forward(_ x: Tensor) -> Tensor {
        var h = x
        for k in linears.indices {
            h = linears[k].forward(h)
            if k < activations.count {
                h = activations[k].forward(h)
                h = dropouts[k].forward(h)
            }
        }
        return h
    }

    /// Back-propagates dL/dlogits [N, C]; accumulates parameter gradients; returns dL/dx.
    @discardableResult
    public func inputGradient(_ dLogits: Tensor) -> Tensor {
        var g = dLogits
        for k in linears.indices.reversed() {
            if k < activations.count {
                g = dropouts[k].backward(g)
                g = activations[k].backward(g)
            }
            g = linears[k].backward(g)
        }
        return g
    }

    /// Row-wise softmax of logits [N, C] (shifted by the row maximum, summed in Double).
    public static func softmax(_ logits: Tensor) -> Tensor {
        var out = logits
        guard logits.rank == 2, logits.shape[1] > 0 else { return out }
        let c = logits.shape[1]
        for r in 0..<logits.shape[0] {
            let row = logits.storage[(r * c)..<((r + 1) * c)]
            let m = row.max() ?? 0
            var sum = 0.0
            for v in row { sum += exp(Double(v - m)) }
            for j in 0..<c { out.storage[r * c + j] = Float(exp(Double(logits.storage[r * c + j] - m)) / sum) }
        }
        return out
    }
}

extension MLPClassifier: ClassifierModel {
    public var kind: String { "mlp" }
    public var output: ClassifierOutput { .classLogits(classCount) }

    /// One generator per dropout layer.
    public var randomState: [EngineRandom] {
        get { dropouts.map(\.random) }
        set { for (d, r) in zip(dropouts, newValue) { d.random = r } }
    }

    public func forward(_ batch: ModelBatch) throws(ModelError) -> Tensor {
        guard case .features(let x) = batch else { throw .batch("mlp reads feature rows [batch, \(inputSize)]") }
        guard x.rank == 2, x.shape[1] == inputSize else {
            throw .batch("mlp needs [batch, \(inputSize)] features, got \(x.shape)")
        }
        return forward(x)
    }

    public func backward(_ dLogits: Tensor) { inputGradient(dLogits) }
}
