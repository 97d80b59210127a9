import Foundation

/// Mean negative log-likelihood of the true classes: scikit-learn's `log_loss` (`normalize=True`).
///
/// As scikit-learn (1.5 and later): probabilities must lie in [0, 1]; each is clipped to
/// [eps, 1 − eps] before its logarithm, where scikit-learn's eps is the machine epsilon of the
/// array's dtype — pass `Double.ulpOfOne` (the default) to match a float64 array and
/// `Double(Float.ulpOfOne)` to match a float32 one (`ClassificationReport` does the latter, since
/// the engine's probabilities are Float32). Rows are not renormalised. Unlike scikit-learn without
/// `labels=`, the classes are always 0..<classCount, so a split whose labels are all one class is
/// fine (scikit-learn would ask for `labels`). Logarithms and the sum are in Double.
public enum LogLoss {
    /// Binary: `probabilities[i]` is P(label 1); a label-0 sample contributes −log(clip(1 − p)),
    /// a label-1 sample −log(clip(p)), as scikit-learn's two-column expansion does.
    public static func binary(labels: [Int], probabilities: [Double], epsilon: Double = .ulpOfOne) throws(MetricsError) -> Double {
        guard labels.count == probabilities.count else { throw .lengthMismatch(labels: labels.count, predictions: probabilities.count) }
        guard !labels.isEmpty else { throw .empty }
        var total = 0.0
        for (i, (label, p)) in zip(labels, probabilities).enumerated() {
            guard label == 0 || label == 1 else { throw .labelOutOfRange(index: i, value: label, classCount: 2) }
            try check(p, at: i)
            total -= log(clip(label == 1 ? p : 1 - p, epsilon))
        }
        return total / Double(labels.count)
    }

    /// Multiclass: `probabilities` is row-major [N, classCount], row i the distribution for sample i.
    public static func multiclass(
        labels: [Int], probabilities: [Double], classCount: Int, epsilon: Double = .ulpOfOne
    ) throws(MetricsError) -> Double {
        guard classCount >= 2 else { throw .invalidClassCount(classCount) }
        guard !labels.isEmpty else { throw .empty }
        guard probabilities.count == labels.count * classCount else {
            throw .probabilityShape(expected: [labels.count, classCount], found: [probabilities.count])
        }
        for (i, p) in probabilities.enumerated() { try check(p, at: i) }
        var total = 0.0
        for (i, label) in labels.enumerated() {
            guard (0..<classCount).contains(label) else { throw .labelOutOfRange(index: i, value: label, classCount: classCount) }
            total -= log(clip(probabilities[i * classCount + label], epsilon))
        }
        return total / Double(labels.count)
    }

    private static func check(_ p: Double, at index: Int) throws(MetricsError) {
        guard p.isFinite else { throw .nonFiniteValue(index: index) }
        guard p >= 0, p <= 1 else { throw .probabilityOutOfRange(index: index, value: p) }
    }

    private static func clip(_ p: Double, _ epsilon: Double) -> Double {
        min(max(p, epsilon), 1 - epsilon)
    }
}
