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
        /// ASHA's rung index k → its iteration (stop explanations name ASHA rungs by k).
        private let ashaIterations: [Int: Int]

        /// Nil when the policy has no rungs.
        public init?(_ spec: EarlyTerminateSpec?) {
            switch spec {
            case .hyperband(let hyperband)?:
                brackets = [Array(Set(HyperbandStopping.bands(for: hyperband, limit: .max).filter { $0 >= 1 })).sorted()]
                hasBrackets = false
                ashaIterations = [:]
            case .asha(let asha)?:
                let rungs = ASHAStopping.rungs(for: asha)
                brackets = rungs.map { $0.map(\.iteration) }
                hasBrackets = true
                ashaIterations = Dictionary(rungs.joined().map { ($0.index, $0.iteration) }, uniquingKeysWith: { first, _ in first })
            case .median?, nil:
                return nil
            }
        }

        /// The iteration of the rung a stop decision names: hyperband's band (an iteration count),
        /// or ASHA's rung index k; nil for a stop this schedule did not decide (e.g. a user's).
        public func iteration(ofStopAtBand band: Int?, rung: Int?) -> Int? {
            hasBrackets ? rung.flatMap { ashaIterations[$0] } : band
        }

        /// The stage after `iterations` values; a trial stopped at a rung (`stoppedAt`, its
        /// iteration) reached that rung and no later one, however many values it reported before
        /// the stop reached it.
        public func stage(trialIndex: Int, iterations: Int, stoppedAt: Int? = nil) -> TrialStage {
            stage(trialIndex: trialIndex, iterations: min(iterations, stoppedAt ?? .max))
        }

        public func stage(trialIndex: Int, iterations: Int) -> TrialStage {
            let bracket = brackets.count > 1 ? ((trialIndex % brackets.count) + brackets.count) % brackets.count : 0
            let rungs = brackets.isEmpty ? [] : brackets[bracket]
            return TrialStage(bracket: hasBrackets ? bracket : nil,
                              reached: rungs.prefix { $0 <= iterations }.count, rungs: rungs)
        }
    }
}
