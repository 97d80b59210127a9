/// Every message of protocol v1, one case per frame type.
///
/// The conversation (see docs/protocol.md): a worker dials the coordinator and sends requests;
/// the coordinator answers each with exactly one reply. Handshake `Hello` → `Challenge`,
/// `Proof` → `Welcome` | `Rejected`; then `RequestTrial` → `Assign` | `NoWork`,
/// `Report` / `Heartbeat` → `Ack`, `CheckpointChunk` → `ChunkAck`, `Done` / `Failed` → `Ack`,
/// and any request may be answered with `Error`. Client requests and their replies:
/// (`SubmitSweep` → `SweepSubmitted`, `StatusRequest` → `StatusReply`, `StopRequest` → `StopReply`,
/// `ExportRequest` → `ExportPage`, `BestRequest` → `BestCheckpoints`, `BlobRead` → `BlobData`).
public enum Message: Sendable, Hashable {
    case hello(Hello)
    case challenge(Challenge)
    case proof(Proof)
    case welcome(Welcome)
    case rejected(Rejected)
    case requestTrial(RequestTrial)
    case assign(Assign)
    case noWork(NoWork)
    case report(Report)
    case ack(Ack)
    case heartbeat(Heartbeat)
    case checkpointChunk(CheckpointChunk)
    case chunkAck(ChunkAck)
    case done(Done)
    case failed(Failed)
    case submitSweep(SubmitSweep)
    case sweepSubmitted(SweepSubmitted)
    case statusRequest(StatusRequest)
    case statusReply(StatusReply)
    case stopRequest(StopRequest)
    case stopReply(StopReply)
    case exportRequest(ExportRequest)
    case exportPage(ExportPage)
    case bestRequest(BestRequest)
    case bestCheckpoints(BestCheckpoints)
    case blobRead(BlobRead)
    case blobData(BlobData)
    case reportRequest(ReportRequest)
    case reportReply(ReportReply)
    case error(ErrorReply)

    /// The frame type byte of this message.
    public var type: MessageType {
        switch self {
        case .hello: .hello
        case .challenge: .challenge
        case .proof: .proof
        case .welcome: .welcome
        case .rejected: .rejected
        case .requestTrial: .requestTrial
        case .assign: .assign
        case .noWork: .noWork
        case .report: .report
        case .ack: .ack
        case .heartbeat: .heartbeat
        case .checkpointChunk: .checkpointChunk
        case .chunkAck: .chunkAck
        case .done: .done
        case .failed: .failed
        case .submitSweep: .submitSweep
        case .sweepSubmitted: .sweepSubmitted
        case .statusRequest: .statusRequest
        case .statusReply: .statusReply
        case .stopRequest: .stopRequest
        case .stopReply: .stopReply
        case .exportRequest: .exportRequest
        case .exportPage: .exportPage
        case .bestRequest: .bestRequest
        case .bestCheckpoints: .bestCheckpoints
        case .blobRead: .blobRead
        case .blobData: .blobData
        case .reportRequest: .reportRequest
        case .reportReply: .reportReply
        case .error: .error
        }
    }
}

/// The frame type byte. Values are part of the protocol and never reused.
public enum MessageType: UInt8, Sendable, CaseIterable {
    case hello = 0x01
    case challenge = 0x02
    case proof = 0x03
    case welcome = 0x04
    case rejected = 0x05
    case requestTrial = 0x10
    case assign = 0x11
    case noWork = 0x12
    case report = 0x20
    case ack = 0x21
    case heartbeat = 0x22
    case checkpointChunk = 0x30
    case chunkAck = 0x31
    case done = 0x40
    case failed = 0x41
    case submitSweep = 0x50
    case sweepSubmitted = 0x51
    case statusRequest = 0x52
    case statusReply = 0x53
    case stopRequest = 0x54
    case stopReply = 0x55
    case exportRequest = 0x56
    case exportPage = 0x57
    case bestRequest = 0x58
    case bestCheckpoints = 0x59
    case blobRead = 0x5A
    case blobData = 0x5B
    case reportRequest = 0x5C
    case reportReply = 0x5D
    case error = 0x7F
}

