import Foundation
import GRDB

/// A trial handed to a worker: the trial as stored after assignment (with `resumeCheckpointId`
/// when it continues an earlier attempt) and the lease the worker must present.
public struct Assignment: Sendable, Equatable {
    public var trial: Trial
    public var lease: Lease
}

/// The trial state machine. Every method checks the current state inside its write transaction,
/// so two racing decisions cannot both succeed, and logs an event in that same transaction.
///
/// A lease is valid while `now < leaseExpiry`. Methods a worker triggers (markRunning, renew,
/// complete, fail, appendReport) take the lease epoch and refuse an epoch that is not current, a
/// lease that has ended (trial back in the queue) or expired.
extension SweepStore {
    /// Assigns the next pending trial of an active sweep: highest sweep priority first, then sweeps
    /// in creation order (FIFO), then trials in index order. Nil when there is no work.
    public func assignNext(worker: String, now: Date, leaseDuration: TimeInterval) throws -> Assignment? {
        try write { db in
            let next = try Cached.value(Int64.self, db, sql: """
                SELECT t.id FROM trials t JOIN sweeps s ON s.id = t.sweepId
                WHERE t.state = 'pending' AND s.state = 'active'
                ORDER BY s.priority DESC, s.createdAt, s.id, t.indexInSweep
                LIMIT 1
                """)
            guard let next else { return nil }
            return try Self.assign(db, trial: next, worker: worker, now: now, leaseDuration: leaseDuration)
        }
    }

    /// Assigns a specific pending trial. The lease epoch increases by one: every earlier epoch of
    /// this trial is now stale.
    public func assign(trial: Int64, worker: String, now: Date, leaseDuration: TimeInterval) throws -> Assignment {
        try write { db in try Self.assign(db, trial: trial, worker: worker, now: now, leaseDuration: leaseDuration) }
    }

    /// assigned → running (the worker started the trial program).
    public func markRunning(trial: Int64, epoch: Int64, now: Date) throws {
        try write { db in
            let current = try Self.requireLease(db, trial: trial, epoch: epoch, now: now, attempted: "start running")
            guard current.state == .assigned else { throw StoreError.invalidTransition(trial: trial, from: current.state, attempted: "start running") }
            try db.run(sql: "UPDATE trials SET state = 'running', startedAt = COALESCE(startedAt, ?) WHERE id = ?",
                           arguments: [now.timeIntervalSince1970, trial])
            try Self.log(db, now: now, sweep: current.sweepId, trial: trial, kind: "trial.running", ["epoch": .int(epoch)])
        }
    }

    /// Extends a valid lease to `now + leaseDuration` (heartbeat). Not logged as an event: heartbeats
    /// are frequent and the expiry column already records the latest one.
    public func renew(trial: Int64, epoch: Int64, now: Date, leaseDuration: TimeInterval) throws -> Lease {
        try write { db in
            let current = try Self.requireLease(db, trial: trial, epoch: epoch, now: now, attempted: "renew lease")
            let expiry = now.addingTimeInterval(leaseDuration)
            try db.run(sql: "UPDATE trials SET leaseExpiry = ? WHERE id = ?", arguments: [expiry.timeIntervalSince1970, trial])
            return Lease(trial: trial, id: current.leaseId ?? "", epoch: epoch, expiry: expiry)
        }
    }

    /// Moves the expiry of every held lease (assigned or running) that ends before `until` to
    /// `until`; epochs are unchanged, so fencing is too. For a coordinator starting on an existing
    /// state folder: no worker could renew while it was down, so each lease gets a full timeout
    /// from the restart instead of being reaped for the outage. No event (renewals log none).
    /// Returns how many leases were extended.
    @discardableResult
    public func extendLeases(until: Date) throws -> Int {
        try write { db in
            try db.execute(sql: """
                UPDATE trials SET leaseExpiry = ? WHERE state IN ('assigned', 'running') AND leaseExpiry < ?
                """, arguments: [until.timeIntervalSince1970, until.timeIntervalSince1970])
            return db.changesCount
        }
    }

