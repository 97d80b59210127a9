import Foundation

/// Where a run stands: a position that a checkpoint records and a resumed run starts from.
public struct TrainingPosition: Sendable, Equatable, Codable {
    /// Epochs fully completed.
    public var epoch = 0
    /// Batches of the current epoch already trained (0 at an epoch boundary).
    public var batchInEpoch = 0
    /// Optimizer steps taken in all.
    public var step = 0
    /// Σ loss·examples and the example count over the current epoch so far (for `train_loss`).
    public var epochLossSum = 0.0
    public var epochExamples = 0
    public init() {}
}

/// One evaluation: what `thresher train` prints as a JSON line and a worker reports.
public struct EvaluationRecord: Sendable, Equatable {
    /// 1-based number of the epoch this evaluation ends (or interrupts, with `--max-steps`).
    public let epoch: Int
    public let step: Int
    /// Mean training loss over the examples of this epoch trained so far.
    public let trainLoss: Double
    public let learningRate: Double
    public let validationLoss: Double?
    public let validation: ClassificationReport?

    /// The flat metrics a sweep sees (`val_balanced_accuracy`, …); precision/recall/F1 are the
    /// positive class's for binary models and macro averages otherwise.
    public var metrics: [(String, Double)] {
        var out: [(String, Double)] = [("train_loss", trainLoss)]
        if let validationLoss { out.append(("val_loss", validationLoss)) }
        if let v = validation { out += Self.flatten(v, prefix: "val_") }
        return out
    }

    /// A report as flat metrics named `<prefix>accuracy`, `<prefix>balanced_accuracy`, `<prefix>f1`, …
    public static func flatten(_ r: ClassificationReport, prefix: String) -> [(String, Double)] {
        var out = [(prefix + "accuracy", r.accuracy), (prefix + "balanced_accuracy", r.balancedAccuracy),
                   (prefix + "f1", r.primary.f1), (prefix + "precision", r.primary.precision),
                   (prefix + "recall", r.primary.recall)]
        if r.positive != nil { out.append((prefix + "macro_f1", r.macro.f1)) }
        if let auc = r.rocAUC { out.append((prefix + "roc_auc", auc)) }
        return out
    }
}

/// Trains one `ClassifierModel` on `DatasetSplits` with AdamW under a `TrainingRecipe`, evaluating
/// on the whole validation split after every epoch.
///
/// Guarantees: the run depends only on the model's initial weights and random state, the data
/// and the recipe (batches come from `BatchIterator(seed:)`, dropout from the model's
/// `randomState`), so two runs with equal inputs are bit-identical; `state`/`restore` capture
/// everything that evolves (weights, AdamW moments, position, random state), so a run restored
/// from a checkpoint continues exactly as the uninterrupted run would have. Metrics are computed
/// over the whole split at once, not averaged over batches.
public final class Trainer {
    public let model: any ClassifierModel
    public let splits: DatasetSplits
    public let recipe: TrainingRecipe
    public let totalSteps: Int
    public private(set) var position = TrainingPosition()
    public let optimizer: AdamW
    private let loss: TrainingLoss
    private let schedule: any LearningRateSchedule
    private let batches: BatchIterator

    public init(model: any ClassifierModel, splits: DatasetSplits, recipe: TrainingRecipe) throws(TrainingError) {
        guard splits.train.classCount == model.output.classCount else {
            throw .data("the data has \(splits.train.classCount) classes, the model predicts \(model.output.classCount)")
        }
        guard splits.train.count > 0 else { throw .data("the training split is empty") }
        guard let batches = BatchIterator(count: splits.train.count, batchSize: recipe.batchSize,
                                          shuffle: recipe.shuffle, seed: recipe.seed) else {
            throw .parameter("batch_size", "must be positive, got \(recipe.batchSize)")
        }
        if let maxSteps = recipe.maxSteps, maxSteps < 0 { throw .parameter("max_steps", "must be ≥ 0, got \(maxSteps)") }
        self.model = model
        self.splits = splits
        self.recipe = recipe
        self.batches = batches
        self.totalSteps = recipe.totalSteps(trainCount: splits.train.count)
        // The schedule spans the planned epochs whatever `maxSteps` says, so a run cut short by
        // `--max-steps` takes exactly the first steps of the full run (and can be resumed into it).
        var planned = recipe
        planned.maxSteps = nil
        self.schedule = try recipe.schedule(totalSteps: planned.totalSteps(trainCount: splits.train.count))
        self.loss = try recipe.loss(for: model.output)
        do {
            optimizer = try AdamW(parameters: model.parameters.filter(\.isTrainable),
                                  learningRate: recipe.learningRate, weightDecay: recipe.weightDecay)
        } catch { throw .optimizer(error) }
    }

    /// True when the run has taken all its steps.
    public var isFinished: Bool { position.step >= totalSteps }

