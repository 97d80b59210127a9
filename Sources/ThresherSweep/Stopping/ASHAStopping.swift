/// Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter
/// Tuning", MLSys 2020), in its stopping form as in Ray Tune's `AsyncHyperBandScheduler`.
///
/// Guarantees:
/// - Milestones are grace · rfᵏ for k = 0, 1, … while ≤ max_t (computed by repeated
///   multiplication); rung k sits at iteration ⌈grace · rfᵏ⌉, and milestones that round to the
///   same iteration are one rung (the lowest k). Bracket s uses the rungs with k ≥ s.
/// - Trials go to brackets round-robin by trial index: bracket = index mod brackets
///   (Ray draws brackets at random; Thresher stays deterministic).
/// - Iterations are counted as for every policy: finite values reported. A trial is judged once
///   per rung, on the report that brings its count to the rung's iteration, with the value of
///   that report: the cutoff is the linearly interpolated 1/rf-quantile of the losses recorded at
///   that rung of its bracket *before* it (Ray's `nanpercentile(…, (1 − 1/rf)·100)` on rewards);
///   it is stopped when its loss is strictly greater than the cutoff. The first trial at a rung
///   has no cutoff and continues. Its value is recorded at the rung either way.
/// - Decisions concern only the reporting trial; earlier rung decisions are never revisited.
/// - `max_t` bounds the rungs only; it is not a hard stop (the trial's program decides its length).
public struct ASHAStopping: StoppingPolicy {
    public let spec: ASHASpec
    public let goal: MetricGoal
    /// Per bracket, its rungs: (k, iteration), ascending.
    public let rungs: [[Rung]]

    /// One rung: its index k (milestone grace · rfᵏ) and the iteration count it sits at.
    public struct Rung: Sendable, Hashable {
        public let index: Int
        public let iteration: Int
    }

    private let orientation: MetricOrientation
    private var recorded: [[SortedSample]]
    private var progress: [Int: Progress] = [:]
    private var roster = TrialRoster()

    private struct Progress: Sendable, Hashable {
        var count = 0
        var nextRung = 0
    }

    public init(spec: ASHASpec, goal: MetricGoal) {
        self.spec = spec
        self.goal = goal
        self.rungs = Self.rungs(for: spec)
        self.orientation = MetricOrientation(goal: goal)
        self.recorded = rungs.map { Array(repeating: SortedSample(), count: $0.count) }
    }

    /// The rungs of every bracket (at least one bracket). Empty rung lists when the setting has
    /// none (grace < 1, rf ≤ 1, max_t < grace, or a bracket shifted past max_t).
    public static func rungs(for spec: ASHASpec) -> [[Rung]] {
        var all: [Rung] = []
        if spec.gracePeriod >= 1, spec.reductionFactor.isFinite, spec.reductionFactor > 1 {
            var milestone = Double(spec.gracePeriod)
            var k = 0
            while milestone <= Double(spec.maxT) {
                let iteration = Int(milestone.rounded(.up))
                if all.last?.iteration != iteration { all.append(Rung(index: k, iteration: iteration)) }
                milestone *= spec.reductionFactor
                k += 1
            }
        }
        return (0..<max(spec.brackets, 1)).map { s in all.filter { $0.index >= s } }
    }

    /// `asha: rungs 1, 3, 9, 27, 81 (rf 3)`, one `bracket s:` list per bracket when there are several.
    public static func summary(for spec: ASHASpec) -> String {
        let brackets = rungs(for: spec).map { $0.isEmpty ? "none" : $0.map { String($0.iteration) }.joined(separator: ", ") }
        let rf = NumberText.plain(spec.reductionFactor)
        if brackets.count == 1 { return "asha: rungs \(brackets[0]) (rf \(rf))" }
        let listed = brackets.enumerated().map { "bracket \($0.offset): \($0.element)" }.joined(separator: "; ")
        return "asha: rungs \(listed) (rf \(rf))"
    }

    /// Degenerate but accepted settings: no rung at all, or brackets shifted past `max_t`.
    public static func warnings(for spec: ASHASpec) -> [String] {
        var warnings: [String] = []
        if spec.brackets < 1 {
            warnings.append("early_terminate.brackets must be ≥ 1 (found \(spec.brackets)): using 1")
        }
        if spec.gracePeriod < 1 {
            warnings.append("early_terminate.grace_period must be ≥ 1 (found \(spec.gracePeriod)): asha has no rungs and stops nothing")
        } else if !(spec.reductionFactor.isFinite && spec.reductionFactor > 1) {
            let rf = NumberText.plain(spec.reductionFactor)
            warnings.append("early_terminate.reduction_factor must be > 1 (found \(rf)): asha has no rungs and stops nothing")
        } else if spec.maxT < spec.gracePeriod {
            warnings.append("early_terminate.max_t \(spec.maxT) is below grace_period \(spec.gracePeriod): asha has no rungs and stops nothing")
        } else if let empty = rungs(for: spec).firstIndex(where: \.isEmpty) {
            warnings.append("early_terminate.brackets is \(spec.brackets) but bracket \(empty) and above have no rung up to max_t \(spec.maxT): their trials are never stopped")
        }
        return warnings
    }

    public mutating func trialStarted(_ trial: Int) { roster.start(trial) }

    public mutating func trialEnded(_ trial: Int, stopped: Bool) { roster.end(trial, stopped: stopped) }

    public mutating func report(trial: Int, step: Int64, value: Double) -> [StopDecision] {
        roster.noteReport(trial)
        guard value.isFinite else { return [] }
        let bracket = Self.bracket(of: trial, brackets: rungs.count)
        var state = progress[trial, default: Progress()]
        state.count += 1
        defer { progress[trial] = state }
        let ladder = rungs[bracket]
        guard state.nextRung < ladder.count, state.count >= ladder[state.nextRung].iteration else { return [] }
        let rungIndex = state.nextRung
        state.nextRung += 1

        let loss = orientation.loss(value)
        let before = recorded[bracket][rungIndex]
        recorded[bracket][rungIndex].insert(loss)
        guard roster.isRunning(trial), let cutoff = before.linearQuantile(1 / spec.reductionFactor), loss > cutoff else {
            return []
        }
        roster.markStopped(trial)
        let rung = ladder[rungIndex]
        let explanation = StopExplanation(policy: .asha, stage: .rung(index: rung.index, iteration: rung.iteration),
                                          iteration: state.count, value: value, threshold: orientation.metric(cutoff),
                                          goal: goal, rank: before.rank(of: loss), comparedCount: before.count + 1)
        return [StopDecision(trial: trial, explanation: explanation)]
    }

    /// Round-robin by trial index (negative indices wrap too).
    static func bracket(of trial: Int, brackets: Int) -> Int {
        ((trial % brackets) + brackets) % brackets
    }
}
