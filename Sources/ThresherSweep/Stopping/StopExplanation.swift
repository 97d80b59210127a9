/// Why a trial was stopped: where, against what, and how it ranked.
///
/// `value` and `threshold` are in the metric's own sign (an accuracy stays positive under
/// `goal: maximize`); `rank` is 1-based, 1 being the best of the `comparedCount` values the
/// policy compared, the stopped trial's own value included.
public struct StopExplanation: Sendable, Hashable, CustomStringConvertible {
    /// The policy that decided.
    public enum Policy: String, Sendable, Hashable, CaseIterable {
        case hyperband, asha, median
    }

    /// Where in the schedule the decision was taken.
    public enum Stage: Sendable, Hashable, CustomStringConvertible {
        /// A hyperband band: the iteration count it sits at (W&B names bands by iteration).
        case band(Int)
        /// An ASHA rung: its index k (rung at grace · rfᵏ) and its iteration count.
        case rung(index: Int, iteration: Int)
        /// The iteration the median rule compared at.
        case iteration(Int)

        public var description: String {
            switch self {
            case .band(let band): "band \(band)"
            case .rung(let index, let iteration): "rung \(index) (iteration \(iteration))"
            case .iteration(let iteration): "iteration \(iteration)"
            }
        }
    }

    public let policy: Policy
    public let stage: Stage
    /// The stopped trial's iteration count (finite values reported) when the decision was taken.
    public let iteration: Int
    /// The trial's value that was judged, in the metric's sign.
    public let value: Double
    /// The value it had to reach, in the metric's sign (a median for the median rule).
    public let threshold: Double
    /// The metric's direction: `value` is worse than `threshold` in this direction.
    public let goal: MetricGoal
    public let rank: Int
    public let comparedCount: Int

    public init(policy: Policy, stage: Stage, iteration: Int, value: Double, threshold: Double,
                goal: MetricGoal, rank: Int, comparedCount: Int) {
        self.policy = policy; self.stage = stage; self.iteration = iteration
        self.value = value; self.threshold = threshold; self.goal = goal
        self.rank = rank; self.comparedCount = comparedCount
    }

    /// E.g. `stopped at band 9: 0.412 > threshold 0.388, rank 14 of 20`; `<` under `maximize`;
    /// `median` instead of `threshold` for the median rule.
    public var description: String {
        let comparison = goal == .maximize ? "<" : ">"
        let reference = policy == .median ? "median" : "threshold"
        return "stopped at \(stage): \(value) \(comparison) \(reference) \(threshold), rank \(rank) of \(comparedCount)"
    }
}
