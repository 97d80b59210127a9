import Foundation

/// Cross-entropy over logits [N, C] with integer class targets, as PyTorch's
/// `nn.CrossEntropyLoss(weight=w, label_smoothing=ε, ignore_index=…)`, class weights and label
/// smoothing together.
///
/// With log-probabilities ℓ_ic = x_ic − logsumexp_c(x_i), target y_i, class weights w_c (all 1
/// without `weight`), and the rows R not ignored, PyTorch computes
///
///     nll    = Σ_{i∈R} −w_{y_i} ℓ_{i,y_i}
///     smooth = Σ_{i∈R} Σ_c −w_c ℓ_ic
///     loss   = [ (1 − ε)·nll + (ε/C)·smooth ] / W
///
/// with W = Σ_{i∈R} w_{y_i} for `.mean` (the weighted mean: the sum of the *target* classes'
/// weights, for the smoothing term too — PyTorch's `cross_entropy` divides `smooth_loss.sum()` by
/// `weight.gather(0, target).sum()`) and W = 1 for `.sum`. Without weights W is |R|. If every
/// row is ignored, `.mean` gives NaN as PyTorch does.
///
/// The gradient, with softmax s_ic and a_i = (1 − ε)·w_{y_i} + (ε/C)·Σ_c w_c:
///
///     ∂loss/∂x_ik = [ a_i·s_ik − (1 − ε)·w_{y_i}·[k = y_i] − (ε/C)·w_k ] / W   (0 for ignored rows)
///
/// logsumexp is shifted by the row maximum and summed in Double.
public struct CrossEntropyLoss: Sendable {
    public let weight: [Float]?
    public let labelSmoothing: Float
    public let ignoreIndex: Int?
    public let reduction: LossReduction

    public init(weight: [Float]? = nil, labelSmoothing: Float = 0, ignoreIndex: Int? = nil,
                reduction: LossReduction = .mean) {
        precondition(labelSmoothing >= 0 && labelSmoothing <= 1,
                     "CrossEntropyLoss: label smoothing must be in [0, 1], got \(labelSmoothing)")
        self.weight = weight
        self.labelSmoothing = labelSmoothing
        self.ignoreIndex = ignoreIndex
        self.reduction = reduction
    }

    /// The loss and dLoss/dLogits for logits [N, C] and N targets in 0..<C (or `ignoreIndex`).
    public func callAsFunction(_ logits: Tensor, _ targets: [Int]) -> LossResult {
        precondition(logits.rank == 2, "CrossEntropyLoss expects logits [N, C], got \(logits.shape)")
        let (rows, classes) = (logits.shape[0], logits.shape[1])
        precondition(targets.count == rows, "CrossEntropyLoss: \(targets.count) targets for \(rows) rows")
        let w = weight ?? [Float](repeating: 1, count: classes)
        precondition(w.count == classes, "CrossEntropyLoss: \(w.count) class weights for \(classes) classes")
        for (i, t) in targets.enumerated() where t != ignoreIndex {
            precondition(t >= 0 && t < classes, "CrossEntropyLoss: target \(t) of row \(i) is outside 0..<\(classes)")
        }
        let eps = Double(labelSmoothing)
        let perClass = eps / Double(classes)
        let weightSum = w.reduce(0.0) { $0 + Double($1) }

        var gradient = Tensor(zeros: logits.shape)
        var total = 0.0
        var denominator = 0.0
        var logProb = [Double](repeating: 0, count: classes)
        logits.withPointer { xp in
            gradient.withMutablePointer { gp in
                for i in 0..<rows where targets[i] != ignoreIndex {
                    let x = xp + i * classes, g = gp + i * classes
                    let y = targets[i]
                    var m = -Float.infinity
                    for c in 0..<classes { m = max(m, x[c]) }
                    var sumExp = 0.0
                    for c in 0..<classes { sumExp += Double(Foundation.exp(x[c] - m)) }
                    let lse = Double(m) + Foundation.log(sumExp)
                    var smooth = 0.0
                    for c in 0..<classes {
                        logProb[c] = Double(x[c]) - lse
                        smooth -= Double(w[c]) * logProb[c]
                    }
                    let wy = Double(w[y])
                    total += (1 - eps) * wy * -logProb[y] + perClass * smooth
                    denominator += wy
                    let a = (1 - eps) * wy + perClass * weightSum
                    for c in 0..<classes {
                        let hit = c == y ? (1 - eps) * wy : 0
                        g[c] = Float(a * Foundation.exp(logProb[c]) - perClass * Double(w[c]) - hit)
                    }
                }
            }
        }
        let divisor = reduction == .mean ? denominator : 1
        gradient.withMutablePointer { Elementwise.scale($0, by: Float(1 / divisor), count: rows * classes) }
        return LossResult(loss: Float(total / divisor), gradient: gradient)
    }
}
