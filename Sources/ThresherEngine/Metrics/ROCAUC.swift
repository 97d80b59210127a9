/// Area under the ROC curve for binary labels: scikit-learn's `roc_auc_score(y_true, y_score)`.
///
/// Computed as the Mann–Whitney statistic with average ranks for tied scores,
/// AUC = (Σ ranks of positives − n₊(n₊ + 1)/2) / (n₊ · n₋), which equals scikit-learn's trapezoidal
/// area under `roc_curve` exactly (a run of tied scores is one diagonal segment, i.e. each tied
/// positive–negative pair counts ½). Scores need only be ordered like probabilities (logits work too).
public enum ROCAUC {
    /// Labels must be 0 or 1 (1 is the positive class, scikit-learn's `pos_label=1`) and scores finite.
    /// Throws `singleClass` when only one class occurs in the labels, where scikit-learn raises
    /// ("Only one class present in y_true"); `ClassificationReport` turns that into a nil `rocAUC`.
    public static func binary(labels: [Int], scores: [Double]) throws(MetricsError) -> Double {
        guard labels.count == scores.count else { throw .lengthMismatch(labels: labels.count, predictions: scores.count) }
        guard !labels.isEmpty else { throw .empty }
        for (i, label) in labels.enumerated() where label != 0 && label != 1 {
            throw .labelOutOfRange(index: i, value: label, classCount: 2)
        }
        if let i = scores.firstIndex(where: { !$0.isFinite }) { throw .nonFiniteValue(index: i) }
        let positives = labels.reduce(0, +)
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { throw .singleClass(labels[0]) }

        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var positiveRankSum = 0.0
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count, scores[order[end]] == scores[order[start]] { end += 1 }
            // Ranks start+1 ... end (1-based) share their average.
            let averageRank = Double(start + 1 + end) / 2
            for k in start..<end where labels[order[k]] == 1 { positiveRankSum += averageRank }
            start = end
        }
        let p = Double(positives)
        return (positiveRankSum - p * (p + 1) / 2) / (p * Double(negatives))
    }

    /// Multiclass one-vs-rest macro ROC-AUC: scikit-learn's `roc_auc_score(y, P, multi_class="ovr",
    /// average="macro")` — the unweighted mean over classes c of `binary(labels == c, P[:, c])`.
    /// `probabilities` is row-major [N, classCount]; as scikit-learn, every class must occur in the
    /// labels (`classAbsent`), and each row must sum to 1 within `numpy.allclose`'s tolerance
    /// (|sum − 1| ≤ 1e-8 + 1e-5; `rowNotNormalized`). With two classes this is `binary` on column 1.
    public static func oneVsRest(labels: [Int], probabilities: [Double], classCount: Int) throws(MetricsError) -> Double {
        guard classCount >= 2 else { throw .invalidClassCount(classCount) }
        guard !labels.isEmpty else { throw .empty }
        guard probabilities.count == labels.count * classCount else {
            throw .probabilityShape(expected: [labels.count, classCount], found: [probabilities.count])
        }
        if let i = probabilities.firstIndex(where: { !$0.isFinite }) { throw .nonFiniteValue(index: i) }
        var present = [Bool](repeating: false, count: classCount)
        for (i, label) in labels.enumerated() {
            guard (0..<classCount).contains(label) else { throw .labelOutOfRange(index: i, value: label, classCount: classCount) }
            present[label] = true
        }
        if let absent = present.firstIndex(of: false) { throw .classAbsent(absent) }
        if classCount == 2 { return try binary(labels: labels, scores: labels.indices.map { probabilities[2 * $0 + 1] }) }
        for row in labels.indices {
            let sum = probabilities[(row * classCount)..<((row + 1) * classCount)].reduce(0, +)
            guard abs(sum - 1) <= 1e-8 + 1e-5 else { throw .rowNotNormalized(row: row, sum: sum) }
        }
        var total = 0.0
        for c in 0..<classCount {
            total += try binary(labels: labels.map { $0 == c ? 1 : 0 }, scores: labels.indices.map { probabilities[$0 * classCount + c] })
        }
        return total / Double(classCount)
    }
}
