/// An early-termination policy, driven by the coordinator's events.
///
/// Policies are pure values: no clock, no I/O, no randomness. Their decisions depend only on the
/// sequence of calls, so replaying the same events always stops the same trials with the same
/// explanations (the simulator relies on this).
///
/// Common rules for every policy:
/// - A trial's *iteration count* is the number of finite values of the sweep's metric it has
///   reported (W&B's rule for hyperband, applied to every policy). `step` labels a report but
///   never decides anything; NaN and ±infinity are ignored entirely.
/// - Values are compared in the metric's own direction (`goal`); explanations carry them in the
///   metric's own sign.
/// - Only running trials are stopped, each at most once: a trial is running from `trialStarted`
///   (or its first report, if the coordinator never announced it) until `trialEnded` or until a
///   `StopDecision` names it. Values reported by trials that ended or were stopped still count
///   toward everyone's thresholds, as W&B counts runs in any state.
public protocol StoppingPolicy: Sendable {
    /// `trial` has started (or resumed) on a worker. A trial the policy stopped stays stopped.
    mutating func trialStarted(_ trial: Int)

    /// A value of the sweep's metric for `trial` at `step`.
    ///
    /// Returns every running trial that must stop now, in ascending trial order — not only
    /// `trial`: for hyperband a new value moves a band's threshold, which can stop another trial.
    mutating func report(trial: Int, step: Int64, value: Double) -> [StopDecision]

    /// `trial` ended: it completed, failed, or was stopped (`stopped: true`, by this policy or by
    /// the user). It is never stopped afterwards; its values keep counting.
    mutating func trialEnded(_ trial: Int, stopped: Bool)
}

/// "Stop `trial` now", with the reason to store and show.
public struct StopDecision: Sendable, Hashable, CustomStringConvertible {
    public let trial: Int
    public let explanation: StopExplanation

    public init(trial: Int, explanation: StopExplanation) {
        self.trial = trial
        self.explanation = explanation
    }

    public var description: String { "trial \(trial) \(explanation)" }
}

/// Builds the policy a sweep file asks for, and describes it for `thresher sweep validate`.
public enum StoppingPolicyFactory {
    /// The policy for `early_terminate`, judging `metric` in its `goal` direction.
    public static func make(_ spec: EarlyTerminateSpec, metric: MetricSpec) -> any StoppingPolicy {
        switch spec {
        case .hyperband(let hyperband): HyperbandStopping(spec: hyperband, goal: metric.goal)
        case .asha(let asha): ASHAStopping(spec: asha, goal: metric.goal)
        case .median(let median): MedianStopping(spec: median, goal: metric.goal)
        }
    }

    /// One line describing the schedule, e.g. `hyperband: bands 2, 6, 18, 55, 166 (eta 3, strict)`.
    public static func summary(_ spec: EarlyTerminateSpec) -> String {
        switch spec {
        case .hyperband(let hyperband): HyperbandStopping.summary(for: hyperband)
        case .asha(let asha): ASHAStopping.summary(for: asha)
        case .median(let median): MedianStopping.summary(for: median)
        }
    }

    /// Settings that are accepted but degenerate (bands or rungs that can never matter, a policy
    /// that can never stop anything). Empty for a sound setting. Messages name the key.
    public static func warnings(_ spec: EarlyTerminateSpec) -> [String] {
        switch spec {
        case .hyperband(let hyperband): HyperbandStopping.warnings(for: hyperband)
        case .asha(let asha): ASHAStopping.warnings(for: asha)
        case .median(let median): MedianStopping.warnings(for: median)
        }
    }
}

/// A policy that never stops anything: what a sweep without `early_terminate` runs under.
public struct NoStopping: StoppingPolicy {
    public init() {}
    public mutating func trialStarted(_ trial: Int) {}
    public mutating func report(trial: Int, step: Int64, value: Double) -> [StopDecision] { [] }
    public mutating func trialEnded(_ trial: Int, stopped: Bool) {}
}
