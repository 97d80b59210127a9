import Foundation
import GRDB

/// Times are stored as seconds since 1970 (REAL) so they round-trip exactly and compare
/// numerically in SQL (lease expiry), instead of GRDB's default millisecond text.
public protocol TimeStampedRecord: FetchableRecord, PersistableRecord, Codable {}

extension TimeStampedRecord {
    public static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy { .timeIntervalSince1970 }
    public static func databaseDateDecodingStrategy(for column: String) -> DatabaseDateDecodingStrategy { .timeIntervalSince1970 }
}

/// Lifecycle of a sweep. Only `active` sweeps hand out trials.
public enum SweepState: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case active, paused, finished, stopped
}

/// A sweep row: its spec text is the sweep file as submitted, kept for audit and restart.
public struct Sweep: Codable, Sendable, Equatable, TimeStampedRecord {
    public static let databaseTableName = "sweeps"
    public var id: Int64
    public var name: String
    public var spec: String
    public var seed: Int64
    /// Higher runs first; equal priorities run in creation order (FIFO).
    public var priority: Int
    public var state: SweepState
    public var createdAt: Date
}

/// Trial lifecycle. `completed`, `stopped`, `failed` and `cancelled` are terminal.
public enum TrialState: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case pending, assigned, running, completed, stopped, failed, cancelled

    public var isTerminal: Bool { [.completed, .stopped, .failed, .cancelled].contains(self) }
    /// States in which a worker holds a lease on the trial.
    public var isLeased: Bool { self == .assigned || self == .running }
}

/// A trial row. `leaseEpoch` is the fencing token: it increases on every assignment and is never
/// reused, so anything presented with an older epoch comes from a lease that is gone.
public struct Trial: Codable, Sendable, Equatable, TimeStampedRecord {
    public static let databaseTableName = "trials"
    public var id: Int64
    public var sweepId: Int64
    public var indexInSweep: Int
    /// Canonical JSON (sorted keys): equal parameters give byte-equal text.
    public var params: String
    public var state: TrialState
    public var leaseId: String?
    public var leaseEpoch: Int64
    public var workerId: String?
    public var leaseExpiry: Date?
    /// Failed attempts so far (lease expiries and reported failures).
    public var attempts: Int
    public var maxAttempts: Int
    public var lastError: String?
    /// The stored checkpoint the next attempt resumes from (the latest one when the last lease ended).
    public var resumeCheckpointId: Int64?
    /// JSON of a `StopExplanation` when the trial was stopped early.
    public var stopExplanation: String?
    public var createdAt: Date
    public var startedAt: Date?
    public var endedAt: Date?

    /// The decoded stop explanation, if any.
    public var decodedStopExplanation: StopExplanation? {
        stopExplanation.flatMap { try? JSONDecoder().decode(StopExplanation.self, from: Data($0.utf8)) }
    }
}

/// Why a trial was stopped early, stored with the decision.
public struct StopExplanation: Codable, Sendable, Equatable {
    /// The stopping rule, e.g. "median", "asha", "hyperband".
    public var rule: String
    /// The band or rung the decision was taken at.
    public var band: Int?
    public var rung: Int?
    public var step: Int64?
    public var threshold: Double?
    public var value: Double?
    /// The trial's rank among the compared trials (1 = best) and how many were compared.
    public var rank: Int?
    public var of: Int?
    public var message: String

    public init(rule: String, band: Int? = nil, rung: Int? = nil, step: Int64? = nil, threshold: Double? = nil,
                value: Double? = nil, rank: Int? = nil, of: Int? = nil, message: String) {
        self.rule = rule; self.band = band; self.rung = rung; self.step = step; self.threshold = threshold
        self.value = value; self.rank = rank; self.of = of; self.message = message
    }
}

/// What the coordinator hands a worker with a trial: present every later report with `epoch`.
public struct Lease: Codable, Sendable, Equatable {
    public var trial: Int64
    public var id: String
    public var epoch: Int64
    public var expiry: Date
}

/// One metric value reported by a worker.
public struct MetricPoint: Codable, Sendable, Equatable {
    public var step: Int64
    public var name: String
    public var value: Double
    public var time: Date

    public init(step: Int64, name: String, value: Double, time: Date) {
        self.step = step; self.name = name; self.value = value; self.time = time
    }
}

/// A stored metric point (ordered within a trial by `seq`, then by position in its batch).
/// Values round-trip bit for bit inside the report's blob, NaN (a diverged loss) and ±inf included.
public struct MetricRecord: Sendable, Equatable {
    public var trialId: Int64
    public var seq: Int64
    public var position: Int
    public var step: Int64
    public var name: String
    public var value: Double
    public var time: Date
}

/// The outcome of `appendReport`. Only `.stored` changed the database.
public enum ReportOutcome: Sendable, Equatable {
    case stored(points: Int)
    /// This (trial, seq) was already stored under the same lease: a resend; acknowledge it again.
    case duplicate
    /// The presented epoch is not the trial's current lease (or the lease has expired or ended).
    case staleLease(currentEpoch: Int64)
    /// This seq was already used by an earlier lease of the trial; the worker must continue from
    /// `SweepStore.nextReportSeq`.
    case seqUsedByEarlierLease(epoch: Int64)
}

/// Where a checkpoint's bytes are: only on the worker, on their way, in the blob store, or gone.
public enum CheckpointState: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case local, uploading, stored, evicted

    /// Whether the checkpoint's bytes count against the sweep's budget (reserved or stored).
    public var isHeld: Bool { self == .uploading || self == .stored }
}

/// A checkpoint row: one per (trial, step), whatever happens to its bytes. Rows are never deleted
/// when a checkpoint is evicted, so the sweep's history (which steps were ever saved, and why they
/// went) stays queryable.
public struct Checkpoint: Codable, Sendable, Equatable, TimeStampedRecord {
    public static let databaseTableName = "checkpoints"
    public var id: Int64
    public var trialId: Int64
    public var step: Int64
    public var metric: Double?
    public var bytes: Int64
    /// SHA-256 hex of the blob, known once the upload starts.
    public var digest: String?
    public var state: CheckpointState
    public var createdAt: Date
    public var updatedAt: Date
}

/// An entry of the append-only event log: every decision, with a JSON detail.
public struct StoreEvent: Codable, Sendable, Equatable, TimeStampedRecord {
    public static let databaseTableName = "events"
    public var id: Int64
    public var time: Date
    public var sweepId: Int64?
    public var trialId: Int64?
    public var kind: String
    public var detail: String
}

/// A value that writes its own canonical JSON — byte for byte what `JSONEncoder` with
/// `[.sortedKeys, .withoutEscapingSlashes]` writes — so `SweepStore.enqueue` can skip the encoder
/// on the coordinator's hot path. A conformer must keep that promise (test it against the encoder).
public protocol CanonicalJSONEncodable: Encodable {
    var canonicalJSON: String { get }
}
