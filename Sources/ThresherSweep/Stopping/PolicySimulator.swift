/// Replays learning curves under a stopping policy: the logic of `thresher sweep simulate`.
///
/// The replay model:
/// - Trials start in ascending trial index on `parallel` slots (at least 1). Time advances in
///   ticks; at the start of a tick every free slot takes the next trial (`trialStarted`), then
///   every running trial, in ascending index, reports its next curve point.
/// - Decisions apply at once: a trial stopped by an earlier report of the same tick does not
///   report in that tick; each stopped trial gets `trialEnded(stopped: true)`. A trial that
///   reports its last point ends (`trialEnded(stopped: false)`). Freed slots are refilled at the
///   next tick.
/// - A trial's *last step* is the step of the last point it reported: a trial stopped at a report
///   ran that step. NaN points are reported too (the policy ignores them) and use their step.
///
/// Everything is deterministic: the same curves and policy always give the same report.
public struct PolicySimulator {
    private let policy: any StoppingPolicy
    public let goal: MetricGoal
    public let parallel: Int

    /// Replays with `policy`, judging best values in `goal`'s direction, on `parallel` slots
    /// (values below 1 mean 1).
    public init(policy: any StoppingPolicy, goal: MetricGoal, parallel: Int = 1) {
        self.policy = policy
        self.goal = goal
        self.parallel = max(parallel, 1)
    }

    /// Replays `sweep`'s `early_terminate` policy (none: nothing is stopped) for its `metric`
    /// (none: `minimize`, W&B's default goal).
    public init(sweep: SweepSpec, parallel: Int = 1) {
        let metric = sweep.metric ?? MetricSpec(name: "")
        let policy: any StoppingPolicy = sweep.earlyTerminate.map { StoppingPolicyFactory.make($0, metric: metric) } ?? NoStopping()
        self.init(policy: policy, goal: metric.goal, parallel: parallel)
    }

    /// The one call behind `thresher sweep simulate FILE --curves CURVES.jsonl [--parallel P]`:
    /// reads the curves text and replays them. Render the result with
    /// ``SimulationReport/jsonLines`` (`--json`) or ``SimulationReport/text``.
    public static func simulate(sweep: SweepSpec, curvesJSONL: String, parallel: Int = 1) throws(CurveFileError) -> SimulationReport {
        PolicySimulator(sweep: sweep, parallel: parallel).run(try CurveFile.parse(curvesJSONL))
    }

    /// Replays `curves` (one per trial; a repeated trial index keeps its first curve). Each call
    /// starts from a copy of the policy as given, so repeated runs give the same report.
    public func run(_ curves: [TrialCurve]) -> SimulationReport {
        var policy = self.policy
        var seen: Set<Int> = []
        let queue = curves.filter { seen.insert($0.trial).inserted }.sorted { $0.trial < $1.trial }
        var outcomes = queue.map { Outcome(curve: $0) }
        var queueIndex: [Int: Int] = [:]                 // trial → index into queue and outcomes
        for (index, curve) in queue.enumerated() { queueIndex[curve.trial] = index }

        var nextToStart = 0
        var running: [Int] = []                         // indices into queue, ascending
        while nextToStart < queue.count || !running.isEmpty {
            while running.count < parallel, nextToStart < queue.count {
                policy.trialStarted(queue[nextToStart].trial)
                running.append(nextToStart)
                nextToStart += 1
            }
            for index in running where outcomes[index].isRunning {
                let curve = queue[index]
                guard outcomes[index].reported < curve.points.count else {
                    outcomes[index].isRunning = false
                    policy.trialEnded(curve.trial, stopped: false)
                    continue
                }
                let point = curve.points[outcomes[index].reported]
                outcomes[index].reported += 1
                outcomes[index].lastStep = point.step
                for decision in policy.report(trial: curve.trial, step: point.step, value: point.value) {
                    guard let stopped = queueIndex[decision.trial], stopped < nextToStart, outcomes[stopped].isRunning else { continue }
                    outcomes[stopped].isRunning = false
                    outcomes[stopped].explanation = decision.explanation
                    policy.trialEnded(decision.trial, stopped: true)
                }
                if outcomes[index].isRunning, outcomes[index].reported == curve.points.count {
                    outcomes[index].isRunning = false
                    policy.trialEnded(curve.trial, stopped: false)
                }
            }
            running.removeAll { !outcomes[$0].isRunning }
        }
        return report(queue, outcomes)
    }

    /// What the replay did to one trial.
    private struct Outcome {
        let curve: TrialCurve
        var reported = 0
        var lastStep: Int64?
        var explanation: StopExplanation?
        var isRunning = true
        init(curve: TrialCurve) { self.curve = curve }
    }

    private func report(_ queue: [TrialCurve], _ outcomes: [Outcome]) -> SimulationReport {
        let trials = outcomes.map {
            SimulatedTrial(trial: $0.curve.trial, lastStep: $0.lastStep, stepsRun: $0.reported, explanation: $0.explanation)
        }
        let ran = outcomes.flatMap { $0.curve.points.prefix($0.reported).map(\.value) }
        let all = queue.flatMap { $0.points.map(\.value) }
        let summary = SimulationSummary(stepsUsed: ran.count, stepsTotal: all.count,
                                        bestFound: best(of: ran), bestOverall: best(of: all))
        return SimulationReport(trials: trials, summary: summary, goal: goal)
    }

    private func best(of values: [Double]) -> Double? {
        let finite = values.filter(\.isFinite)
        return goal == .maximize ? finite.max() : finite.min()
    }
}
