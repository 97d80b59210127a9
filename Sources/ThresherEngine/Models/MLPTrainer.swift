/// Why training stopped with an error.
public enum TrainerError: Error, Sendable, Equatable, CustomStringConvertible {
    case optimizer(OptimizerError)
    case metrics(MetricsError)
    /// The data do not fit the model (shape or label range); the message says how.
    case data(String)
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .optimizer(let e): return "optimizer: \(e)"
        case .metrics(let e): return "metrics: \(e)"
        case .data(let m): return "data: \(m)"
        case .invalidConfiguration(let m): return "configuration: \(m)"
        }
    }
}

/// Features [N, F] and class indices, as the trainer consumes them.
public struct LabeledData: Sendable {
    public let features: Tensor
    public let labels: [Int]
    public init(features: Tensor, labels: [Int]) {
        self.features = features
        self.labels = labels
    }
    public init(_ table: NumericTable) { self.init(features: table.features, labels: table.labels) }
    public var count: Int { labels.count }

    /// The rows at `indices`, in order.
    public func rows(_ indices: [Int]) -> (Tensor, [Int]) {
        let f = features.rank == 2 ? features.shape[1] : 0
        var storage = [Float](repeating: 0, count: indices.count * f)
        for (r, i) in indices.enumerated() {
            storage.replaceSubrange((r * f)..<((r + 1) * f), with: features.storage[(i * f)..<((i + 1) * f)])
        }
        return (Tensor(shape: [indices.count, f], storage: storage) ?? Tensor(zeros: [indices.count, f]),
                indices.map { labels[$0] })
    }
}

/// The metrics of one epoch. Validation metrics cover the whole validation split at once.
public struct EpochMetrics: Sendable {
    public let epoch: Int
    /// Optimizer steps completed so far.
    public let step: Int
    /// Mean of the per-batch training losses, weighted by batch size.
    public let trainLoss: Double
    public let validationLoss: Double?
    public let validation: ClassificationReport?
}

/// A small, pure training loop for `MLPClassifier`: AdamW, a learning-rate schedule per step,
/// optional clipping by global norm, `BatchIterator` batches, and an evaluation of the whole
/// validation split after each epoch. No printing, no files; the result depends only on the model's
/// initial weights, the data and this configuration.
public struct MLPTrainer: Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Double
    public var weightDecay: Double
    public var schedule: any LearningRateSchedule
    public var maxGradNorm: Float?
    public var shuffle: Bool
    public var seed: UInt64
    public var loss: CrossEntropyLoss

    public init(epochs: Int, batchSize: Int = 64, learningRate: Double = 1e-3, weightDecay: Double = 0.01,
                schedule: any LearningRateSchedule = ConstantLearningRate(), maxGradNorm: Float? = nil,
                shuffle: Bool = true, seed: UInt64 = 0, loss: CrossEntropyLoss = CrossEntropyLoss()) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.schedule = schedule
        self.maxGradNorm = maxGradNorm
        self.shuffle = shuffle
        self.seed = seed
        self.loss = loss
    }

    /// Trains `model` in place and returns one `EpochMetrics` per epoch.
    public func train(_ model: MLPClassifier, on train: LabeledData,
                      validation: LabeledData? = nil) throws(TrainerError) -> [EpochMetrics] {
        guard epochs >= 0 else { throw .invalidConfiguration("epochs must be ≥ 0, got \(epochs)") }
        guard let batches = BatchIterator(count: train.count, batchSize: batchSize, shuffle: shuffle, seed: seed) else {
            throw .invalidConfiguration("batch size must be positive, got \(batchSize)")
        }
        try check(train, for: model, name: "training")
        if let validation { try check(validation, for: model, name: "validation") }
        let optimizer: AdamW
        do {
            optimizer = try AdamW(parameters: model.parameters, learningRate: learningRate, weightDecay: weightDecay)
        } catch { throw .optimizer(error) }

        var step = 0
        var history: [EpochMetrics] = []
        for epoch in 0..<epochs {
            model.isTraining = true
            var lossSum = 0.0
            for batch in batches.batches(epoch: epoch) {
                let (x, y) = train.rows(batch)
                optimizer.zeroGrad()
                let result = loss(model.forward(x), y)
                model.backward(result.gradient)
                if let maxGradNorm { GradientClipping.clipGlobalNorm(model.parameters, maxNorm: maxGradNorm) }
                optimizer.learningRate = schedule.learningRate(base: learningRate, step: step)
                do { try optimizer.step() } catch { throw .optimizer(error) }
                step += 1
                lossSum += Double(result.loss) * Double(batch.count)
            }
            var valLoss: Double?
            var report: ClassificationReport?
            if let validation, validation.count > 0 {
                (valLoss, report) = try evaluate(model, on: validation)
            }
            history.append(EpochMetrics(epoch: epoch, step: step, trainLoss: lossSum / Double(max(train.count, 1)),
                                        validationLoss: valLoss, validation: report))
        }
        model.isTraining = false
        return history
    }

    /// Loss and metrics of `model` (evaluation mode) over the whole of `data`.
    public func evaluate(_ model: MLPClassifier, on data: LabeledData) throws(TrainerError) -> (Double, ClassificationReport) {
        try check(data, for: model, name: "evaluation")
        let wasTraining = model.isTraining
        model.isTraining = false
        defer { model.isTraining = wasTraining }
        let logits = model.forward(data.features)
        let lossValue = Double(loss(logits, data.labels).loss)
        do {
            let report = try ClassificationReport(labels: data.labels, probabilities: MLPClassifier.softmax(logits))
            return (lossValue, report)
        } catch { throw .metrics(error) }
    }

    private func check(_ data: LabeledData, for model: MLPClassifier, name: String) throws(TrainerError) {
        guard data.features.rank == 2, data.features.shape == [data.count, model.inputSize] else {
            throw .data("\(name) features must be [\(data.count), \(model.inputSize)], got \(data.features.shape)")
        }
        if let bad = data.labels.firstIndex(where: { $0 < 0 || $0 >= model.classCount }) {
            throw .data("\(name) label \(data.labels[bad]) at row \(bad) is outside 0..<\(model.classCount)")
        }
    }
}
