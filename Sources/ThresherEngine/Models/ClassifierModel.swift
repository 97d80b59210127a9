import Foundation

/// One batch of examples in the form a model reads.
///
/// - `features`: dense rows [B, F] (the `mlp` model).
/// - `sequences`: padded, already-embedded sequences [B, T, D] with each example's real length in
///   1...T (the `gru-classifier` model; W1's word vectors).
/// - `tokens`: padded token ids, row-major [B, T] as `ids` (B·T values in 0..<vocabulary), with real
///   lengths in 1...T (the `pair-classifier` model; W2's `claim [SEP] evidence`).
public enum ModelBatch: Sendable, Equatable {
    case features(Tensor)
    case sequences(Tensor, lengths: [Int])
    case tokens(ids: [Int32], steps: Int, lengths: [Int])

    /// Number of examples in the batch.
    public var count: Int {
        switch self {
        case .features(let x): x.rank > 0 ? x.shape[0] : 0
        case .sequences(_, let lengths), .tokens(_, _, let lengths): lengths.count
        }
    }
}

/// What a model's output means, and so which loss and metrics apply.
public enum ClassifierOutput: Sendable, Equatable {
    /// One logit per example, [B, 1]; P(class 1) = σ(logit). Trained with binary cross-entropy.
    case binaryLogit
    /// C logits per example, [B, C]. Trained with (weighted, smoothed) cross-entropy.
    case classLogits(Int)

    /// Number of classes the metrics count.
    public var classCount: Int {
        switch self {
        case .binaryLogit: 2
        case .classLogits(let c): c
        }
    }
}

/// Why a model refused a batch or a set of weights. Every case says what was expected.
public enum ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The batch has the wrong form or shape for this model.
    case batch(String)
    /// A configuration value is out of range (named as the user wrote it).
    case configuration(String)
    /// Weights given to `load(weights:)` are missing, unexpected or of the wrong shape.
    case weights(String)

    public var description: String {
        switch self {
        case .batch(let s): "bad batch: \(s)"
        case .configuration(let s): "bad model configuration: \(s)"
        case .weights(let s): "bad weights: \(s)"
        }
    }
}

/// A trainable classifier: the contract the trainer, checkpoints and `thresher train` rely on.
///
/// Guarantees every conforming model gives:
/// - `parameters` lists every tensor under the name a PyTorch module of the same structure would
///   give it in `state_dict()`, in `named_parameters()` order, so weights move between the two as
///   they are;
/// - `forward` followed by exactly one `backward` accumulates ∂L/∂θ into each trainable
///   parameter's `grad` (frozen parameters are left alone);
/// - all randomness (dropout masks) comes from `randomState`, which a checkpoint stores and
///   restores, so a resumed run draws the same masks as an uninterrupted one.
public protocol ClassifierModel: AnyObject {
    /// The model's name as `thresher train --model` spells it, e.g. `gru-classifier`.
    var kind: String { get }
    var output: ClassifierOutput { get }
    var parameters: [Parameter] { get }
    /// Training mode enables dropout; evaluation mode makes it the identity.
    var isTraining: Bool { get set }
    /// The generators behind every random draw the model makes while training.
    var randomState: [EngineRandom] { get set }
    /// Logits for a batch: [B, 1] for `.binaryLogit`, [B, C] for `.classLogits(C)`.
    func forward(_ batch: ModelBatch) throws(ModelError) -> Tensor
    /// Back-propagates ∂L/∂logits for the last `forward`.
    func backward(_ dLogits: Tensor)
}

extension ClassifierModel {
    /// Replaces every parameter's value with the tensor of the same name. All names must be
    /// present with the same shape, and no unknown names may be given; on any error nothing
    /// changes. Used by `--init` and checkpoint resume.
    public func load(weights: [String: Tensor]) throws(ModelError) {
        let own = Set(parameters.map(\.name))
        let unknown = weights.keys.filter { !own.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw .weights("unknown tensor\(unknown.count == 1 ? "" : "s") \(unknown.prefix(5).joined(separator: ", ")) for \(kind); it has \(parameters.map(\.name).joined(separator: ", "))")
        }
        var checked: [(Parameter, Tensor)] = []
        for p in parameters {
            guard let t = weights[p.name] else { throw .weights("missing tensor \(p.name) for \(kind)") }
            guard t.shape == p.value.shape else {
                throw .weights("\(p.name) has shape \(t.shape), \(kind) needs \(p.value.shape)")
            }
            checked.append((p, t))
        }
        for (p, t) in checked { p.value = t }
    }

    /// Current weights by name (a copy).
    public var weights: [String: Tensor] {
        Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.value) })
    }

    /// Total number of scalar weights.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }
}
