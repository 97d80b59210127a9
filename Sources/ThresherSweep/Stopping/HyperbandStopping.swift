/// W&B's hyperband early termination (`early_terminate: {type: hyperband}`), decided on every
/// report instead of every few minutes — the same decisions, earlier.
///
/// Guarantees, matching `wandb/sweeps` `hyperband_stop_runs`:
/// - Bands are ``bands(for:limit:)``; bands below 1 are ignored and a repeated band is one band.
/// - Every trial's i-th finite value counts, whatever the trial's state (running, ended, stopped).
///   `maximize` metrics are negated, so lower is better throughout.
/// - Threshold at band b: the values number b of every trial with at least b values, sorted
///   ascending; the threshold is the element at index `Int((1 / eta) · n_b)` — W&B's own
///   floating-point product, which differs from ⌊n_b / eta⌋ for some eta (eta 1.1, n 33 → 30, not 29).
/// - A running trial with count c is judged at b* = the largest band ≤ c, by its value number b*
///   (`strict`, the default) or by its best value so far (not strict), and stopped when that value
///   is strictly greater than the threshold at b*. Every running trial is re-judged on every
///   report, because a new value moves a threshold: a trial that passed a band can be stopped
///   there later. `max_iter` is never a hard stop.
public struct HyperbandStopping: StoppingPolicy {
    public let spec: HyperbandSpec
    public let goal: MetricGoal
    /// The distinct bands ≥ 1 this policy judges at, ascending.
    public let bands: [Int]

    private let orientation: MetricOrientation
    private let keepFraction: Double
    /// Per band: the band's value (loss) of every trial that reached it.
    private var bandSamples: [SortedSample]
    private var histories: [Int: History] = [:]
    private var roster = TrialRoster()

    /// What the policy keeps of a trial: bands are reached in order, so its band values are a
    /// prefix of `bands`.
    private struct History: Sendable, Hashable {
        var count = 0
        var best = Double.infinity
        var bandValues: [Double] = []
    }

    public init(spec: HyperbandSpec, goal: MetricGoal) {
        self.spec = spec
        self.goal = goal
        self.bands = Array(Set(Self.bands(for: spec, limit: .max).filter { $0 >= 1 })).sorted()
        self.orientation = MetricOrientation(goal: goal)
        self.keepFraction = 1 / spec.eta
        self.bandSamples = Array(repeating: SortedSample(), count: bands.count)
    }

    public mutating func trialStarted(_ trial: Int) { roster.start(trial) }

    public mutating func trialEnded(_ trial: Int, stopped: Bool) { roster.end(trial, stopped: stopped) }

    public mutating func report(trial: Int, step: Int64, value: Double) -> [StopDecision] {
        roster.noteReport(trial)
        guard value.isFinite else { return [] }
        let loss = orientation.loss(value)
        var history = histories[trial, default: History()]
        history.count += 1
        history.best = min(history.best, loss)
        let reached = history.bandValues.count
        if reached < bands.count, bands[reached] == history.count {
            history.bandValues.append(loss)
            bandSamples[reached].insert(loss)
        }
        histories[trial] = history

        var decisions: [StopDecision] = []
        for candidate in roster.runningTrials {
            if let explanation = judge(candidate) {
                decisions.append(StopDecision(trial: candidate, explanation: explanation))
                roster.markStopped(candidate)
            }
        }
        return decisions
    }

    /// The threshold (a loss) at band index `index`, if any trial reached that band.
    func threshold(atBandIndex index: Int) -> Double? {
        let sample = bandSamples[index]
        guard !sample.isEmpty else { return nil }
        let position = Int((keepFraction * Double(sample.count)).rounded(.towardZero))
        return sample[min(max(position, 0), sample.count - 1)]
    }

    /// The current thresholds in the metric's sign, by band (nil: no trial reached the band yet).
    public var thresholds: [Int: Double] {
        var result: [Int: Double] = [:]
        for index in bands.indices {
            if let threshold = threshold(atBandIndex: index) { result[bands[index]] = orientation.metric(threshold) }
        }
        return result
    }

    private func judge(_ trial: Int) -> StopExplanation? {
        guard let history = histories[trial], let judged = history.bandValues.indices.last,
              let threshold = threshold(atBandIndex: judged) else { return nil }
        let loss = spec.strict ? history.bandValues[judged] : history.best
        guard loss > threshold else { return nil }
        let sample = bandSamples[judged]
        return StopExplanation(policy: .hyperband, stage: .band(bands[judged]), iteration: history.count,
                               value: orientation.metric(loss), threshold: orientation.metric(threshold),
                               goal: goal, rank: sample.rank(of: loss), comparedCount: sample.count)
    }
}
