import Foundation
import Synchronization
import XCTest
import ThresherNet
import ThresherWire
@testable import ThresherWorker

/// A scripted coordinator on a real `ClusterServer` (ipc:// in a temporary folder) that records
/// every request, deduplicates reports by (trial, seq) as the real one does, assembles uploads,
/// and hands out the verdicts a test queues. `restart()` closes the server and opens a new one on
/// the same URL with the same state, as a coordinator restart would.
final class FakeCoordinator: Sendable {
    static let token = "worker agent tests token 0123456789"

    struct Upload: Sendable {
        var bytes: [UInt8] = []
        var digest: Digest32?
        var complete = false
    }

    struct State: Sendable {
        var assignments: [Assign] = []
        /// Every request, in arrival order (resends included).
        var requests: [Message] = []
        /// Reports by trial and seq, each stored once.
        var reports: [UInt64: [UInt64: Report]] = [:]
        var done: [Done] = []
        var failed: [Failed] = []
        /// Verdicts handed out with the next Ack (of a Report, Heartbeat, Done or Failed).
        var verdicts: [TrialVerdict] = []
        var uploads: [String: Upload] = [:]
        /// Answer the first chunk past offset 0 with an earlier nextOffset (forces a resend).
        var rewindOnce = false
        var chunkOffsets: [UInt64] = []
        /// Trials whose lease this coordinator no longer honours: their requests get Error(staleLease).
        var staleTrials: Set<UInt64> = []
        /// When the Report with this seq is stored, its reply is held back (the connection "dies" first).
        var hangOnSeq: UInt64?
        /// Trials stopped by a verdict: their lease has ended, so later Reports get Error(staleLease),
        /// while chunks are still accepted (as the real coordinator does after a stop).
        var stoppedTrials: Set<UInt64> = []
        /// One-off answers to the Report with this seq (after storing it), e.g. an unexpected message.
        var hiccups: [UInt64: Message] = [:]
        /// Blobs served by BlobRead, by digest (the bytes need not match it: tests serve corrupt ones).
        var blobs: [Digest32: [UInt8]] = [:]
        /// How long each BlobRead is held before its answer (a slow download).
        var blobDelay: Duration = .zero
        /// Called for each newly stored Report; may queue verdicts.
        var onReport: (@Sendable (Report, inout State) -> Void)?
    }

    let url: String
    let state = Mutex(State())
    private let server = Mutex<(ClusterServer, Task<Void, Never>)?>(nil)

    init(directory: String) throws {
        url = "ipc://\(directory)/coordinator.sock"
        try open()
    }

    func open() throws {
        let server = try ClusterServer(
            listen: [url], token: try ClusterToken(Self.token),
            options: ClusterServerOptions(heartbeatInterval: .milliseconds(200), leaseTimeout: .seconds(15)))
        let serving = Task { [self] in
            await server.serve { _, message in
                let reply = self.answer(message)
                if case .blobRead = message {
                    let delay = self.state.withLock { $0.blobDelay }
                    if delay > .zero { try? await Task.sleep(for: delay) }
                }
                if case .report(let report) = message, self.state.withLock({ $0.hangOnSeq == report.seq }) {
                    // Stored but never answered: the worker must resend it to a later coordinator.
                    try? await Task.sleep(for: .seconds(30))
                }
                return reply
            }
        }
        self.server.withLock { $0 = (server, serving) }
    }

    func close() {
        server.withLock { entry in
            entry?.0.close()
            entry?.1.cancel()
            entry = nil
        }
    }

    func restart() throws {
        close()
        try? FileManager.default.removeItem(atPath: String(url.dropFirst("ipc://".count)))
        try open()
    }

    var snapshot: State { state.withLock { $0 } }

    func answer(_ message: Message) -> Message {
        state.withLock { s in
            s.requests.append(message)
            if let trial = message.trialID, s.staleTrials.contains(trial) {
                return .error(ErrorReply(code: .staleLease, detail: "fake coordinator: lease of trial \(trial) is gone"))
            }
            if case .report(let report) = message, s.stoppedTrials.contains(report.trialID) {
                return .error(ErrorReply(code: .staleLease, detail: "fake coordinator: trial \(report.trialID) was stopped"))
            }
            switch message {
            case .requestTrial:
                if s.assignments.isEmpty { return .noWork(NoWork(reason: .nothingPending, retryAfterMs: 50)) }
                return .assign(s.assignments.removeFirst())
            case .report(let report):
                var stored = s.reports[report.trialID, default: [:]]
                let isNew = stored[report.seq] == nil
                stored[report.seq] = stored[report.seq] ?? report
                s.reports[report.trialID] = stored
                if isNew, let hook = s.onReport { hook(report, &s) }
                if let hiccup = s.hiccups.removeValue(forKey: report.seq) { return hiccup }
                // Highest seq stored without a gap from the first one (an attempt may start past 1).
                var acked = (stored.keys.min() ?? 1) - 1
                while stored[acked + 1] != nil { acked += 1 }
                return .ack(Ack(ackedSeq: acked, verdicts: Self.take(&s.verdicts)))
            case .heartbeat:
                return .ack(Ack(ackedSeq: 0, verdicts: Self.take(&s.verdicts)))
            case .done(let done):
                s.done.append(done)
                return .ack(Ack(ackedSeq: 0, verdicts: Self.take(&s.verdicts)))
            case .failed(let failed):
                s.failed.append(failed)
                return .ack(Ack(ackedSeq: 0, verdicts: Self.take(&s.verdicts)))
            case .checkpointChunk(let chunk):
                return .chunkAck(Self.store(chunk, in: &s))
            case .blobRead(let read):
                guard let blob = s.blobs[read.digest] else { return .error(ErrorReply(code: .notFound, detail: "fake coordinator: no blob")) }
                let start = min(blob.count, Int(clamping: read.offset))
                let end = min(blob.count, start + Int(min(read.maxBytes, 7)))  // small pieces: several round trips
                return .blobData(BlobData(digest: read.digest, offset: read.offset, totalBytes: UInt64(blob.count),
                                          data: Array(blob[start ..< end])))
            default:
                return .error(ErrorReply(code: .unexpectedMessage, detail: "fake coordinator: \(message.type)"))
            }
        }
    }

