import Foundation
import GRDB

/// Whole-store figures for the coordinator's metrics endpoint: a few aggregate queries, each one
/// read snapshot, none reading spec text or metric history.
extension SweepStore {
    /// One sweep as the metrics endpoint labels it.
    public struct SweepLabel: Sendable, Equatable {
        public var id: Int64
        public var name: String
        public var state: SweepState
    }

    /// What the store holds, by sweep, at one committed moment.
    public struct Gauges: Sendable, Equatable {
        public var sweeps: [SweepLabel] = []
        /// Trials by sweep id and state (states with none are absent).
        public var trials: [Int64: [TrialState: Int]] = [:]
        /// Checkpoints in state `stored` and their bytes, by sweep id (sweeps with none are absent).
        public var storedCheckpoints: [Int64: (count: Int, bytes: Int64)] = [:]
        /// Distinct worker ids holding a lease (trials assigned or running).
        public var workersHoldingLeases = 0

        public static func == (a: Gauges, b: Gauges) -> Bool {
            a.sweeps == b.sweeps && a.trials == b.trials && a.workersHoldingLeases == b.workersHoldingLeases
                && a.storedCheckpoints.mapValues { [Int64($0.count), $0.bytes] } == b.storedCheckpoints.mapValues { [Int64($0.count), $0.bytes] }
        }
    }

    /// The store's gauges, all from one read transaction (so they agree with each other).
    public func gauges() throws -> Gauges {
        try read { db in
            var gauges = Gauges()
            for row in try Cached.rows(db, sql: "SELECT id, name, state FROM sweeps ORDER BY id") {
                guard let state = SweepState(rawValue: row["state"] ?? "") else { continue }
                gauges.sweeps.append(SweepLabel(id: row["id"], name: row["name"], state: state))
            }
            for row in try Cached.rows(db, sql: "SELECT sweepId, state, COUNT(*) AS n FROM trials GROUP BY sweepId, state") {
                guard let state = TrialState(rawValue: row["state"] ?? "") else { continue }
                gauges.trials[row["sweepId"], default: [:]][state] = row["n"]
            }
            for row in try Cached.rows(db, sql: """
                SELECT t.sweepId, COUNT(*) AS n, COALESCE(SUM(c.bytes), 0) AS bytes
                FROM checkpoints c JOIN trials t ON t.id = c.trialId
                WHERE c.state = 'stored' GROUP BY t.sweepId
                """) {
                gauges.storedCheckpoints[row["sweepId"]] = (row["n"], row["bytes"])
            }
            gauges.workersHoldingLeases = try Cached.value(Int.self, db, sql: """
                SELECT COUNT(DISTINCT workerId) FROM trials WHERE state IN ('assigned', 'running') AND workerId IS NOT NULL
                """) ?? 0
            return gauges
        }
    }

    /// Points stored from reports (every point of every stored report, checkpoint-size
    /// announcements included): what the coordinator's `metricPointsIngested` counts, for tests.
    public func storedMetricPoints() throws -> Int {
        try read { db in try Cached.value(Int.self, db, sql: "SELECT COALESCE(SUM(points), 0) FROM metric_reports") ?? 0 }
    }
}