    /// Ends every lease that expired by `now` (`leaseExpiry <= now`). Each such trial counts a failed
    /// attempt: it goes back to pending (resuming from its latest stored checkpoint) or, once
    /// `attempts` reaches `maxAttempts`, to failed with the expiry as its last error.
    /// Returns the affected trial ids.
    public func expireLeases(now: Date) throws -> [Int64] {
        try write { db in
            let expired = try Cached.records(Trial.self, db, sql: """
                SELECT * FROM trials WHERE state IN ('assigned', 'running') AND leaseExpiry <= ? ORDER BY id
                """, arguments: [now.timeIntervalSince1970])
            for trial in expired {
                let message = "lease \(trial.leaseEpoch) of worker \(trial.workerId ?? "?") expired"
                try Self.recordFailedAttempt(db, trial, error: message, now: now, kind: "trial.lease_expired")
            }
            return expired.map(\.id)
        }
    }

    /// running → completed. A resend after completion under the same epoch succeeds without change.
    public func complete(trial: Int64, epoch: Int64, now: Date) throws {
        try write { db in
            let found = try Self.trial(db, trial)
            if found.state == .completed && found.leaseEpoch == epoch { return }
            let current = try Self.requireLease(found, epoch: epoch, now: now, attempted: "complete")
            guard current.state == .running else { throw StoreError.invalidTransition(trial: trial, from: current.state, attempted: "complete") }
            try Self.end(db, trial: trial, state: .completed, now: now)
            try Self.log(db, now: now, sweep: current.sweepId, trial: trial, kind: "trial.completed", ["epoch": .int(epoch)])
        }
    }

