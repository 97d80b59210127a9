import Foundation

/// How a model is trained: everything except the model's shape and the data. Built from a trial's
/// hyperparameters (`init(reading:)`), stored in every checkpoint, and checked on resume.
///
/// Names follow the workloads' sweeps: `lr`, `weight_decay`, `batch_size`, `epochs` (or W2's
/// `n_epochs`), `warmup` (fraction of all optimizer steps spent in PyTorch's `LinearLR` warm-up,
/// from `warmup_start_factor` — PyTorch's default 1/3, which W2's notebook used — to 1),
/// `lr_decay` after the warm-up (`constant`, `linear` or `cosine`), `max_grad_norm` (clip by
/// global norm), `label_smoothing` and `label_weight` (class weights; W2's name), `shuffle`.
public struct TrainingRecipe: Sendable, Equatable, Codable {
    public var epochs: Int
    /// Stop after this many optimizer steps (mid-epoch if need be), for step-by-step replays.
    public var maxSteps: Int?
    public var batchSize: Int
    public var learningRate: Double
    /// AdamW's decoupled weight decay (PyTorch's default 0.01).
    public var weightDecay: Double
    public var warmup: Double
    public var warmupStartFactor: Double
    public var decay: String
    public var maxGradNorm: Double?
    public var labelSmoothing: Double
    public var classWeights: [Double]?
    public var shuffle: Bool
    public var seed: UInt64
    /// Examples per forward pass when evaluating (bounded memory; no effect on results); 0 means
    /// the training batch size, which lets the GRU reuse its training workspaces.
    public var evaluationBatchSize: Int

    public static let decays = ["constant", "linear", "cosine"]

    public init(epochs: Int = 10, maxSteps: Int? = nil, batchSize: Int = 64, learningRate: Double = 1e-3,
                weightDecay: Double = 0.01, warmup: Double = 0, warmupStartFactor: Double = 1.0 / 3,
                decay: String = "constant", maxGradNorm: Double? = nil, labelSmoothing: Double = 0,
                classWeights: [Double]? = nil, shuffle: Bool = true, seed: UInt64 = 0, evaluationBatchSize: Int = 0) {
        self.epochs = epochs
        self.maxSteps = maxSteps
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.warmup = warmup
        self.warmupStartFactor = warmupStartFactor
        self.decay = decay
        self.maxGradNorm = maxGradNorm
        self.labelSmoothing = labelSmoothing
        self.classWeights = classWeights
        self.shuffle = shuffle
        self.seed = seed
        self.evaluationBatchSize = evaluationBatchSize
    }

    /// Reads the recipe's keys from `parameters` (marking them read), with `defaults` for absent ones.
    public init(reading parameters: inout Hyperparameters, defaults: TrainingRecipe = TrainingRecipe()) throws(TrainingError) {
        self = defaults
        epochs = try parameters.int("epochs", "n_epochs", "max_epochs", default: defaults.epochs, in: 0...1_000_000)
        batchSize = try parameters.int("batch_size", default: defaults.batchSize, in: 1...1_000_000)
        learningRate = try parameters.double("lr", "learning_rate", default: defaults.learningRate, in: 0...10)
        weightDecay = try parameters.double("weight_decay", default: defaults.weightDecay, in: 0...100)
        warmup = try parameters.double("warmup", default: defaults.warmup, in: 0...1)
        warmupStartFactor = try parameters.double("warmup_start_factor", default: defaults.warmupStartFactor, in: 1e-12...1)
        decay = try parameters.string("lr_decay", default: defaults.decay, oneOf: Self.decays)
        maxGradNorm = try parameters.optionalDouble("max_grad_norm", in: 1e-12...1e12) ?? defaults.maxGradNorm
        labelSmoothing = try parameters.double("label_smoothing", default: defaults.labelSmoothing, in: 0...1)
        if let weights = try parameters.numbers("label_weight", "class_weights") {
            guard weights.allSatisfy({ $0 >= 0 }), weights.contains(where: { $0 > 0 }) else {
                throw .parameter("label_weight", "must be non-negative with at least one positive weight, got \(weights)")
            }
            classWeights = weights
        }
        shuffle = try parameters.bool("shuffle", default: defaults.shuffle)
    }

    /// Optimizer steps in the whole run for `trainCount` examples.
    public func totalSteps(trainCount: Int) -> Int {
        let perEpoch = (trainCount + batchSize - 1) / batchSize
        let all = epochs * perEpoch
        return maxSteps.map { min($0, all) } ?? all
    }

    /// The learning-rate schedule over `totalSteps` steps: warm-up (if any), then the decay.
    public func schedule(totalSteps: Int) throws(TrainingError) -> any LearningRateSchedule {
        // PyTorch accepts a fractional total_iters (W2 passes warmup × len(loader)); whole steps are
        // what can be replayed, so the warm-up length is rounded to the nearest step.
        let warmupSteps = warmup > 0 ? max(1, Int((warmup * Double(totalSteps)).rounded())) : 0
        let rest = max(1, totalSteps - warmupSteps)
        do {
            let after: any LearningRateSchedule = switch decay {
            case "linear": try LinearDecay(totalSteps: rest)
            case "cosine": try CosineAnnealingLR(maxSteps: rest)
            default: ConstantLearningRate()
            }
            guard warmupSteps > 0 else { return after }
            let warm = try LinearLR(startFactor: warmupStartFactor, endFactor: 1, totalIterations: warmupSteps)
            if decay == "constant" { return warm }
            return try SequentialLR([warm, after], milestones: [warmupSteps])
        } catch { throw .optimizer(error) }
    }

    /// The loss for a model's output kind. Class weights must give one weight per class.
    public func loss(for output: ClassifierOutput) throws(TrainingError) -> TrainingLoss {
        switch output {
        case .binaryLogit:
            if labelSmoothing > 0 { throw .parameter("label_smoothing", "applies to multi-class models only") }
            if let w = classWeights {
                guard w.count == 2 else { throw .parameter("label_weight", "needs 2 weights for a binary model, got \(w.count)") }
                return .binary(BCEWithLogitsLoss(posWeight: [Float(w[1] / max(w[0], 1e-12))]))
            }
            return .binary(BCEWithLogitsLoss())
        case .classLogits(let c):
            if let w = classWeights, w.count != c {
                throw .parameter("label_weight", "needs \(c) weights (one per class), got \(w.count)")
            }
            return .multiclass(CrossEntropyLoss(weight: classWeights?.map { Float($0) }, labelSmoothing: Float(labelSmoothing)))
        }
    }
}

/// The loss a recipe trains with: BCE on one logit, or cross-entropy on C logits.
public enum TrainingLoss: Sendable {
    case binary(BCEWithLogitsLoss)
    case multiclass(CrossEntropyLoss)

    /// Loss and ∂L/∂logits for logits [B, 1] or [B, C] and integer labels.
    public func callAsFunction(_ logits: Tensor, _ labels: [Int]) -> LossResult {
        switch self {
        case .binary(let loss):
            let targets = Tensor(shape: [labels.count, 1], storage: labels.map { Float($0) }) ?? Tensor(zeros: [labels.count, 1])
            return loss(logits, targets)
        case .multiclass(let loss):
            return loss(logits, labels)
        }
    }
}
