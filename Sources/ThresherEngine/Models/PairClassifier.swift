/// The `pair-classifier` model (workload W2 on CPU): token ids of `claim [SEP] evidence` →
/// embedding → dropout → GRU encoder → the encoder's final hidden state → dropout → Linear → C logits.
///
/// Structure and names are those of a PyTorch module defining, in this order,
///
///     self.embedding = nn.Embedding(V, D, padding_idx=0)
///     self.encoder   = nn.GRU(D, H, num_layers, batch_first=True, dropout=p)
///     self.head      = nn.Linear(H, C)
///
/// (dropout p applied with `F.dropout` after the embedding and before the head), so `parameters`
/// are, in `named_parameters()` order: `embedding.weight` [V, D], `encoder.weight_ih_l0` [3H, D],
/// `encoder.weight_hh_l0` [3H, H], `encoder.bias_ih_l0` [3H], `encoder.bias_hh_l0` [3H], … for each
/// layer, `head.weight` [C, H], `head.bias` [C].
///
/// Pooling: the representation of an example is the last encoder layer's hidden state after its
/// own real length L_b (steps ≥ L_b are never read, as with `pack_padded_sequence`), i.e.
/// `h_n[-1]` of a packed GRU; padding never influences the logits.
///
/// Initialisation is PyTorch's default, drawn in parameter order from one `EngineRandom(seed:)`:
/// the embedding normal(0, 1) with the padding row zero, every GRU tensor uniform(±1/√H), the head
/// as `nn.Linear`. With an initial embedding matrix the embedding's draws are skipped by advancing
/// the generator's counter past them, so the encoder and head get the same values either way.
///
/// Randomness while training comes from three streams of the seed, which `randomState` exposes
/// in this order: [0] the embedding dropout (stream `dropoutStream`), [1] the encoder's inter-layer
/// dropout (`dropoutStream + 1`), [2] the head dropout (`dropoutStream + 2`). Restoring them
/// replays the same masks. In evaluation mode (`isTraining == false`) no draws are taken.
///
/// Freezing: frozen parameters (`isTrainable == false`, set by the options or later) receive no
/// gradient and optimizers skip them; when the embedding is frozen, backward stops at the encoder
/// input (no embedding dropout or scatter work); when the encoder and the embedding are both
/// frozen, backward stops at the head.
///
/// Guarantees: `forward` validates the whole batch (kind, id count, ids in 0..<V, lengths in
/// 1...T) before touching any state and reports problems as `ModelError.batch`; `backward`
/// differentiates the last successful `forward`.
public final class PairClassifier: ClassifierModel {
    /// What `thresher train --model pair-classifier` configures.
    public struct Options: Sendable, Equatable {
        public var vocabularySize: Int
        public var embeddingDim: Int
        public var hiddenSize: Int
        public var classCount: Int
        public var numLayers: Int
        /// Dropout probability after the embedding, between encoder layers and before the head.
        public var dropout: Float
        public var freezeEmbeddings: Bool
        public var freezeEncoder: Bool
        public var seed: UInt64

        public init(vocabularySize: Int, embeddingDim: Int = 100, hiddenSize: Int = 128, classCount: Int = 3,
                    numLayers: Int = 1, dropout: Float = 0.1, freezeEmbeddings: Bool = false,
                    freezeEncoder: Bool = false, seed: UInt64 = 0) {
            self.vocabularySize = vocabularySize
            self.embeddingDim = embeddingDim
            self.hiddenSize = hiddenSize
            self.classCount = classCount
            self.numLayers = numLayers
            self.dropout = dropout
            self.freezeEmbeddings = freezeEmbeddings
            self.freezeEncoder = freezeEncoder
            self.seed = seed
        }
    }

    /// The padding token id: its embedding row starts at zero and never gets a gradient.
    public static let paddingId: Int32 = 0
    /// First of the three dropout streams (see the type's documentation).
    public static let dropoutStream: UInt64 = 0x7061_6972

    public let options: Options
    public let embedding: Embedding
    public let encoder: GRU
    public let head: Linear
    private let embeddingDropout: Dropout
    private let headDropout: Dropout
    private var encoderRandom: EngineRandom
    private var lastShape: (batch: Int, steps: Int)?

    public let kind = "pair-classifier"
    public var output: ClassifierOutput { .classLogits(options.classCount) }
    public var isTraining = true {
        didSet {
            embeddingDropout.isTraining = isTraining
            headDropout.isTraining = isTraining
        }
    }