    /// assigned | running → stopped, by the coordinator's stopping rule; the explanation is stored
    /// on the trial and in the event.
    public func stop(trial: Int64, explanation: StopExplanation, now: Date) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(explanation), as: UTF8.self)
        try write { db in
            let current = try Self.trial(db, trial)
            guard current.state.isLeased else { throw StoreError.invalidTransition(trial: trial, from: current.state, attempted: "stop") }
            try Self.end(db, trial: trial, state: .stopped, now: now)
            try db.run(sql: "UPDATE trials SET stopExplanation = ? WHERE id = ?", arguments: [json, trial])
            try Self.log(db, now: now, sweep: current.sweepId, trial: trial, kind: "trial.stopped", ["explanation": .string(json)])
        }
    }

    /// A worker reports the trial failed: attempts + 1, back to pending while attempts < maxAttempts,
    /// otherwise failed. Returns the trial's new state.
    public func fail(trial: Int64, epoch: Int64, error: String, now: Date) throws -> TrialState {
        try write { db in
            let current = try Self.requireLease(db, trial: trial, epoch: epoch, now: now, attempted: "fail")
            return try Self.recordFailedAttempt(db, current, error: Self.storableMessage(error), now: now, kind: "trial.failed_attempt")
        }
    }

    /// pending | assigned | running → cancelled (the user or a stopped sweep). Any lease becomes stale.
    public func cancel(trial: Int64, reason: String, now: Date) throws {
        try write { db in
            let current = try Self.trial(db, trial)
            guard !current.state.isTerminal else { throw StoreError.invalidTransition(trial: trial, from: current.state, attempted: "cancel") }
            try Self.end(db, trial: trial, state: .cancelled, now: now)
            let reason = Self.storableMessage(reason)
            try db.run(sql: "UPDATE trials SET lastError = ? WHERE id = ?", arguments: [reason, trial])
            try Self.log(db, now: now, sweep: current.sweepId, trial: trial, kind: "trial.cancelled", ["reason": .string(reason)])
        }
    }

    // MARK: Transaction-level helpers

    static func assign(_ db: Database, trial id: Int64, worker: String, now: Date, leaseDuration: TimeInterval) throws -> Assignment {
        guard leaseDuration > 0 else { throw StoreError.invalidArgument("lease duration must be positive, got \(leaseDuration)") }
        try requireText(worker, "worker id")
        let current = try trial(db, id)
        guard current.state == .pending else { throw StoreError.invalidTransition(trial: id, from: current.state, attempted: "assign") }
        let epoch = current.leaseEpoch + 1
        let leaseId = UUID().uuidString.lowercased()
        let expiry = now.addingTimeInterval(leaseDuration)
        try db.run(sql: """
            UPDATE trials SET state = 'assigned', leaseId = ?, leaseEpoch = ?, workerId = ?, leaseExpiry = ? WHERE id = ?
            """, arguments: [leaseId, epoch, worker, expiry.timeIntervalSince1970, id])
        try log(db, now: now, sweep: current.sweepId, trial: id, kind: "trial.assigned",
                ["worker": .string(worker), "epoch": .int(epoch), "resume": current.resumeCheckpointId.map { .int($0) } ?? .null])
        // The row as just written (the expiry as its REAL column reads back), without reading it again.
        var assigned = current
        assigned.state = .assigned
        assigned.leaseId = leaseId
        assigned.leaseEpoch = epoch
        assigned.workerId = worker
        assigned.leaseExpiry = Date(timeIntervalSince1970: expiry.timeIntervalSince1970)
        return Assignment(trial: assigned, lease: Lease(trial: id, id: leaseId, epoch: epoch, expiry: expiry))
    }

    /// Checks that `epoch` is the trial's live lease; returns the trial.
    static func requireLease(_ db: Database, trial id: Int64, epoch: Int64, now: Date, attempted: String) throws -> Trial {
        try requireLease(try trial(db, id), epoch: epoch, now: now, attempted: attempted)
    }

    /// The same check on a row the caller has just read in this transaction.
    static func requireLease(_ current: Trial, epoch: Int64, now: Date, attempted: String) throws -> Trial {
        let id = current.id
        if current.state.isTerminal && epoch == current.leaseEpoch {
            throw StoreError.invalidTransition(trial: id, from: current.state, attempted: attempted)
        }
        guard epoch == current.leaseEpoch, current.state.isLeased,
              let expiry = current.leaseExpiry, now < expiry else {
            throw StoreError.staleLease(trial: id, presentedEpoch: epoch, currentEpoch: current.leaseEpoch)
        }
        return current
    }

    /// Counts a failed attempt: retry from the latest stored checkpoint, or fail for good.
    @discardableResult
    static func recordFailedAttempt(_ db: Database, _ current: Trial, error: String, now: Date, kind: String) throws -> TrialState {
        let attempts = current.attempts + 1
        let resume = try Cached.value(Int64.self, db, sql: """
            SELECT id FROM checkpoints WHERE trialId = ? AND state = 'stored' ORDER BY step DESC LIMIT 1
            """, arguments: [current.id])
        let next: TrialState = attempts < current.maxAttempts ? .pending : .failed
        try db.run(sql: """
            UPDATE trials SET state = ?, attempts = ?, lastError = ?, leaseId = NULL, leaseExpiry = NULL,
                resumeCheckpointId = COALESCE(?, resumeCheckpointId), endedAt = ?
            WHERE id = ?
            """, arguments: [next, attempts, error, resume, next == .failed ? now.timeIntervalSince1970 : nil, current.id])
        try log(db, now: now, sweep: current.sweepId, trial: current.id, kind: kind,
                ["error": .string(error), "attempts": .int(Int64(attempts)), "maxAttempts": .int(Int64(current.maxAttempts)),
                 "next": .string(next.rawValue), "resume": resume.map { .int($0) } ?? .null])
        return next
    }

    /// Moves a trial to a terminal state and drops its lease (the epoch stays, fencing late reports).
    static func end(_ db: Database, trial: Int64, state: TrialState, now: Date) throws {
        try db.run(sql: "UPDATE trials SET state = ?, leaseId = NULL, leaseExpiry = NULL, endedAt = ? WHERE id = ?",
                       arguments: [state, now.timeIntervalSince1970, trial])
    }
}
