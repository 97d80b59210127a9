import Foundation

/// The `gru-classifier` model (workload W1): already-embedded sequences [B, T, D] → multi-layer GRU
/// → the last layer's final hidden state [B, H] → Linear(H, H) → ReLU → Linear(H, 1) → one logit.
///
/// P(yes) is σ(logit); training uses `BCEWithLogitsLoss`, which equals sigmoid followed by
/// `BCELoss` but stays finite for large logits. Parameter names are those of a PyTorch module with
/// attributes `gru` (`nn.GRU(D, H, num_layers, batch_first=True, dropout=p)`), `fc1` and `fc2`:
/// `gru.weight_ih_l0`, `gru.weight_hh_l0`, `gru.bias_ih_l0`, `gru.bias_hh_l0`, …, `fc1.weight`,
/// `fc1.bias`, `fc2.weight`, `fc2.bias`.
///
/// Each example is read as its own sequence of word vectors, with its real length, so padding
/// never reaches the final hidden state (the notebook instead fed a flattened batch to the GRU as
/// one sequence; see WORKLOADS.md).
///
/// Initialisation is PyTorch's default (every GRU tensor uniform(±1/√H), Linear as `nn.Linear`),
/// drawn in parameter order from `EngineRandom(seed:)`; the GRU's inter-layer dropout draws from
/// stream `dropoutStream` of the same seed.
public final class GRUClassifier: ClassifierModel {
    public let inputSize: Int
    public let hiddenSize: Int
    public let numLayers: Int
    public let gru: GRU
    public let fc1: Linear
    public let fc2: Linear
    private let relu = Activation(.relu)
    private var dropoutRandom: EngineRandom
    private var lastShape: (batch: Int, steps: Int) = (0, 0)

    public static let dropoutStream: UInt64 = 0x6752_5544
    public let kind = "gru-classifier"
    public let output = ClassifierOutput.binaryLogit
    public var isTraining = true

    /// Sizes must be positive and dropout in [0, 1).
    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 2, dropout: Float = 0,
                seed: UInt64) throws(ModelError) {
        guard inputSize > 0 else { throw .configuration("input size must be positive, got \(inputSize)") }
        guard hiddenSize > 0 else { throw .configuration("hidden_size must be positive, got \(hiddenSize)") }
        guard numLayers > 0 else { throw .configuration("num_layers must be positive, got \(numLayers)") }
        guard dropout >= 0, dropout < 1 else { throw .configuration("dropout must be in [0, 1), got \(dropout)") }
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
        var random = EngineRandom(seed: seed)
        gru = GRU(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, dropout: dropout,
                  namePrefix: "gru.") { _, count in
            random.pytorchDefault([count], fanIn: hiddenSize).storage
        }
        fc1 = Linear(inFeatures: hiddenSize, outFeatures: hiddenSize, prefix: "fc1", random: &random)
        fc2 = Linear(inFeatures: hiddenSize, outFeatures: 1, prefix: "fc2", random: &random)
        dropoutRandom = EngineRandom(seed: seed, stream: Self.dropoutStream)
    }

    public var parameters: [Parameter] { gru.parameters + fc1.parameters + fc2.parameters }

    public var randomState: [EngineRandom] {
        get { [dropoutRandom] }
        set { if let first = newValue.first { dropoutRandom = first } }
    }

    public func forward(_ batch: ModelBatch) throws(ModelError) -> Tensor {
        guard case .sequences(let x, let lengths) = batch else {
            throw .batch("gru-classifier reads embedded sequences [batch, T, \(inputSize)]")
        }
        guard x.rank == 3, x.shape[2] == inputSize, x.shape[0] == lengths.count else {
            throw .batch("gru-classifier needs [\(lengths.count), T, \(inputSize)], got \(x.shape)")
        }
        let steps = x.shape[1]
        if let bad = lengths.firstIndex(where: { $0 < 1 || $0 > steps }) {
            throw .batch("example \(bad) has length \(lengths[bad]), outside 1...\(steps)")
        }
        let (_, finalHidden) = gru.forward(x, lengths: lengths, training: isTraining, random: &dropoutRandom)
        // The last layer's slice of [numLayers, B, H] is contiguous: rows (L-1)·B ..< L·B.
        let b = lengths.count, h = hiddenSize
        let start = (numLayers - 1) * b * h
        let last = Tensor(shape: [b, h], storage: Array(finalHidden.storage[start..<(start + b * h)]))
            ?? Tensor(zeros: [b, h])
        lastShape = (b, steps)
        return fc2.forward(relu.forward(fc1.forward(last)))
    }

    public func backward(_ dLogits: Tensor) {
        let dLast = fc1.backward(relu.backward(fc2.backward(dLogits)))
        let (b, steps) = lastShape, h = hiddenSize
        var dFinal = Tensor(zeros: [numLayers, b, h])
        let start = (numLayers - 1) * b * h
        dFinal.storage.replaceSubrange(start..<(start + b * h), with: dLast.storage)
        gru.backwardParameters(dOutput: nil, dFinalHidden: dFinal)
    }
}