    /// Checks the options (sizes positive, at least 2 classes, dropout in [0, 1)) and builds the
    /// model; `initialEmbedding`, if given, must be [vocabularySize, embeddingDim] and is used as
    /// given (see `Embedding.init(weights:…)`).
    public init(_ options: Options, initialEmbedding: Tensor? = nil) throws(ModelError) {
        guard options.vocabularySize > Int(Self.paddingId) else {
            throw .configuration("vocabulary size must be positive (id 0 is padding), got \(options.vocabularySize)")
        }
        guard options.embeddingDim > 0 else { throw .configuration("embedding_dim must be positive, got \(options.embeddingDim)") }
        guard options.hiddenSize > 0 else { throw .configuration("hidden_size must be positive, got \(options.hiddenSize)") }
        guard options.classCount >= 2 else { throw .configuration("classes must be at least 2, got \(options.classCount)") }
        guard options.numLayers > 0 else { throw .configuration("num_layers must be positive, got \(options.numLayers)") }
        guard options.dropout >= 0, options.dropout < 1 else {
            throw .configuration("dropout must be in [0, 1), got \(options.dropout)")
        }
        self.options = options
        let (v, d, h) = (options.vocabularySize, options.embeddingDim, options.hiddenSize)
        let padding = Int(Self.paddingId)
        var random = EngineRandom(seed: options.seed)
        if let initialEmbedding {
            embedding = try Embedding(weights: initialEmbedding, paddingIndex: padding, prefix: "embedding",
                                      trainable: !options.freezeEmbeddings,
                                      expectedVocabularySize: v, expectedDimension: d)
            // Skip the V·D normals (two draws each) the default initialisation would have taken.
            random.counter &+= 2 &* UInt64(v) &* UInt64(d)
        } else {
            embedding = try Embedding(vocabularySize: v, dimension: d, paddingIndex: padding, prefix: "embedding",
                                      trainable: !options.freezeEmbeddings, random: &random)
        }
        encoder = GRU(inputSize: d, hiddenSize: h, numLayers: options.numLayers, dropout: options.dropout,
                      namePrefix: "encoder.") { _, count in
            random.pytorchDefault([count], fanIn: h).storage
        }
        if options.freezeEncoder {
            for p in encoder.parameters { p.isTrainable = false }
        }
        head = Linear(inFeatures: h, outFeatures: options.classCount, prefix: "head", random: &random)
        embeddingDropout = Dropout(p: options.dropout, random: EngineRandom(seed: options.seed, stream: Self.dropoutStream))
        encoderRandom = EngineRandom(seed: options.seed, stream: Self.dropoutStream &+ 1)
        headDropout = Dropout(p: options.dropout, random: EngineRandom(seed: options.seed, stream: Self.dropoutStream &+ 2))
    }

    public var parameters: [Parameter] { embedding.parameters + encoder.parameters + head.parameters }

    /// [embedding dropout, encoder inter-layer dropout, head dropout]. Setting assigns by
    /// position; a shorter array leaves the remaining generators as they are.
    public var randomState: [EngineRandom] {
        get { [embeddingDropout.random, encoderRandom, headDropout.random] }
        set {
            if newValue.count > 0 { embeddingDropout.random = newValue[0] }
            if newValue.count > 1 { encoderRandom = newValue[1] }
            if newValue.count > 2 { headDropout.random = newValue[2] }
        }
    }

    /// Logits [B, C] for a `.tokens` batch.
    public func forward(_ batch: ModelBatch) throws(ModelError) -> Tensor {
        guard case .tokens(let ids, let steps, let lengths) = batch else {
            throw .batch("pair-classifier reads token ids [batch, T] with lengths")
        }
        let b = lengths.count
        guard b > 0 else { throw .batch("pair-classifier got an empty batch") }
        guard steps > 0 else { throw .batch("pair-classifier needs at least one step per example, got T = \(steps)") }
        if let bad = lengths.firstIndex(where: { $0 < 1 || $0 > steps }) {
            throw .batch("example \(bad) has length \(lengths[bad]), outside 1...\(steps)")
        }
        try embedding.validate(ids, batch: b, steps: steps)
        // Validated: nothing below throws.
        let embedded = try embedding.forward(ids, batch: b, steps: steps)
        let x = embeddingDropout.forward(embedded)
        let (_, finalHidden) = encoder.forward(x, lengths: lengths, training: isTraining, random: &encoderRandom)
        let h = options.hiddenSize
        // The last layer's rows of [numLayers, B, H] are contiguous.
        let start = (options.numLayers - 1) * b * h
        let pooled = Tensor(shape: [b, h], storage: Array(finalHidden.storage[start..<(start + b * h)]))
            ?? Tensor(zeros: [b, h])
        lastShape = (b, steps)
        return head.forward(headDropout.forward(pooled))
    }

    /// Back-propagates ∂L/∂logits [B, C] of the last forward into every trainable parameter's grad.
    public func backward(_ dLogits: Tensor) {
        guard let (b, steps) = lastShape else {
            preconditionFailure("PairClassifier.backward called before a successful forward")
        }
        let dPooled = headDropout.backward(head.backward(dLogits))
        let embeddingTrains = embedding.weight.isTrainable
        guard embeddingTrains || encoder.parameters.contains(where: \.isTrainable) else { return }
        let (layers, h) = (options.numLayers, options.hiddenSize)
        var dFinal = Tensor(zeros: [layers, b, h])
        let start = (layers - 1) * b * h
        dFinal.storage.replaceSubrange(start..<(start + b * h), with: dPooled.storage)
        guard embeddingTrains else {
            encoder.backwardParameters(dOutput: nil, dFinalHidden: dFinal)
            return
        }
        let dInput = encoder.backward(dOutput: Tensor(zeros: [b, steps, h]), dFinalHidden: dFinal)
        embedding.backward(embeddingDropout.backward(dInput))
    }
}
