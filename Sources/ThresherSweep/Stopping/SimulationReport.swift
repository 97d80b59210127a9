/// What a replay did to one trial.
public struct SimulatedTrial: Sendable, Hashable {
    public let trial: Int
    /// The step of the last point the trial reported; nil only for a trial with an empty curve.
    public let lastStep: Int64?
    /// How many curve points the trial reported.
    public let stepsRun: Int
    /// Why it was stopped; nil when it ran its whole curve.
    public let explanation: StopExplanation?

    public init(trial: Int, lastStep: Int64?, stepsRun: Int, explanation: StopExplanation?) {
        self.trial = trial; self.lastStep = lastStep; self.stepsRun = stepsRun; self.explanation = explanation
    }

    public var stopped: Bool { explanation != nil }

    /// The explanation's text for a stopped trial, `completed` otherwise.
    public var reason: String { explanation?.description ?? "completed" }
}

/// Totals of a replay. A *step* is one curve point (one metric report).
public struct SimulationSummary: Sendable, Hashable {
    /// Points reported under the policy.
    public let stepsUsed: Int
    /// Points in all curves: what running every trial to its end would report.
    public let stepsTotal: Int
    /// The best finite value (in the metric's direction) among the points reported under the
    /// policy; nil if there is none.
    public let bestFound: Double?
    /// The best finite value among all points of all curves; nil if there is none.
    public let bestOverall: Double?

    public init(stepsUsed: Int, stepsTotal: Int, bestFound: Double?, bestOverall: Double?) {
        self.stepsUsed = stepsUsed; self.stepsTotal = stepsTotal; self.bestFound = bestFound; self.bestOverall = bestOverall
    }
}

/// The result of `thresher sweep simulate`, with its two renderings.
public struct SimulationReport: Sendable, Hashable {
    /// One entry per trial, by ascending trial index.
    public let trials: [SimulatedTrial]
    public let summary: SimulationSummary
    public let goal: MetricGoal

    public init(trials: [SimulatedTrial], summary: SimulationSummary, goal: MetricGoal) {
        self.trials = trials; self.summary = summary; self.goal = goal
    }

    /// `--json`: one line per trial, `{"trial": i, "last_step": s, "stopped": true|false, "reason": "…"}`,
    /// then `{"summary": {"steps_used": …, "steps_total": …, "best_found": …, "best_overall": …}}`;
    /// every line ends with a newline. Missing values are `null`.
    public var jsonLines: String {
        var output = ""
        for trial in trials {
            output += "{\"trial\": \(trial.trial), \"last_step\": \(trial.lastStep.map(String.init) ?? "null"), "
                + "\"stopped\": \(trial.stopped), \"reason\": \(Self.jsonString(trial.reason))}\n"
        }
        output += "{\"summary\": {\"steps_used\": \(summary.stepsUsed), \"steps_total\": \(summary.stepsTotal), "
            + "\"best_found\": \(Self.jsonNumber(summary.bestFound)), \"best_overall\": \(Self.jsonNumber(summary.bestOverall))}}\n"
        return output
    }

    /// The human-readable form: one line per trial, then the totals.
    public var text: String {
        var output = ""
        for trial in trials {
            let ran = trial.lastStep.map { "ran to step \($0)" } ?? "ran no step"
            output += "trial \(trial.trial): \(ran), \(trial.reason)\n"
        }
        let stopped = trials.filter(\.stopped).count
        output += "stopped \(stopped) of \(trials.count) trials\n"
        output += "steps used: \(summary.stepsUsed) of \(summary.stepsTotal) without stopping\n"
        output += "best found: \(Self.textNumber(summary.bestFound)) (best overall: \(Self.textNumber(summary.bestOverall)), goal \(goal.rawValue))\n"
        return output
    }

    private static func jsonNumber(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "null" }
        return "\(value)"
    }

    private static func textNumber(_ value: Double?) -> String { value.map { "\($0)" } ?? "none" }

    static func jsonString(_ string: String) -> String {
        var output = ""
        CanonicalParams.writeString(string, to: &output)
        return output
    }
}
