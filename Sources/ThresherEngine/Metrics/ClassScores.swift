/// Precision, recall and F1 of one class (or their macro average), with scikit-learn's
/// `zero_division=0`: a ratio whose denominator is 0 is 0 (precision of a class never predicted,
/// recall of a class absent from the labels, F1 when both are 0).
///
/// F1 is 2·tp / (2·tp + fp + fn), which equals 2·P·R / (P + R) whenever that is defined, as
/// scikit-learn computes it. `support` is the number of samples whose label is the class (for a
/// macro average, the number of samples).
public struct ClassScores: Sendable, Equatable, Codable {
    public let precision: Double
    public let recall: Double
    public let f1: Double
    public let support: Int

    public init(precision: Double, recall: Double, f1: Double, support: Int) {
        self.precision = precision
        self.recall = recall
        self.f1 = f1
        self.support = support
    }

    /// Scores from the counts of true positives, false positives and false negatives.
    public init(truePositives tp: Int, falsePositives fp: Int, falseNegatives fn: Int) {
        func ratio(_ numerator: Int, _ denominator: Int) -> Double {
            denominator == 0 ? 0 : Double(numerator) / Double(denominator)
        }
        self.init(precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn), f1: ratio(2 * tp, 2 * tp + fp + fn), support: tp + fn)
    }
}
