/// A lookup table of token vectors with PyTorch's `nn.Embedding(V, D, padding_idx=…)` semantics.
///
/// Parameter: `weight` [V, D], named `<prefix>.weight` (e.g. `embedding.weight`), so it loads from
/// and saves to a PyTorch state dict as it is.
///
/// Forward reads token ids row-major [B, T] (Int32, each in 0..<V) and returns [B, T, D], row
/// (b, t) being a copy of `weight[ids[b·T + t]]`. Backward scatter-adds ∂L/∂output [B, T, D] into
/// `weight.grad`: a token that appears k times receives the sum of its k output gradients, and the
/// row `paddingIndex` receives nothing (as PyTorch, whose padding row never has a gradient even
/// where the padding id occurs). A frozen weight (`weight.isTrainable == false`) accumulates no
/// gradient at all and backward does no work.
///
/// Initialisation (three ways, all validated, every failure a `ModelError`):
/// - PyTorch's default: every element normal(0, 1), drawn from an `EngineRandom` in storage order
///   (two draws per element, see `EngineRandom.normal()`), then the padding row set to zero;
/// - from a given matrix [V, D] (e.g. GloVe rows; `nn.Embedding.from_pretrained`): used as given,
///   the padding row included;
/// - from a tensor of a safetensors file.
///
/// Guarantees: `forward` checks every id (and the id count against B·T) before it touches any state,
/// so a refused batch leaves the cache of the previous forward intact. `backward` differentiates the
/// last successful `forward` and must follow it. Not thread-safe: one layer belongs to one model.
public final class Embedding {
    public let vocabularySize: Int
    public let dimension: Int
    /// The id whose row is never updated (PyTorch's `padding_idx`), if any.
    public let paddingIndex: Int?
    public let weight: Parameter
    private var cachedIds: [Int32] = []
    private var cachedBatch = 0, cachedSteps = 0
    private var hasForward = false

    /// A table initialised as PyTorch does: normal(0, 1) in storage order from `random`, padding
    /// row zero. Sizes must be positive and `paddingIndex` in 0..<V.
    public init(vocabularySize: Int, dimension: Int, paddingIndex: Int? = nil, prefix: String,
                trainable: Bool = true, random: inout EngineRandom) throws(ModelError) {
        try Self.checkSizes(vocabularySize: vocabularySize, dimension: dimension, paddingIndex: paddingIndex, prefix: prefix)
        var values = random.normalTensor([vocabularySize, dimension])
        if let paddingIndex {
            let start = paddingIndex * dimension
            for j in start..<(start + dimension) { values.storage[j] = 0 }
        }
        self.vocabularySize = vocabularySize
        self.dimension = dimension
        self.paddingIndex = paddingIndex
        self.weight = Parameter(name: "\(prefix).weight", value: values, isTrainable: trainable)
    }

    /// A table holding `weights` [V, D] as given (the padding row is not zeroed, as
    /// `nn.Embedding.from_pretrained`). With `expectedVocabularySize`, V must equal it (the size of
    /// the vocabulary the ids come from); with `expectedDimension`, D must equal it.
    public init(weights: Tensor, paddingIndex: Int? = nil, prefix: String, trainable: Bool = true,
                expectedVocabularySize: Int? = nil, expectedDimension: Int? = nil) throws(ModelError) {
        guard weights.rank == 2 else {
            throw .weights("\(prefix).weight must be a matrix [vocabulary, dimension], got shape \(weights.shape)")
        }
        let (v, d) = (weights.shape[0], weights.shape[1])
        if let expectedVocabularySize, v != expectedVocabularySize {
            throw .weights("\(prefix).weight has \(v) rows, the vocabulary has \(expectedVocabularySize) tokens")
        }
        if let expectedDimension, d != expectedDimension {
            throw .weights("\(prefix).weight has dimension \(d), expected \(expectedDimension)")
        }
        guard v > 0, d > 0 else {
            throw .weights("\(prefix).weight must have at least one row and one column, got shape \(weights.shape)")
        }
        try Self.checkSizes(vocabularySize: v, dimension: d, paddingIndex: paddingIndex, prefix: prefix)
        if let bad = weights.storage.firstIndex(where: { !$0.isFinite }) {
            throw .weights("\(prefix).weight row \(bad / d) column \(bad % d) is \(weights.storage[bad]), not a finite number")
        }
        self.vocabularySize = v
        self.dimension = d
        self.paddingIndex = paddingIndex
        self.weight = Parameter(name: "\(prefix).weight", value: weights, isTrainable: trainable)
    }