/// A 32-byte value: nonces, HMAC-SHA256 proofs and SHA-256 digests.
public struct Digest32: Sendable, Hashable {
    public let bytes: [UInt8]
    /// Returns nil unless `bytes` has exactly 32 elements.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }
    public static let zero = Digest32(unchecked: [UInt8](repeating: 0, count: 32))
    init(unchecked bytes: [UInt8]) { self.bytes = bytes }
}

// MARK: - Handshake

/// First request of a session: who the worker is and a fresh client nonce.
public struct Hello: Sendable, Hashable {
    public var workerID: String
    public var slots: UInt16
    public var capabilities: [String]
    public var clientNonce: Digest32
    public init(workerID: String, slots: UInt16, capabilities: [String], clientNonce: Digest32) {
        self.workerID = workerID; self.slots = slots; self.capabilities = capabilities
        self.clientNonce = clientNonce
    }
}

/// The coordinator's fresh nonce; the worker must answer with a `Proof` over both nonces.
public struct Challenge: Sendable, Hashable {
    public var serverNonce: Digest32
    public init(serverNonce: Digest32) { self.serverNonce = serverNonce }
}

/// HMAC-SHA256 under the cluster token over the transcript (see docs/protocol.md, Handshake).
public struct Proof: Sendable, Hashable {
    public var mac: Digest32
    public init(mac: Digest32) { self.mac = mac }
}

/// Handshake accepted. `serverMac` proves to the worker that the coordinator knows the token too.
public struct Welcome: Sendable, Hashable {
    public var sessionID: UInt64
    public var serverMac: Digest32
    public var heartbeatIntervalMs: UInt32
    public var leaseTimeoutMs: UInt32
    public init(sessionID: UInt64, serverMac: Digest32, heartbeatIntervalMs: UInt32, leaseTimeoutMs: UInt32) {
        self.sessionID = sessionID; self.serverMac = serverMac
        self.heartbeatIntervalMs = heartbeatIntervalMs; self.leaseTimeoutMs = leaseTimeoutMs
    }
}

/// Why a handshake was refused.
public enum RejectReason: UInt8, Sendable, CaseIterable {
    case badProof = 1
    case duplicateWorker = 2
    case unsupportedVersion = 3
    case noChallenge = 4
    case shuttingDown = 5
    /// The Hello's worker id or capabilities break `HelloLimits` (too long, control characters).
    case invalidHello = 6
}

/// Reply to `Proof` (or an out-of-order handshake message): the handshake failed, for `reason`.
public struct Rejected: Sendable, Hashable {
    public var reason: RejectReason
    public var detail: String
    public init(reason: RejectReason, detail: String) { self.reason = reason; self.detail = detail }
}

// MARK: - Trials

/// A worker asks for work for up to `freeSlots` trials. Answered by `Assign` or `NoWork`.
public struct RequestTrial: Sendable, Hashable {
    public var freeSlots: UInt16
    public init(freeSlots: UInt16) { self.freeSlots = freeSlots }
}

/// Where a trial resumes: a checkpoint the coordinator holds.
public struct ResumePoint: Sendable, Hashable {
    public var step: Int64
    public var digest: Digest32
    public var byteCount: UInt64
    public init(step: Int64, digest: Digest32, byteCount: UInt64) {
        self.step = step; self.digest = digest; self.byteCount = byteCount
    }
}