    private static func take(_ verdicts: inout [TrialVerdict]) -> [TrialVerdict] {
        defer { verdicts.removeAll() }
        return verdicts
    }

    private static func store(_ chunk: CheckpointChunk, in s: inout State) -> ChunkAck {
        s.chunkOffsets.append(chunk.offset)
        let key = "\(chunk.trialID)@\(chunk.step)"
        var upload = s.uploads[key, default: Upload()]
        func ack(_ next: Int, _ status: ChunkStatus) -> ChunkAck {
            ChunkAck(trialID: chunk.trialID, step: chunk.step, nextOffset: UInt64(next), status: status)
        }
        if s.rewindOnce, chunk.offset > 0 {
            s.rewindOnce = false
            // Pretend the previous chunk was lost: ask again from the start of the stored bytes' last chunk.
            upload.bytes.removeLast(min(upload.bytes.count, chunk.data.count))
            s.uploads[key] = upload
            return ack(upload.bytes.count, .accepted)
        }
        guard Int(chunk.offset) <= upload.bytes.count else { return ack(upload.bytes.count, .accepted) }
        upload.bytes.removeLast(upload.bytes.count - Int(chunk.offset))
        upload.bytes.append(contentsOf: chunk.data)
        upload.digest = chunk.digest
        if upload.bytes.count >= Int(chunk.totalBytes) {
            let matches = SHA256.hash(upload.bytes) == chunk.digest.bytes
            upload.complete = matches
            if !matches { upload.bytes = [] }
            s.uploads[key] = upload
            return ack(matches ? upload.bytes.count : 0, matches ? .complete : .digestMismatch)
        }
        s.uploads[key] = upload
        return ack(upload.bytes.count, .accepted)
    }

    /// The records of `trial` in seq order, with the seqs that arrived.
    func records(of trial: UInt64) -> (seqs: [UInt64], records: [MetricRecord]) {
        let reports = snapshot.reports[trial] ?? [:]
        let seqs = reports.keys.sorted()
        return (seqs, seqs.flatMap { reports[$0]?.batch.records ?? [] })
    }
}

extension Message {
    /// The trial a worker request is about, if any.
    var trialID: UInt64? {
        switch self {
        case .report(let r): r.trialID
        case .checkpointChunk(let c): c.trialID
        case .done(let d): d.trialID
        case .failed(let f): f.trialID
        default: nil
        }
    }
}

extension SHA256 {
    static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }
}

/// Polls `condition` until it holds; fails the test after `timeout` (a safety net, not a speed test).
func eventually(_ what: String, timeout: Duration = .seconds(120), file: StaticString = #filePath, line: UInt = #line,
                _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    XCTFail("timed out waiting for \(what)", file: file, line: line)
    return false
}

/// A run map following the convention.
func runMap(_ argv: [String], engine: Bool = false, seed: Int64 = 7) -> ParamMap {
    ["argv": .list(argv.map { .string($0) }), "engine": .bool(engine), "metric": .string("loss"),
     "goal": .string("minimize"), "seed": .int(seed), "sweep_name": .string("test-sweep")]
}

func assignment(_ trial: UInt64, _ run: ParamMap, epoch: UInt64 = 1, resumeFrom: ResumePoint? = nil) -> Assign {
    Assign(sweepID: 1, trialID: trial, leaseEpoch: epoch, params: [:], run: run, resumeFrom: resumeFrom)
}

/// Options with short intervals for tests; generous timeouts everywhere else.
func agentOptions(url: String, base: String, slots: Int = 2, chunkBytes: Int = 1 << 20,
                  thresher: String = "/nonexistent/thresher") throws -> WorkerOptions {
    var transport = TransportOptions()
    transport.reconnectMin = .milliseconds(20)
    transport.reconnectMax = .milliseconds(200)
    return WorkerOptions(
        coordinatorURL: url, token: try ClusterToken(FakeCoordinator.token), workerID: "test-worker", slots: slots,
        baseFolder: base, thresherExecutable: thresher, heartbeatInterval: .milliseconds(200), stopGrace: .seconds(5),
        reportInterval: .milliseconds(50), chunkBytes: chunkBytes, pollInterval: .milliseconds(20),
        requestTimeout: .seconds(2), retryMin: .milliseconds(20), retryMax: .milliseconds(300), transport: transport)
}

/// A script writing `count` metrics lines `{"step": i, "loss": i.5}`, `delay` seconds apart.
func linesScript(_ count: Int, delay: String = "0.02") -> String {
    """
    i=1; while [ $i -le \(count) ]; do printf '{"step": %d, "loss": %d.5}\\n' $i $i >> "$THRESHER_METRICS_FILE"; \
    sleep \(delay); i=$((i+1)); done
    """
}
