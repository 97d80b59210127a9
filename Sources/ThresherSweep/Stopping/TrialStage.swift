/// Where a trial stands in its sweep's early-termination schedule: its bracket (ASHA), how many
/// of the schedule's rungs it has reached, and the iteration of the next one.
///
/// Counts iterations as every policy does (finite values of the sweep metric reported), and uses
/// the policies' own schedules (``HyperbandStopping/bands``, ``ASHAStopping/rungs(for:)``), so
/// the live table and the report show the rungs the coordinator judges at. Hyperband's bands are
/// its rungs and it has one bracket (W&B's form); the median rule has no rungs.
public struct TrialStage: Sendable, Hashable {
    /// The ASHA bracket (trial index mod brackets); nil for hyperband.
    public let bracket: Int?
    /// Rungs whose iteration the trial has reached.
    public let reached: Int
    /// The rung iterations of the trial's bracket, ascending.
    public let rungs: [Int]

    /// The next rung's iteration, or nil once every rung is reached.
    public var nextRung: Int? { reached < rungs.count ? rungs[reached] : nil }

    /// `r2/4` (hyperband), `b1 r0/3` (ASHA): short enough for a table cell.
    public var text: String {
        let rung = "r\(reached)/\(rungs.count)"
        return bracket.map { "b\($0) \(rung)" } ?? rung
    }

    public init(bracket: Int?, reached: Int, rungs: [Int]) {
        self.bracket = bracket; self.reached = reached; self.rungs = rungs
    }

    /// The stage of the trial at `index` in its sweep after `iterations` finite values, or nil
    /// when the sweep's policy has no rungs (none, or the median rule).
    public static func of(_ spec: EarlyTerminateSpec?, trialIndex: Int, iterations: Int) -> TrialStage? {
        guard let schedule = Schedule(spec) else { return nil }
        return schedule.stage(trialIndex: trialIndex, iterations: iterations)
    }

    /// A policy's rungs, computed once for a sweep and reused for each of its trials.
    public struct Schedule: Sendable, Hashable {
        /// One rung list per bracket (hyperband: exactly one).
        public let brackets: [[Int]]
        public let hasBrackets: Bool

        /// Nil when the policy has no rungs.
        public init?(_ spec: EarlyTerminateSpec?) {
            switch spec {
            case .hyperband(let hyperband)?:
                brackets = [Array(Set(HyperbandStopping.bands(for: hyperband, limit: .max).filter { $0 >= 1 })).sorted()]
                hasBrackets = false
            case .asha(let asha)?:
                brackets = ASHAStopping.rungs(for: asha).map { $0.map(\.iteration) }
                hasBrackets = true
            case .median?, nil:
                return nil
            }
        }

        public func stage(trialIndex: Int, iterations: Int) -> TrialStage {
            let bracket = brackets.count > 1 ? ((trialIndex % brackets.count) + brackets.count) % brackets.count : 0
            let rungs = brackets.isEmpty ? [] : brackets[bracket]
            return TrialStage(bracket: hasBrackets ? bracket : nil,
                              reached: rungs.prefix { $0 <= iterations }.count, rungs: rungs)
        }
    }
}
