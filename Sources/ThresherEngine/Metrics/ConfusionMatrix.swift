/// A confusion matrix over a whole split and the label-based metrics derived from it.
///
/// Rows are true classes, columns predicted classes (scikit-learn's `confusion_matrix` layout), always
/// `classCount` × `classCount` — scikit-learn's with `labels=range(classCount)`. The metrics are
/// computed once over every sample of the split, not averaged over mini-batches (the notebooks
/// averaged per-batch metrics, which weights small last batches wrongly and is not what these are).
///
/// Averages follow scikit-learn's defaults (`labels=None`, so the classes that occur in the labels
/// or the predictions): `macro` averages the per-class scores over those classes, and
/// `balancedAccuracy` is scikit-learn's `balanced_accuracy_score`, the mean recall over the classes
/// that occur in the labels — so a class that is predicted but never true counts (as 0) in macro
/// recall but not in balanced accuracy. zero_division is 0 throughout (see `ClassScores`).
public struct ConfusionMatrix: Sendable, Equatable, Codable {
    public let classCount: Int
    /// `counts[t][p]`: samples of true class t predicted as p.
    public let counts: [[Int]]

    /// Counts `labels` against `predictions`; both must have the same non-zero length and values in 0..<classCount.
    public init(labels: [Int], predictions: [Int], classCount: Int) throws(MetricsError) {
        guard classCount >= 1 else { throw .invalidClassCount(classCount) }
        guard labels.count == predictions.count else { throw .lengthMismatch(labels: labels.count, predictions: predictions.count) }
        guard !labels.isEmpty else { throw .empty }
        var counts = [[Int]](repeating: [Int](repeating: 0, count: classCount), count: classCount)
        for (i, (label, prediction)) in zip(labels, predictions).enumerated() {
            guard (0..<classCount).contains(label) else { throw .labelOutOfRange(index: i, value: label, classCount: classCount) }
            guard (0..<classCount).contains(prediction) else {
                throw .predictionOutOfRange(index: i, value: prediction, classCount: classCount)
            }
            counts[label][prediction] += 1
        }
        self.classCount = classCount
        self.counts = counts
    }

    public var sampleCount: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }

    /// Samples whose label is `c`.
    public func support(of c: Int) -> Int { counts[c].reduce(0, +) }

    /// Samples predicted as `c`.
    public func predictedCount(of c: Int) -> Int { counts.reduce(0) { $0 + $1[c] } }

    /// Fraction of samples predicted correctly (scikit-learn's `accuracy_score`).
    public var accuracy: Double {
        Double((0..<classCount).reduce(0) { $0 + counts[$1][$1] }) / Double(sampleCount)
    }

    /// Precision, recall, F1 and support of class `c` (scikit-learn's `average=None` entry for c;
    /// with c the positive class, its `average="binary"` scores).
    public func scores(for c: Int) -> ClassScores {
        let tp = counts[c][c]
        return ClassScores(truePositives: tp, falsePositives: predictedCount(of: c) - tp, falseNegatives: support(of: c) - tp)
    }

    /// Scores of every class 0..<classCount.
    public var perClass: [ClassScores] { (0..<classCount).map(scores(for:)) }

    /// Classes that occur among the labels or the predictions (scikit-learn's `unique_labels`).
    public var presentClasses: [Int] {
        (0..<classCount).filter { support(of: $0) > 0 || predictedCount(of: $0) > 0 }
    }

    /// Unweighted mean of the per-class scores over `presentClasses` (scikit-learn's `average="macro"`);
    /// F1 is the mean of the per-class F1s, not the F1 of the mean precision and recall.
    public var macro: ClassScores {
        let present = presentClasses.map(scores(for:))
        let n = Double(present.count)
        return ClassScores(
            precision: present.reduce(0) { $0 + $1.precision } / n, recall: present.reduce(0) { $0 + $1.recall } / n,
            f1: present.reduce(0) { $0 + $1.f1 } / n, support: sampleCount)
    }

    /// Mean recall over the classes that occur in the labels (scikit-learn's `balanced_accuracy_score`,
    /// `adjusted=False`).
    public var balancedAccuracy: Double {
        let recalls = (0..<classCount).filter { support(of: $0) > 0 }.map { Double(counts[$0][$0]) / Double(support(of: $0)) }
        return recalls.reduce(0, +) / Double(recalls.count)
    }
}

extension ConfusionMatrix {
    private enum CodingKeys: String, CodingKey { case classCount, counts }

    /// Decodes and validates: `counts` must be `classCount` rows of `classCount` non-negative counts
    /// with at least one sample, as the counting initialiser guarantees.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let classCount = try container.decode(Int.self, forKey: .classCount)
        let counts = try container.decode([[Int]].self, forKey: .counts)
        guard classCount >= 1, counts.count == classCount, counts.allSatisfy({ $0.count == classCount && $0.allSatisfy { $0 >= 0 } }),
              counts.contains(where: { $0.contains { $0 > 0 } })
        else {
            throw DecodingError.dataCorruptedError(
                forKey: .counts, in: container, debugDescription: "counts must be \(classCount)×\(classCount) non-negative with a sample")
        }
        self.classCount = classCount
        self.counts = counts
    }
}
