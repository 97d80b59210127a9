/// The median stopping rule (Golovin et al., "Google Vizier", KDD 2017), judged per iteration.
///
/// Guarantees:
/// - Iterations are counted as for every policy: finite values reported.
/// - At its iteration s, a trial's *running average* is the mean of its first s values.
/// - When a trial reports its iteration s, with s > `warmup_steps`, and at least
///   max(`min_trials`, 1) *other* trials (any state) have already reached iteration s, it is
///   stopped if its best value so far is strictly worse than the median of those other trials'
///   running averages at s (the middle one, or the mean of the two middle ones) — Vizier's rule,
///   applied to every trial that reached s rather than to completed trials only, so it works
///   while a sweep is still young.
/// - Decisions concern only the reporting trial, at the iteration it just reached; a median that
///   moves later does not revisit earlier iterations.
public struct MedianStopping: StoppingPolicy {
    public let spec: MedianStoppingSpec
    public let goal: MetricGoal

    private let orientation: MetricOrientation
    /// Iteration s → running averages (as losses) at s of every trial that reached s.
    private var averages: [Int: SortedSample] = [:]
    private var progress: [Int: Progress] = [:]
    private var roster = TrialRoster()

    private struct Progress: Sendable, Hashable {
        var count = 0
        var sum = 0.0
        var best = Double.infinity
    }

    public init(spec: MedianStoppingSpec, goal: MetricGoal) {
        self.spec = spec
        self.goal = goal
        self.orientation = MetricOrientation(goal: goal)
    }

    /// `median: after 5 warm-up iterations, once 3 other trials reached the iteration`.
    public static func summary(for spec: MedianStoppingSpec) -> String {
        "median: after \(max(spec.warmupSteps, 0)) warm-up iterations, once \(max(spec.minTrials, 1)) other trials reached the iteration"
    }

    public static func warnings(for spec: MedianStoppingSpec) -> [String] {
        var warnings: [String] = []
        if spec.warmupSteps < 0 { warnings.append("early_terminate.warmup_steps is negative (\(spec.warmupSteps)): treated as 0") }
        if spec.minTrials < 1 { warnings.append("early_terminate.min_trials is \(spec.minTrials): a median needs at least 1 other trial, so 1 is used") }
        return warnings
    }

    public mutating func trialStarted(_ trial: Int) { roster.start(trial) }

    public mutating func trialEnded(_ trial: Int, stopped: Bool) { roster.end(trial, stopped: stopped) }

    public mutating func report(trial: Int, step: Int64, value: Double) -> [StopDecision] {
        roster.noteReport(trial)
        guard value.isFinite else { return [] }
        let loss = orientation.loss(value)
        var state = progress[trial, default: Progress()]
        state.count += 1
        state.sum += loss
        state.best = min(state.best, loss)
        progress[trial] = state

        let iteration = state.count
        let others = averages[iteration, default: SortedSample()]
        averages[iteration, default: SortedSample()].insert(state.sum / Double(iteration))
        guard roster.isRunning(trial), iteration > spec.warmupSteps, others.count >= max(spec.minTrials, 1),
              let median = others.median(), state.best > median else { return [] }
        roster.markStopped(trial)
        let explanation = StopExplanation(policy: .median, stage: .iteration(iteration), iteration: iteration,
                                          value: orientation.metric(state.best), threshold: orientation.metric(median),
                                          goal: goal, rank: others.rank(of: state.best), comparedCount: others.count + 1)
        return [StopDecision(trial: trial, explanation: explanation)]
    }
}