/// A trial handed to a worker under a lease. `leaseEpoch` fences stale workers: every later
/// message about this trial carries it, and the coordinator rejects an epoch that is not current.
public struct Assign: Sendable, Hashable {
    public var sweepID: UInt64
    public var trialID: UInt64
    public var leaseEpoch: UInt64
    public var params: ParamMap
    /// Sweep-level run settings (command, metric, engine config) as typed values.
    public var run: ParamMap
    public var resumeFrom: ResumePoint?
    public init(sweepID: UInt64, trialID: UInt64, leaseEpoch: UInt64, params: ParamMap, run: ParamMap, resumeFrom: ResumePoint?) {
        self.sweepID = sweepID; self.trialID = trialID; self.leaseEpoch = leaseEpoch
        self.params = params; self.run = run; self.resumeFrom = resumeFrom
    }
}

/// Why no trial was assigned. Values are part of the protocol and never reused.
public enum NoWorkReason: UInt8, Sendable, CaseIterable {
    case nothingPending = 1
    case allSweepsFinished = 2
    case draining = 3
}

/// Reply to `RequestTrial` when nothing can be assigned; ask again after `retryAfterMs`.
public struct NoWork: Sendable, Hashable {
    public var reason: NoWorkReason
    public var retryAfterMs: UInt32
    public init(reason: NoWorkReason, retryAfterMs: UInt32) { self.reason = reason; self.retryAfterMs = retryAfterMs }
}

// MARK: - Metrics and verdicts

/// One metric observation.
public struct MetricRecord: Sendable, Hashable {
    public var step: Int64
    public var name: String
    public var value: Double
    public init(step: Int64, name: String, value: Double) { self.step = step; self.name = name; self.value = value }
}

/// A batch of metric records; on the wire names are interned per batch.
public struct MetricBatch: Sendable, Hashable {
    public var records: [MetricRecord]
    public init(records: [MetricRecord]) { self.records = records }
}

/// A numbered batch of metrics for one trial. `(trialID, seq)` is unique: a resend after a
/// reconnect is recognised and acknowledged without storing the records twice.
public struct Report: Sendable, Hashable {
    public var trialID: UInt64
    public var leaseEpoch: UInt64
    public var seq: UInt64
    public var batch: MetricBatch
    public init(trialID: UInt64, leaseEpoch: UInt64, seq: UInt64, batch: MetricBatch) {
        self.trialID = trialID; self.leaseEpoch = leaseEpoch; self.seq = seq; self.batch = batch
    }
}

/// What the coordinator wants done with a trial.
public enum Verdict: Sendable, Hashable {
    case proceed
    /// Stop the trial; the explanation (band, threshold, value) is for logs and `status`.
    case stop(reason: String)
    /// Upload the checkpoint saved at `step`, it enters the retention set.
    case upload(step: Int64)
}

/// The coordinator's verdict on one trial, carried by `Ack`.
public struct TrialVerdict: Sendable, Hashable {
    public var trialID: UInt64
    public var verdict: Verdict
    public init(trialID: UInt64, verdict: Verdict) { self.trialID = trialID; self.verdict = verdict }
}

/// Reply to Report, Heartbeat, Done and Failed. `ackedSeq` is the highest report sequence
/// stored for the trial of a Report (0 otherwise); `verdicts` may name any trial the worker holds.
public struct Ack: Sendable, Hashable {
    public var ackedSeq: UInt64
    public var verdicts: [TrialVerdict]
    public init(ackedSeq: UInt64, verdicts: [TrialVerdict]) { self.ackedSeq = ackedSeq; self.verdicts = verdicts }
}

/// A trial a worker holds, as reported in a heartbeat.
public struct HeldTrial: Sendable, Hashable {
    public var trialID: UInt64
    public var leaseEpoch: UInt64
    public var step: Int64
    public init(trialID: UInt64, leaseEpoch: UInt64, step: Int64) {
        self.trialID = trialID; self.leaseEpoch = leaseEpoch; self.step = step
    }
}

/// Periodic liveness report listing the trials a worker holds; renews their leases. Answered by `Ack`.
public struct Heartbeat: Sendable, Hashable {
    public var trials: [HeldTrial]
    public init(trials: [HeldTrial]) { self.trials = trials }
}

// MARK: - Checkpoints