    /// Trains to the end (or until `onEvaluation` returns false), calling `onEvaluation` after each
    /// epoch and at a `maxSteps` stop. Returns the evaluations made by this call.
    @discardableResult
    public func run(onEvaluation: (EvaluationRecord) throws(TrainingError) -> Bool = { _ in true })
        throws(TrainingError) -> [EvaluationRecord] {
        var records: [EvaluationRecord] = []
        while !isFinished {
            let order = batches.batches(epoch: position.epoch)
            model.isTraining = true
            while position.batchInEpoch < order.count && !isFinished {
                try trainStep(order[position.batchInEpoch])
            }
            if position.batchInEpoch == order.count {
                position.epoch += 1
                position.batchInEpoch = 0
            }
            let record = try evaluationRecord()
            if position.batchInEpoch == 0 { position.epochLossSum = 0; position.epochExamples = 0 }
            records.append(record)
            guard try onEvaluation(record) else { break }
        }
        model.isTraining = false
        return records
    }

    private func trainStep(_ batch: [Int]) throws(TrainingError) {
        optimizer.zeroGrad()
        let logits: Tensor
        do { logits = try model.forward(splits.train.batch(batch)) } catch { throw .model(error) }
        let result = loss(logits, splits.train.labels(batch))
        guard result.loss.isFinite else {
            throw .data("training loss became \(result.loss) at step \(position.step + 1); lower lr or set max_grad_norm")
        }
        model.backward(result.gradient)
        if let maxNorm = recipe.maxGradNorm { GradientClipping.clipGlobalNorm(optimizer.parameters, maxNorm: Float(maxNorm)) }
        optimizer.learningRate = schedule.learningRate(base: recipe.learningRate, step: position.step)
        do { try optimizer.step() } catch { throw .optimizer(error) }
        position.step += 1
        position.batchInEpoch += 1
        position.epochLossSum += Double(result.loss) * Double(batch.count)
        position.epochExamples += batch.count
    }

    private func evaluationRecord() throws(TrainingError) -> EvaluationRecord {
        var valLoss: Double?, report: ClassificationReport?
        if let validation = splits.validation, validation.count > 0 {
            (valLoss, report) = try evaluate(validation)
        }
        let epochNumber = position.batchInEpoch == 0 ? position.epoch : position.epoch + 1
        return EvaluationRecord(
            epoch: epochNumber, step: position.step,
            trainLoss: position.epochLossSum / Double(max(position.epochExamples, 1)),
            learningRate: schedule.learningRate(base: recipe.learningRate, step: max(position.step - 1, 0)),
            validationLoss: valLoss, validation: report)
    }

    /// Loss and metrics of the model in evaluation mode over the whole of `data`; the forward pass
    /// runs in chunks of `evaluationBatchSize` and the loss and metrics over all logits at once.
    public func evaluate(_ data: ClassificationDataset) throws(TrainingError) -> (loss: Double, report: ClassificationReport) {
        let wasTraining = model.isTraining
        model.isTraining = false
        defer { model.isTraining = wasTraining }
        var logits: [Float] = []
        var width = 1
        let chunk = max(1, recipe.evaluationBatchSize > 0 ? recipe.evaluationBatchSize : recipe.batchSize)
        var start = 0
        while start < data.count {
            let indices = Array(start..<min(start + chunk, data.count))
            let out: Tensor
            do { out = try model.forward(data.batch(indices)) } catch { throw .model(error) }
            width = out.shape.last ?? 1
            logits += out.storage
            start += chunk
        }
        let all = Tensor(shape: [data.count, width], storage: logits) ?? Tensor(zeros: [data.count, width])
        let lossValue = Double(loss(all, data.labels).loss)
        do {
            switch model.output {
            case .binaryLogit:
                let p = all.storage.map { Elementwise.sigmoid($0) }
                return (lossValue, try ClassificationReport(labels: data.labels, positiveProbabilities: p))
            case .classLogits:
                return (lossValue, try ClassificationReport(labels: data.labels, probabilities: MLPClassifier.softmax(all)))
            }
        } catch { throw .metrics(error) }
    }

    /// Everything that evolves during training.
    public var state: TrainingState {
        TrainingState(position: position, weights: model.weights, optimizer: optimizer.state, random: model.randomState)
    }

    /// Continues from `state` (taken from a run of the same model shape, data and recipe). On error
    /// nothing is changed.
    public func restore(_ state: TrainingState) throws(TrainingError) {
        guard state.position.step <= totalSteps else {
            throw .checkpoint("the checkpoint is at step \(state.position.step), past this run's \(totalSteps) steps")
        }
        guard state.random.count == model.randomState.count else {
            throw .checkpoint("the checkpoint has \(state.random.count) random streams, \(model.kind) has \(model.randomState.count)")
        }
        let previousWeights = model.weights
        do { try model.load(weights: state.weights) } catch { throw .model(error) }
        do { try optimizer.loadState(state.optimizer) } catch {
            try? model.load(weights: previousWeights)
            throw .optimizer(error)
        }
        model.randomState = state.random
        position = state.position
    }
}

/// A snapshot of a training run (see `Trainer.state`).
public struct TrainingState: Sendable, Equatable {
    public var position: TrainingPosition
    public var weights: [String: Tensor]
    public var optimizer: [String: Tensor]
    public var random: [EngineRandom]
}
