import Foundation
import GRDB

/// Metric reports and checkpoint bookkeeping.
///
/// Idempotency: a report is identified by (trial, seq) and a checkpoint by (trial, step); resending
/// either stores nothing new. Fencing: both are accepted only under the trial's live lease.
extension SweepStore {
    /// The metric name whose records announce a checkpoint's size in bytes at their step. The store
    /// keeps these announcements in `checkpoint_sizes` too, so reading them is not a history scan.
    public static let checkpointSizeMetric = "thresher.checkpoint_bytes"

    /// Stores one report batch atomically: all of its points, or none, as one row.
    ///
    /// Order of checks: a (trial, seq) already stored under the same epoch is `.duplicate` (even if
    /// the lease has since ended — the worker is only re-asking for its ack); one stored under another
    /// epoch is `.seqUsedByEarlierLease` when the presented lease is live; otherwise the lease must be
    /// live (`.staleLease`). Throws only for an unknown trial or a negative seq.
    public func appendReport(trial: Int64, seq: Int64, epoch: Int64, points: [MetricPoint], now: Date) throws -> ReportOutcome {
        guard seq >= 0 else { throw StoreError.invalidArgument("report seq must be non-negative, got \(seq)") }
        // Encoding needs no database: do it before taking the write lock.
        let body = Data(MetricReportBlob.encode(points))
        return try write { db in
            let current = try Self.trial(db, trial)
            let live = epoch == current.leaseEpoch && current.state.isLeased && (current.leaseExpiry.map { now < $0 } ?? false)
            if let earlier = try Cached.value(Int64.self, db, sql: "SELECT epoch FROM metric_reports WHERE trialId = ? AND seq = ?", arguments: [trial, seq]) {
                if earlier == epoch { return .duplicate }
                return live ? .seqUsedByEarlierLease(epoch: earlier) : .staleLease(currentEpoch: current.leaseEpoch)
            }
            guard live else { return .staleLease(currentEpoch: current.leaseEpoch) }
            try db.run(sql: "INSERT INTO metric_reports (trialId, seq, epoch, points, receivedAt, body) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [trial, seq, epoch, points.count, now.timeIntervalSince1970, body])
            for point in points where point.name == Self.checkpointSizeMetric {
                // The announcement latest in report order wins, whatever order reports arrive in.
                try db.run(sql: """
                    INSERT INTO checkpoint_sizes (trialId, step, bytes, seq) VALUES (?, ?, ?, ?)
                    ON CONFLICT (trialId, step) DO UPDATE SET bytes = excluded.bytes, seq = excluded.seq
                    WHERE excluded.seq >= checkpoint_sizes.seq
                    """, arguments: [trial, point.step, point.value.isNaN ? nil : point.value, seq])
            }
            return .stored(points: points.count)
        }
    }

    /// The seq a worker taking over the trial should continue from (one past the highest stored).
    public func nextReportSeq(trial: Int64) throws -> Int64 {
        try read { db in
            try Cached.value(Int64.self, db, sql: "SELECT COALESCE(MAX(seq) + 1, 0) FROM metric_reports WHERE trialId = ?", arguments: [trial]) ?? 0
        }
    }

    /// The lease epoch each of the trial's stored reports was sent under, by seq. A report is
    /// stored under exactly one epoch; fault tests use this to tell a step redone by a later
    /// attempt (a new epoch) from a step stored twice by one attempt (which must never happen).
    public func reportEpochs(trial: Int64) throws -> [Int64: Int64] {
        try read { db in
            var epochs: [Int64: Int64] = [:]
            for row in try Cached.rows(db, sql: "SELECT seq, epoch FROM metric_reports WHERE trialId = ?", arguments: [trial]) {
                epochs[row[0]] = row[1]
            }
            return epochs
        }
    }

    /// The trial's announced checkpoint sizes (`checkpointSizeMetric` records) by step, the last in
    /// report order for each step; NaN for an announced NaN. A few rows, for the hot path.
    public func checkpointSizes(trial: Int64) throws -> [Int64: Double] {
        try read { db in
            var sizes: [Int64: Double] = [:]
            for row in try Cached.rows(db, sql: "SELECT step, bytes FROM checkpoint_sizes WHERE trialId = ?", arguments: [trial]) {
                sizes[row[0]] = (row[1] as Double?) ?? .nan
            }
            return sizes
        }
    }

    /// The value of the last record (in report order) of `name` at `step`, NaN for a stored NaN;
    /// nil when the trial has no such record. Reads reports newest first and stops at the first
    /// match (the coordinator asks for a step it has just been sent, so usually the newest report).
    public func lastMetricValue(trial: Int64, name: String, step: Int64) throws -> Double? {
        try latest(trial: trial, name: name) { $0.step == step }
    }

    /// The trial's last finite value of `name` in report order, or nil. Reads reports newest first
    /// and stops at the first finite value instead of decoding the whole curve.
    public func lastFiniteMetric(trial: Int64, name: String) throws -> Double? {
        try latest(trial: trial, name: name) { $0.value.isFinite }
    }

    /// A trial's metrics in report order (seq, then position in the batch), optionally one name only.
    public func metrics(trial: Int64, name: String? = nil) throws -> [MetricRecord] {
        try metrics(trial: trial, name: name, afterSeq: -1)
    }

    /// The trial's stored values from reports whose seq is above `afterSeq`, in report order: what
    /// a reader that has seen the reports up to `afterSeq` is missing (`LiveBoard`).
    public func metrics(trial: Int64, name: String? = nil, afterSeq: Int64) throws -> [MetricRecord] {
        try read { db in
            let cursor = try Row.fetchCursor(db.cachedStatement(sql: "SELECT seq, body FROM metric_reports WHERE trialId = ? AND seq > ? ORDER BY seq"),
                                             arguments: [trial, afterSeq])
            var records: [MetricRecord] = []
            while let row = try cursor.next() {
                let seq: Int64 = row[0]
                let blob = [UInt8](row[1] as Data)
                if let name, try !MetricReportBlob.names(blob).contains(name) { continue }
                for (position, point) in try MetricReportBlob.decode(blob).enumerated() where name == nil || point.name == name {
                    records.append(MetricRecord(trialId: trial, seq: seq, position: position, step: point.step,
                                                name: point.name, value: point.value, time: point.time))
                }
            }
            return records
        }
    }

    /// How many reports the trial has stored, and the highest seq among them (-1 for none).
    public func reportTally(trial: Int64) throws -> (count: Int, maxSeq: Int64) {
        try read { db in
            let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*), COALESCE(MAX(seq), -1) FROM metric_reports WHERE trialId = ?"),
                                       arguments: [trial])
            return (row?[0] ?? 0, row?[1] ?? -1)
        }
    }

    /// The value of the last point of `name` (in report order) that satisfies `matches`.
    private func latest(trial: Int64, name: String, where matches: (MetricPoint) -> Bool) throws -> Double? {
        try read { db in
            let cursor = try Data.fetchCursor(db.cachedStatement(sql: "SELECT body FROM metric_reports WHERE trialId = ? ORDER BY seq DESC"),
                                              arguments: [trial])
            while let data = try cursor.next() {
                let blob = [UInt8](data)
                guard try MetricReportBlob.names(blob).contains(name) else { continue }
                if let point = try MetricReportBlob.decode(blob).last(where: { $0.name == name && matches($0) }) {
                    return point.value
                }
            }
            return nil
        }
    }

    // MARK: Checkpoints

    /// Records that the worker holding the lease saved a checkpoint (state `local`). Idempotent on
    /// (trial, step): a resend returns the existing row unchanged.
    public func recordCheckpoint(trial: Int64, epoch: Int64, step: Int64, metric: Double?, bytes: Int64, now: Date) throws -> Checkpoint {
        guard bytes >= 0 else { throw StoreError.invalidArgument("checkpoint size must be non-negative, got \(bytes)") }
        return try write { db in
            if let existing = try Cached.record(Checkpoint.self, db, sql: "SELECT * FROM checkpoints WHERE trialId = ? AND step = ?", arguments: [trial, step]) {
                return existing
            }
            let current = try Self.requireLease(db, trial: trial, epoch: epoch, now: now, attempted: "record a checkpoint")
            let storedMetric: Double? = metric.flatMap { $0.isNaN ? nil : $0 }
            try db.run(sql: """
                INSERT INTO checkpoints (trialId, step, metric, bytes, state, createdAt, updatedAt) VALUES (?, ?, ?, ?, 'local', ?, ?)
                """, arguments: [trial, step, storedMetric, bytes, now.timeIntervalSince1970, now.timeIntervalSince1970])
            let id = db.lastInsertedRowID
            try Self.log(db, now: now, sweep: current.sweepId, trial: trial, kind: "checkpoint.recorded",
                         ["checkpoint": .int(id), "step": .int(step), "bytes": .int(bytes), "metric": storedMetric.map { .double($0) } ?? .null])
            return try Self.checkpoint(db, id)
        }
    }

    /// Moves a checkpoint along local → uploading (digest required) → stored, uploading → local (an
    /// abandoned upload), or any → evicted. Setting the state it already has is a no-op.
    public func setCheckpointState(_ id: Int64, to state: CheckpointState, digest: String? = nil, reason: String? = nil, now: Date) throws {
        try write { db in
            let current = try Self.checkpoint(db, id)
            if current.state == state { return }
            let allowed: Bool = switch (current.state, state) {
            case (.local, .uploading), (.uploading, .stored), (.uploading, .local), (_, .evicted): true
            default: false
            }
            guard allowed else { throw StoreError.invalidCheckpointTransition(checkpoint: id, from: current.state, to: state) }
            if state == .uploading {
                guard let digest, BlobStore.isValidDigest(digest) else {
                    throw StoreError.invalidArgument("checkpoint \(id): uploading needs a 64-hex SHA-256 digest")
                }
            }
            try db.run(sql: "UPDATE checkpoints SET state = ?, digest = COALESCE(?, digest), updatedAt = ? WHERE id = ?",
                           arguments: [state, digest, now.timeIntervalSince1970, id])
            let sweep = try Cached.value(Int64.self, db, sql: "SELECT sweepId FROM trials WHERE id = ?", arguments: [current.trialId])
            try Self.log(db, now: now, sweep: sweep, trial: current.trialId, kind: "checkpoint.\(state.rawValue)",
                         ["checkpoint": .int(id), "step": .int(current.step), "reason": reason.map { .string($0) } ?? .null])
        }
    }

    /// A later attempt of the trial saved the step again: a `local` checkpoint row (never uploaded,
    /// or an upload abandoned when its lease ended) takes the new announcement's metric and size, so
    /// the retention policy judges, and the budget reserves, what the new attempt will send.
    /// Throws `invalidCheckpointTransition` for a row that is not `local`.
    public func reannounceCheckpoint(_ id: Int64, metric: Double?, bytes: Int64, now: Date) throws -> Checkpoint {
        guard bytes >= 0 else { throw StoreError.invalidArgument("checkpoint size must be non-negative, got \(bytes)") }
        return try write { db in
            let current = try Self.checkpoint(db, id)
            guard current.state == .local else {
                throw StoreError.invalidCheckpointTransition(checkpoint: id, from: current.state, to: .local)
            }
            let storedMetric: Double? = metric.flatMap { $0.isNaN ? nil : $0 }
            try db.run(sql: "UPDATE checkpoints SET metric = ?, bytes = ?, updatedAt = ? WHERE id = ?",
                       arguments: [storedMetric, bytes, now.timeIntervalSince1970, id])
            return try Self.checkpoint(db, id)
        }
    }

    /// Marks several checkpoints evicted in one transaction (a retention decision is applied whole
    /// or not at all). Unknown ids throw and nothing is changed; already evicted ones are skipped.
    /// Returns the digests whose blobs may now be deleted (those no other held checkpoint shares).
    public func evict(_ ids: [Int64], reason: String, now: Date) throws -> [String] {
        try write { db in
            var released: [String] = []
            for id in ids {
                let current = try Self.checkpoint(db, id)
                guard current.state != .evicted else { continue }
                try db.run(sql: "UPDATE checkpoints SET state = 'evicted', updatedAt = ? WHERE id = ?",
                               arguments: [now.timeIntervalSince1970, id])
                let sweep = try Cached.value(Int64.self, db, sql: "SELECT sweepId FROM trials WHERE id = ?", arguments: [current.trialId])
                try Self.log(db, now: now, sweep: sweep, trial: current.trialId, kind: "checkpoint.evicted",
                             ["checkpoint": .int(id), "step": .int(current.step), "reason": .string(reason)])
                released.append(contentsOf: current.digest.map { [$0] } ?? [])
            }
            // Content addressing means two checkpoints can share a blob: keep it while one is held.
            var unshared: [String] = []
            for digest in released where !unshared.contains(digest) {
                if try !Self.blobIsHeld(db, digest: digest) { unshared.append(digest) }
            }
            return unshared
        }
    }

    /// Whether a stored or uploading checkpoint has this digest: its blob must stay.
    public func blobIsHeld(digest: String) throws -> Bool {
        try read { db in try Self.blobIsHeld(db, digest: digest) }
    }

    static func blobIsHeld(_ db: Database, digest: String) throws -> Bool {
        let holders = try Cached.value(Int.self, db, sql: """
            SELECT COUNT(*) FROM checkpoints WHERE digest = ? AND state IN ('uploading', 'stored')
            """, arguments: [digest]) ?? 0
        return holders > 0
    }

    public func checkpoint(_ id: Int64) throws -> Checkpoint { try read { db in try Self.checkpoint(db, id) } }

    /// A trial's checkpoints by step.
    public func checkpoints(trial: Int64) throws -> [Checkpoint] {
        try read { db in try Cached.records(Checkpoint.self, db, sql: "SELECT * FROM checkpoints WHERE trialId = ? ORDER BY step", arguments: [trial]) }
    }

    /// The held (uploading or stored) checkpoints, of any sweep, whose blob has this digest: what a
    /// corrupt blob takes down with it (content addressing lets several share one).
    public func heldCheckpoints(digest: String) throws -> [Checkpoint] {
        try read { db in
            try Cached.records(Checkpoint.self, db, sql: "SELECT * FROM checkpoints WHERE digest = ? AND state IN ('uploading', 'stored') ORDER BY id",
                               arguments: [digest])
        }
    }

    /// Checkpoints still `uploading` whose trial has ended (completed, stopped, failed, cancelled):
    /// uploads that may finish after `Done`, or never, if their worker is gone.
    public func uploadingCheckpointsOfEndedTrials() throws -> [Checkpoint] {
        try read { db in
            try Cached.records(Checkpoint.self, db, sql: """
                SELECT c.* FROM checkpoints c JOIN trials t ON t.id = c.trialId
                WHERE c.state = 'uploading' AND t.state IN ('completed', 'stopped', 'failed', 'cancelled') ORDER BY c.id
                """)
        }
    }

    /// The sweep's checkpoints that count against its budget (uploading or stored), in the shape the
    /// retention policy takes. `isLatest` marks the highest held step of each trial; `trialRunning`
    /// is true for every non-terminal trial, including one back in the queue after a lost lease,
    /// because that trial will resume from this copy.
    public func heldCheckpoints(sweep: Int64) throws -> [HeldCheckpoint] {
        try read { db in
            let rows = try Cached.rows(db, sql: """
                SELECT c.id, c.trialId, c.step, c.metric, c.bytes, t.state AS trialState, c.state = 'stored' AS isStored,
                       c.step = (SELECT MAX(step) FROM checkpoints c2
                                 WHERE c2.trialId = c.trialId AND c2.state IN ('uploading', 'stored')) AS isLatest
                FROM checkpoints c JOIN trials t ON t.id = c.trialId
                WHERE t.sweepId = ? AND c.state IN ('uploading', 'stored')
                ORDER BY c.id
                """, arguments: [sweep])
            return rows.map { row in
                let trialState = TrialState(rawValue: row["trialState"] ?? "") ?? .failed
                return HeldCheckpoint(id: row["id"], trial: row["trialId"], step: row["step"], metric: row["metric"],
                                      bytes: row["bytes"], isLatest: row["isLatest"], trialRunning: !trialState.isTerminal,
                                      isStored: row["isStored"])
            }
        }
    }

    /// The sweep's stored checkpoints with a metric, best first (ties: earlier step, smaller trial id).
    public func bestCheckpoints(sweep: Int64, goal: MetricGoal, limit: Int) throws -> [Checkpoint] {
        // The direction is chosen between two fixed statements; no value is ever spliced into SQL.
        let minimize = """
            SELECT c.* FROM checkpoints c JOIN trials t ON t.id = c.trialId
            WHERE t.sweepId = ? AND c.state = 'stored' AND c.metric IS NOT NULL
            ORDER BY c.metric ASC, c.step, c.trialId, c.id LIMIT ?
            """
        let maximize = """
            SELECT c.* FROM checkpoints c JOIN trials t ON t.id = c.trialId
            WHERE t.sweepId = ? AND c.state = 'stored' AND c.metric IS NOT NULL
            ORDER BY c.metric DESC, c.step, c.trialId, c.id LIMIT ?
            """
        return try read { db in
            try Cached.records(Checkpoint.self, db, sql: goal == .minimize ? minimize : maximize, arguments: [sweep, max(0, limit)])
        }
    }

    static func checkpoint(_ db: Database, _ id: Int64) throws -> Checkpoint {
        guard let found = try Cached.record(Checkpoint.self, db, sql: "SELECT * FROM checkpoints WHERE id = ?", arguments: [id]) else { throw StoreError.checkpointNotFound(id) }
        return found
    }
}
