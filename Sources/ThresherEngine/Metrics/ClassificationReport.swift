/// Every classification metric of one split, computed once over all of its samples (not averaged
/// over mini-batches, which is what the original notebooks did and which these numbers are not).
///
/// Semantics are scikit-learn's, as documented on each source type: `ConfusionMatrix` (accuracy,
/// balanced accuracy, per-class and macro precision/recall/F1 with zero_division=0), `ROCAUC`
/// (nil where scikit-learn raises, e.g. a split with one class), `LogLoss` (eps =
/// Float32's machine epsilon, as scikit-learn uses for the float32 probabilities the engine produces).
public struct ClassificationReport: Sendable, Equatable, Codable {
    public let confusionMatrix: ConfusionMatrix
    public let accuracy: Double
    public let balancedAccuracy: Double
    /// Scores of each class 0..<classCount.
    public let perClass: [ClassScores]
    /// Macro average over the classes present in labels or predictions.
    public let macro: ClassScores
    /// Scores of class 1 with two classes (scikit-learn's `average="binary"`, `pos_label=1`); nil otherwise.
    public let positive: ClassScores?
    /// ROC-AUC from probabilities (binary, or one-vs-rest macro for more than two classes; see
    /// `ROCAUC`); nil without probabilities or where scikit-learn raises (a class absent from the labels).
    public let rocAUC: Double?
    /// Log loss; nil when the report was built from predictions alone.
    public let logLoss: Double?

    public var classCount: Int { confusionMatrix.classCount }
    public var sampleCount: Int { confusionMatrix.sampleCount }

    /// The precision/recall/F1 a one-line summary reports: `positive` for two classes, `macro` otherwise.
    public var primary: ClassScores { positive ?? macro }

    /// From hard predictions only (no ROC-AUC, no log loss).
    public init(labels: [Int], predictions: [Int], classCount: Int) throws(MetricsError) {
        try self.init(matrix: ConfusionMatrix(labels: labels, predictions: predictions, classCount: classCount), rocAUC: nil, logLoss: nil)
    }

    /// Binary, from P(label 1) per sample: predicts 1 when p > threshold (scikit-learn's `predict`
    /// convention: p = 0.5 predicts 0), and adds ROC-AUC and log loss.
    public init(labels: [Int], positiveProbabilities: [Float], threshold: Float = 0.5) throws(MetricsError) {
        let probabilities = positiveProbabilities.map(Double.init)
        let loss = try LogLoss.binary(labels: labels, probabilities: probabilities, epsilon: Double(Float.ulpOfOne))
        let auc: Double?
        do {
            auc = try ROCAUC.binary(labels: labels, scores: probabilities)
        } catch .singleClass {
            auc = nil
        }
        let predictions = positiveProbabilities.map { $0 > threshold ? 1 : 0 }
        try self.init(matrix: ConfusionMatrix(labels: labels, predictions: predictions, classCount: 2), rocAUC: auc, logLoss: loss)
    }

    /// From an [N, C] tensor of class probabilities (rows of a softmax): predicts each row's arg-max
    /// (the first on ties, as `numpy.argmax`), adds log loss and ROC-AUC (C = 2: binary on column 1;
    /// C > 2: one-vs-rest macro, nil when a class is absent from the labels or a row does not sum to 1).
    public init(labels: [Int], probabilities: Tensor) throws(MetricsError) {
        guard probabilities.rank == 2, probabilities.shape[0] == labels.count, probabilities.shape[1] >= 2 else {
            throw .probabilityShape(expected: [labels.count, max(2, probabilities.shape.last ?? 2)], found: probabilities.shape)
        }
        let classCount = probabilities.shape[1]
        let values = probabilities.storage.map(Double.init)
        let loss = try LogLoss.multiclass(labels: labels, probabilities: values, classCount: classCount, epsilon: Double(Float.ulpOfOne))
        let predictions = labels.indices.map { i in
            let row = values[(i * classCount)..<((i + 1) * classCount)]
            return (row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) } ?? i * classCount) - i * classCount
        }
        let auc: Double?
        do {
            auc = try ROCAUC.oneVsRest(labels: labels, probabilities: values, classCount: classCount)
        } catch .singleClass, .classAbsent, .rowNotNormalized {
            auc = nil
        }
        try self.init(matrix: ConfusionMatrix(labels: labels, predictions: predictions, classCount: classCount), rocAUC: auc, logLoss: loss)
    }

    private init(matrix: ConfusionMatrix, rocAUC: Double?, logLoss: Double?) throws(MetricsError) {
        confusionMatrix = matrix
        accuracy = matrix.accuracy
        balancedAccuracy = matrix.balancedAccuracy
        perClass = matrix.perClass
        macro = matrix.macro
        positive = matrix.classCount == 2 ? matrix.scores(for: 1) : nil
        self.rocAUC = rocAUC
        self.logLoss = logLoss
    }
}