/// A piece of a checkpoint file. `(trialID, step, offset)` is idempotent on the coordinator;
/// `digest` is the SHA-256 of the whole file, checked when the last byte arrives.
public struct CheckpointChunk: Sendable, Hashable {
    public var trialID: UInt64
    public var leaseEpoch: UInt64
    public var step: Int64
    public var offset: UInt64
    public var totalBytes: UInt64
    public var digest: Digest32
    public var data: [UInt8]
    public init(trialID: UInt64, leaseEpoch: UInt64, step: Int64, offset: UInt64, totalBytes: UInt64, digest: Digest32, data: [UInt8]) {
        self.trialID = trialID; self.leaseEpoch = leaseEpoch; self.step = step; self.offset = offset
        self.totalBytes = totalBytes; self.digest = digest; self.data = data
    }
}

/// Outcome of a checkpoint chunk. Values are part of the protocol and never reused.
public enum ChunkStatus: UInt8, Sendable, CaseIterable {
    /// Stored; send from `nextOffset`.
    case accepted = 1
    /// The whole file arrived and matched its digest.
    case complete = 2
    /// The coordinator no longer wants this checkpoint (budget, policy, stale lease).
    case refused = 3
    /// The assembled file did not match its digest; start again from offset 0.
    case digestMismatch = 4
}

/// Reply to `CheckpointChunk`: where the upload stands and where to continue.
public struct ChunkAck: Sendable, Hashable {
    public var trialID: UInt64
    public var step: Int64
    public var nextOffset: UInt64
    public var status: ChunkStatus
    public init(trialID: UInt64, step: Int64, nextOffset: UInt64, status: ChunkStatus) {
        self.trialID = trialID; self.step = step; self.nextOffset = nextOffset; self.status = status
    }
}

// MARK: - Endings

/// A trial finished normally, with its final metrics. Answered by `Ack`.
public struct Done: Sendable, Hashable {
    public var trialID: UInt64
    public var leaseEpoch: UInt64
    public var finalStep: Int64
    public var finalMetrics: [MetricRecord]
    public init(trialID: UInt64, leaseEpoch: UInt64, finalStep: Int64, finalMetrics: [MetricRecord]) {
        self.trialID = trialID; self.leaseEpoch = leaseEpoch; self.finalStep = finalStep; self.finalMetrics = finalMetrics
    }
}

/// A trial failed; `exitCode` is the training command's status when it exited. Answered by `Ack`.
public struct Failed: Sendable, Hashable {
    public var trialID: UInt64
    public var leaseEpoch: UInt64
    public var reason: String
    public var exitCode: Int32?
    public init(trialID: UInt64, leaseEpoch: UInt64, reason: String, exitCode: Int32?) {
        self.trialID = trialID; self.leaseEpoch = leaseEpoch; self.reason = reason; self.exitCode = exitCode
    }
}

/// What went wrong with a request. Values are part of the protocol and never reused.
public enum ErrorCode: UInt8, Sendable, CaseIterable {
    case malformedFrame = 1
    case notAuthenticated = 2
    case staleLease = 3
    case unknownTrial = 4
    case unexpectedMessage = 5
    case overloaded = 6
    case internalError = 7
    /// A client request named a sweep, trial or blob that does not exist. Answers client requests only.
    case notFound = 8
    /// A client request the coordinator cannot act on, e.g. a sweep file that does not parse. Answers client requests only.
    case invalidRequest = 9
    /// The session may not send this request: trial requests from a `client` session, client
    /// requests other than BlobRead from a session that did not declare `client`.
    case notPermitted = 10
}

/// A request the coordinator could not act on. The worker decides from `code` what to do
/// (re-handshake on `notAuthenticated`, drop the trial on `staleLease`, ...).
public struct ErrorReply: Sendable, Hashable {
    public var code: ErrorCode
    public var detail: String
    public init(code: ErrorCode, detail: String) { self.code = code; self.detail = detail }
}
