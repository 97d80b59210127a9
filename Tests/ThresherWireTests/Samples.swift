@testable import ThresherWire

/// One fixed, hand-written sample of every message type: the source of the golden vectors.
/// Changing a sample changes its golden file (regenerate with THRESHER_REGENERATE_GOLDEN=1).
enum Samples {
    /// A digest whose bytes are `start, start+1, ...` so offsets are visible in hex dumps.
    static func digest(_ start: UInt8) -> Digest32 {
        Digest32(unchecked: (0..<32).map { start &+ UInt8($0) })
    }

    static let hello = Message.hello(Hello(
        workerID: "gpu-07", slots: 4, capabilities: ["engine", "command"], clientNonce: digest(0x10)))
    static let challenge = Message.challenge(Challenge(serverNonce: digest(0x40)))
    static let proof = Message.proof(Proof(mac: digest(0x80)))
    static let welcome = Message.welcome(Welcome(
        sessionID: 0x0102_0304_0506_0708, serverMac: digest(0xA0), heartbeatIntervalMs: 5000, leaseTimeoutMs: 30000))
    static let rejected = Message.rejected(Rejected(reason: .badProof, detail: "proof does not match"))
    static let requestTrial = Message.requestTrial(RequestTrial(freeSlots: 2))
    static let assign = Message.assign(Assign(
        sweepID: 7, trialID: 42, leaseEpoch: 3,
        params: ["lr": .double(0.001), "layers": .int(4), "arch": .list([.int(2), .double(1.5), .string("relu")])],
        run: ["command": .string("python train.py"), "early": .map(["on": .bool(true), "band": .null])],
        resumeFrom: ResumePoint(step: 1200, digest: digest(0xC0), byteCount: 1_048_576)))
    static let noWork = Message.noWork(NoWork(reason: .nothingPending, retryAfterMs: 2000))
    static let report = Message.report(Report(
        trialID: 42, leaseEpoch: 3, seq: 9,
        batch: MetricBatch(records: [
            MetricRecord(step: 100, name: "loss", value: 0.75),
            MetricRecord(step: 100, name: "acc", value: 0.5),
            MetricRecord(step: 200, name: "loss", value: 0.625),
        ])))
    static let ack = Message.ack(Ack(ackedSeq: 9, verdicts: [
        TrialVerdict(trialID: 42, verdict: .proceed),
        TrialVerdict(trialID: 43, verdict: .stop(reason: "below median at step 200")),
        TrialVerdict(trialID: 44, verdict: .upload(step: 1200)),
    ]))
    static let heartbeat = Message.heartbeat(Heartbeat(trials: [
        HeldTrial(trialID: 42, leaseEpoch: 3, step: 250),
        HeldTrial(trialID: 44, leaseEpoch: 1, step: -1),
    ]))
    static let checkpointChunk = Message.checkpointChunk(CheckpointChunk(
        trialID: 44, leaseEpoch: 1, step: 1200, offset: 65536, totalBytes: 65544, digest: digest(0xE0),
        data: [0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x01, 0x02, 0x03]))
    static let chunkAck = Message.chunkAck(ChunkAck(trialID: 44, step: 1200, nextOffset: 65544, status: .complete))
    static let done = Message.done(Done(
        trialID: 42, leaseEpoch: 3, finalStep: 1000,
        finalMetrics: [MetricRecord(step: 1000, name: "loss", value: 0.125), MetricRecord(step: 1000, name: "acc", value: 0.875)]))
    static let failed = Message.failed(Failed(trialID: 43, leaseEpoch: 2, reason: "exit status 137 (killed)", exitCode: 137))
    static let error = Message.error(ErrorReply(code: .staleLease, detail: "lease epoch 2 is not current (3)"))

    // Client messages.
    static let submitSweep = Message.submitSweep(SubmitSweep(
        fileText: "method: grid\nparameters:\n  lr: {values: [0.1, 0.01]}\n", fileName: "lr.yaml",
        baseDirectory: "/home/ada/sweeps", name: "lr-grid", priority: -2))
    static let sweepSubmitted = Message.sweepSubmitted(SweepSubmitted(sweepID: 7, name: "lr-grid", created: true))
    static let statusRequest = Message.statusRequest(StatusRequest(sweep: "lr-grid"))
    static let statusReply = Message.statusReply(StatusReply(json: #"{"sweeps":[{"id":7,"name":"lr-grid","state":"active"}]}"#))
    static let stopRequest = Message.stopRequest(StopRequest(target: .trial(42), reason: "stopped by user"))
    static let stopReply = Message.stopReply(StopReply(sweepID: 7, cancelled: 0, stopped: 1, detail: "trial 42 stopped"))
    static let exportRequest = Message.exportRequest(ExportRequest(
        sweep: "7", after: ExportCursor(trialID: 42, seq: 9, position: 1), limit: 5000))
    static let exportPage = Message.exportPage(ExportPage(
        sweepID: 7,
        trials: [ExportTrial(trialID: 42, index: 0, state: "completed", params: ["lr": .double(0.1)])],
        rows: [ExportRow(trialID: 42, seq: 9, step: 200, name: "loss", value: 0.625, time: 1_700_000_000.5)],
        next: ExportCursor(trialID: 42, seq: 9, position: 2), complete: true))
    static let bestRequest = Message.bestRequest(BestRequest(sweep: "lr-grid", count: 2))
    static let bestCheckpoints = Message.bestCheckpoints(BestCheckpoints(
        sweepID: 7, sweepName: "lr-grid", metric: "loss",
        checkpoints: [BestCheckpoint(trialID: 42, trialIndex: 0, step: 200, value: 0.625, byteCount: 65544,
                                     digest: digest(0xE0), params: ["lr": .double(0.1)])]))
    static let blobRead = Message.blobRead(BlobRead(digest: digest(0xE0), offset: 65536, maxBytes: 1_048_576))
    static let blobData = Message.blobData(BlobData(digest: digest(0xE0), offset: 65536, totalBytes: 65544,
                                                    data: [0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x01, 0x02, 0x03]))
    static let reportRequest = Message.reportRequest(ReportRequest(sweep: "lr-grid"))
    static let reportReply = Message.reportReply(ReportReply(html: "<!DOCTYPE html><title>lr-grid</title><svg></svg>"))

    /// Every sample, keyed by its golden file name (the message type's case name).
    static let all: [(name: String, message: Message)] = [
        hello, challenge, proof, welcome, rejected, requestTrial, assign, noWork,
        report, ack, heartbeat, checkpointChunk, chunkAck, done, failed, error,
        submitSweep, sweepSubmitted, statusRequest, statusReply, stopRequest, stopReply,
        exportRequest, exportPage, bestRequest, bestCheckpoints, blobRead, blobData, reportRequest, reportReply,
    ].map { (name: String(describing: $0.type), message: $0) }

    /// A report big and repetitive enough to be compressed: 64 steps of two metrics (2.6 KB).
    static let compressedReport = Message.report(Report(
        trialID: 42, leaseEpoch: 3, seq: 10,
        batch: MetricBatch(records: (0..<64).flatMap { step in
            ["loss", "acc"].map { MetricRecord(step: Int64(step), name: $0, value: Double(step % 8) / 8) }
        })))
}
