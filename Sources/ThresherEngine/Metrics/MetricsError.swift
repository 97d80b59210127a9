/// Why a metric could not be computed. The metrics never trap on bad input; each problem is one case
/// naming the offending index or value.
public enum MetricsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No samples: every metric over an empty split is undefined.
    case empty
    /// `labels` and the predictions or probabilities differ in length.
    case lengthMismatch(labels: Int, predictions: Int)
    /// A class count below 1 (below 2 for binary metrics).
    case invalidClassCount(Int)
    /// A label outside 0..<classCount.
    case labelOutOfRange(index: Int, value: Int, classCount: Int)
    /// A predicted class outside 0..<classCount.
    case predictionOutOfRange(index: Int, value: Int, classCount: Int)
    /// A probability or score that is NaN or infinite (scikit-learn rejects these too).
    case nonFiniteValue(index: Int)
    /// A probability outside [0, 1] (scikit-learn's log_loss rejects these).
    case probabilityOutOfRange(index: Int, value: Double)
    /// Probabilities are not an [N, C] matrix matching the labels.
    case probabilityShape(expected: [Int], found: [Int])
    /// ROC-AUC needs both classes among the labels (scikit-learn raises "Only one class present in y_true").
    case singleClass(Int)
    /// One-vs-rest ROC-AUC needs every class among the labels (scikit-learn raises "Number of classes
    /// in y_true not equal to the number of columns in 'y_score'").
    case classAbsent(Int)
    /// One-vs-rest ROC-AUC needs rows that sum to 1 (scikit-learn's `np.allclose(1, row sum)`).
    case rowNotNormalized(row: Int, sum: Double)

    public var description: String {
        switch self {
        case .empty: return "metrics: no samples"
        case let .lengthMismatch(labels, predictions): return "metrics: \(labels) labels but \(predictions) predictions"
        case let .invalidClassCount(count): return "metrics: invalid class count \(count)"
        case let .labelOutOfRange(index, value, count): return "metrics: label \(value) at \(index) is outside 0..<\(count)"
        case let .predictionOutOfRange(index, value, count): return "metrics: prediction \(value) at \(index) is outside 0..<\(count)"
        case let .nonFiniteValue(index): return "metrics: value at \(index) is not finite"
        case let .probabilityOutOfRange(index, value): return "metrics: probability \(value) at \(index) is outside [0, 1]"
        case let .probabilityShape(expected, found): return "metrics: probabilities have shape \(found), expected \(expected)"
        case let .singleClass(label): return "metrics: ROC-AUC is undefined when every label is \(label)"
        case let .classAbsent(c): return "metrics: one-vs-rest ROC-AUC is undefined: class \(c) never occurs in the labels"
        case let .rowNotNormalized(row, sum): return "metrics: probabilities of row \(row) sum to \(sum), not 1"
        }
    }
}