    /// A table from the tensor `tensorName` of a parsed safetensors file; same checks as
    /// `init(weights:…)`, a missing tensor is a `.weights` error naming the tensors present.
    public convenience init(safeTensors file: SafeTensorsFile, tensorName: String, paddingIndex: Int? = nil,
                            prefix: String, trainable: Bool = true,
                            expectedVocabularySize: Int? = nil, expectedDimension: Int? = nil) throws(ModelError) {
        guard let tensor = file.tensors[tensorName] else {
            let present = file.tensors.keys.sorted()
            throw .weights("no tensor \"\(tensorName)\" in the safetensors file; it has \(present.isEmpty ? "none" : present.prefix(10).joined(separator: ", "))")
        }
        try self.init(weights: tensor, paddingIndex: paddingIndex, prefix: prefix, trainable: trainable,
                      expectedVocabularySize: expectedVocabularySize, expectedDimension: expectedDimension)
    }

    /// A table from the tensor `tensorName` of the safetensors file at `path`; an unreadable or
    /// malformed file is a `.weights` error carrying the reader's message.
    public convenience init(contentsOfSafeTensorsFile path: String, tensorName: String, paddingIndex: Int? = nil,
                            prefix: String, trainable: Bool = true,
                            expectedVocabularySize: Int? = nil, expectedDimension: Int? = nil) throws(ModelError) {
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(contentsOfFile: path)
        } catch {
            throw .weights("cannot read embeddings from \(path): \(error)")
        }
        try self.init(safeTensors: file, tensorName: tensorName, paddingIndex: paddingIndex, prefix: prefix,
                      trainable: trainable, expectedVocabularySize: expectedVocabularySize,
                      expectedDimension: expectedDimension)
    }

    private static func checkSizes(vocabularySize: Int, dimension: Int, paddingIndex: Int?, prefix: String) throws(ModelError) {
        guard vocabularySize > 0 else { throw .configuration("\(prefix): vocabulary size must be positive, got \(vocabularySize)") }
        guard dimension > 0 else { throw .configuration("\(prefix): embedding dimension must be positive, got \(dimension)") }
        guard vocabularySize <= Int(Int32.max) else {
            throw .configuration("\(prefix): vocabulary size \(vocabularySize) exceeds what Int32 ids can address")
        }
        if let paddingIndex, paddingIndex < 0 || paddingIndex >= vocabularySize {
            throw .configuration("\(prefix): padding index \(paddingIndex) is outside 0..<\(vocabularySize)")
        }
    }

    /// The parameter list (just `weight`).
    public var parameters: [Parameter] { [weight] }

    /// Throws `.batch` unless `ids` holds `batch`·`steps` ids, each in 0..<V. Touches nothing.
    public func validate(_ ids: [Int32], batch: Int, steps: Int) throws(ModelError) {
        let (expected, overflow) = batch.multipliedReportingOverflow(by: steps)
        guard batch >= 0, steps >= 0, !overflow, ids.count == expected else {
            throw .batch("\(ids.count) token ids for a batch of \(batch) × \(steps) steps")
        }
        let v = vocabularySize
        if let bad = ids.firstIndex(where: { $0 < 0 || Int($0) >= v }) {
            throw .batch("token id \(ids[bad]) at example \(steps > 0 ? bad / steps : 0), step \(steps > 0 ? bad % steps : 0) is outside the vocabulary 0..<\(v)")
        }
    }

    /// The vectors of `ids` (row-major [batch, steps]) as [batch, steps, D]. Caches the ids.
    public func forward(_ ids: [Int32], batch: Int, steps: Int) throws(ModelError) -> Tensor {
        try validate(ids, batch: batch, steps: steps)
        let d = dimension
        var y = Tensor(zeros: [batch, steps, d])
        y.withMutablePointer { yp in
            weight.value.withPointer { wp in
                for (i, id) in ids.enumerated() {
                    (yp + i * d).update(from: wp + Int(id) * d, count: d)
                }
            }
        }
        cachedIds = ids
        cachedBatch = batch
        cachedSteps = steps
        hasForward = true
        return y
    }

    /// Scatter-adds ∂L/∂output [batch, steps, D] of the last forward into `weight.grad`: nothing for
    /// the padding row, nothing at all when the weight is frozen. There is no input gradient (ids
    /// are discrete).
    public func backward(_ dOutput: Tensor) {
        precondition(hasForward, "Embedding(\(weight.name)).backward called before forward")
        let d = dimension
        precondition(dOutput.shape == [cachedBatch, cachedSteps, d],
                     "Embedding(\(weight.name)) backward expects [\(cachedBatch), \(cachedSteps), \(d)], got \(dOutput.shape)")
        guard weight.isTrainable else { return }
        let padding = paddingIndex ?? -1
        dOutput.withPointer { gp in
            weight.grad.withMutablePointer { wp in
                for (i, id) in cachedIds.enumerated() where Int(id) != padding {
                    let source = gp + i * d, row = wp + Int(id) * d
                    for j in 0..<d { row[j] += source[j] }
                }
            }
        }
    }
}
