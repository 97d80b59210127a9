import Foundation
import ThresherNet
import ThresherReport
import ThresherStore
import ThresherSweep
import ThresherWire

/// The client requests (docs/protocol.md, "Client messages"): submit, status, stop, export, best
/// checkpoints and blob reads.
///
/// Who may send what: a session whose Hello declared the capability `client` may send every
/// client request and no trial request (it holds no slots, so a confused client can never take
/// a trial); any other session may send only `BlobRead` (a worker downloading the checkpoint it
/// resumes from). The token is the security boundary; the capability keeps the roles apart.
/// Every decision a reply announces (a submitted sweep, a stop) is stored before the reply.
extension Coordinator {
    /// The capability a client declares in its Hello.
    public static let clientCapability = "client"
    /// Largest BlobData piece, far below the 64 MiB frame limit.
    static let maxBlobPiece = 4 << 20

    static func isClient(_ session: WorkerSession) -> Bool { session.capabilities.contains(clientCapability) }

    /// Answers a client request, or nil when `message` is not one.
    func handleClientRequest(session: WorkerSession, _ message: Message) throws -> Message? {
        let client = Self.isClient(session)
        func requireClient() throws {
            guard client else {
                throw RequestError(code: .notPermitted, detail: "\(message.type) needs a client session (Hello capability \"client\")")
            }
        }
        switch message {
        case .blobRead(let read): return try handleBlobRead(read)
        case .submitSweep(let submit): try requireClient(); return try handleSubmit(submit)
        case .statusRequest(let request): try requireClient(); return try handleStatus(request)
        case .stopRequest(let request): try requireClient(); return try handleStop(request)
        case .exportRequest(let request): try requireClient(); return try handleExport(request)
        case .bestRequest(let request): try requireClient(); return try handleBest(request)
        case .reportRequest(let request): try requireClient(); return try handleReport(request)
        case .requestTrial, .report, .heartbeat, .checkpointChunk, .done, .failed:
            if client { throw RequestError(code: .notPermitted, detail: "a client session does not run trials; \(message.type) refused") }
            return nil
        default:
            return nil
        }
    }

    // MARK: Submit

    func handleSubmit(_ request: SubmitSweep) throws -> Message {
        let name = request.name ?? (request.fileName as NSString).deletingPathExtension
        guard !name.isEmpty else { throw RequestError(code: .invalidRequest, detail: "the sweep needs a name (give one or a file name)") }
        if let existing = try existingSweep(named: name, text: request.fileText) {
            return .sweepSubmitted(SweepSubmitted(sweepID: UInt64(bitPattern: existing), name: name, created: false))
        }
        do {
            let id = try submit(sweepFileText: request.fileText, fileName: request.fileName, baseDirectory: request.baseDirectory,
                                name: name, priority: Int(request.priority))
            options.logger.info("sweep \(id) (\(name)) submitted by a client")
            return .sweepSubmitted(SweepSubmitted(sweepID: UInt64(bitPattern: id), name: name, created: true))
        } catch let error as CoordinatorError {
            throw RequestError(code: .invalidRequest, detail: "\(request.fileName): \(error)")
        }
    }

    // MARK: Status and report

    /// A status for a caller of `handle` in this process; over the network `ClientReadService`
    /// answers instead, off the actor.
    func handleStatus(_ request: StatusRequest) throws -> Message {
        try StatusDocument.reply(request, store: store, boards: &statusBoards)
    }

    /// The sweep's report page for a caller of `handle` in this process; over the network
    /// `ClientReadService` answers instead, off the actor.
    func handleReport(_ request: ReportRequest) throws -> Message {
        try ReportPage.reply(store: store, sweep: try sweep(named: request.sweep), now: options.clock())
    }

    enum ReadAdmission: Sendable {
        case admitted(now: Date)
        case refused(Message)
    }

    /// What `handle` does for a read-only client request before reading: counts it and checks the
    /// session's role. `ClientReadService` answers the admitted ones off the actor.
    func admitRead(session: WorkerSession, _ message: Message) -> ReadAdmission {
        counters.requests[message.type, default: 0] += 1
        guard Self.isClient(session) else {
            return .refused(reject(.notPermitted, "\(message.type) needs a client session (Hello capability \"client\")"))
        }
        return .admitted(now: options.clock())
    }

    /// An error reply counted like every refusal (for callers outside the actor).
    func refuse(_ code: ErrorCode, _ detail: String) -> Message {
        reject(code, detail)
    }

    // MARK: Stop

    func handleStop(_ request: StopRequest) throws -> Message {
        let reason = request.reason.isEmpty ? "stopped by user" : request.reason
        switch request.target {
        case .trial(let raw):
            guard let id = Int64(exactly: raw), let trial = try? store.trial(id) else {
                throw RequestError(code: .notFound, detail: "trial \(raw) does not exist")
            }
            guard !trial.state.isTerminal else {
                return .stopReply(StopReply(sweepID: UInt64(bitPattern: trial.sweepId), cancelled: 0, stopped: 0,
                                            detail: "trial \(id) had already ended (\(trial.state.rawValue))"))
            }
            let wasRunning = try stopByUser(trial, reason: reason)
            try finishIfDone(sweep: trial.sweepId)
            return .stopReply(StopReply(sweepID: UInt64(bitPattern: trial.sweepId), cancelled: wasRunning ? 0 : 1,
                                        stopped: wasRunning ? 1 : 0,
                                        detail: "trial \(id) \(wasRunning ? "stopped" : "cancelled"): \(reason)"))
        case .sweep(let reference):
            let sweep = try sweep(named: reference)
            guard sweep.state == .active || sweep.state == .paused else {
                return .stopReply(StopReply(sweepID: UInt64(bitPattern: sweep.id), cancelled: 0, stopped: 0,
                                            detail: "sweep \(sweep.id) (\(sweep.name)) had already ended (\(sweep.state.rawValue))"))
            }
            // The sweep first, so no trial of it is assigned while its trials are being stopped.
            try store.setSweepState(sweep.id, to: .stopped, now: now())
            var cancelled: UInt32 = 0, stopped: UInt32 = 0
            for trial in try store.trials(sweep: sweep.id) where !trial.state.isTerminal {
                if try stopByUser(trial, reason: reason) { stopped += 1 } else { cancelled += 1 }
            }
            sweeps[sweep.id] = nil
            options.logger.info("sweep \(sweep.id) (\(sweep.name)) stopped by a client: \(stopped) running, \(cancelled) waiting")
            return .stopReply(StopReply(sweepID: UInt64(bitPattern: sweep.id), cancelled: cancelled, stopped: stopped,
                                        detail: "sweep \(sweep.id) (\(sweep.name)) stopped: \(stopped) running trial(s) told to stop, "
                                            + "\(cancelled) waiting trial(s) cancelled"))
        }
    }

    /// Ends one trial at the user's request, stored before the reply: a leased trial is stopped
    /// (its worker gets a `.stop` verdict with the reason), a pending one cancelled. The searcher,
    /// the stopping policy and retention are told, as for any ending. Returns true if it was running.
    private func stopByUser(_ trial: Trial, reason: String) throws -> Bool {
        let running = trial.state.isLeased
        if running {
            try store.stop(trial: trial.id, explanation: StopExplanation(rule: "user", message: reason), now: now())
            queueVerdict(TrialVerdict(trialID: UInt64(bitPattern: trial.id), verdict: .stop(reason: reason)), worker: trial.workerId)
        } else {
            try store.cancel(trial: trial.id, reason: reason, now: now())
        }
        if var runtime = sweeps[trial.sweepId], let index = runtime.indexByTrial[trial.id] {
            runtime.policy.trialEnded(index, stopped: true)
            runtime.searcher.observe(index: index, metric: try lastMetric(trial: trial.id, runtime: runtime), outcome: .stopped)
            sweeps[trial.sweepId] = runtime
            try applyEvictions(sweep: trial.sweepId, reason: "trial \(trial.id) \(reason)")
        }
        return running
    }

    // MARK: Export

    func handleExport(_ request: ExportRequest) throws -> Message {
        let sweep = try sweep(named: request.sweep)
        guard let page = try ExportPages.page(store: store, sweep: sweep.id, after: request.after, limit: Int(request.limit)) else {
            throw RequestError(code: .invalidRequest, detail: "export cursor out of range")
        }
        return .exportPage(page)
    }

    // MARK: Best checkpoints and blobs

    func handleBest(_ request: BestRequest) throws -> Message {
        let sweep = try sweep(named: request.sweep)
        let progress = try SweepProgress.read(from: store, sweep: sweep.id)
        let count = max(1, min(Int(request.count), 1000))
        var best: [BestCheckpoint] = []
        for checkpoint in try store.bestCheckpoints(sweep: sweep.id, goal: progress.goal, limit: count) {
            guard let hex = checkpoint.digest, let digest = Self.digest(hex: hex) else { continue }
            let trial = try store.trial(checkpoint.trialId)
            best.append(BestCheckpoint(
                trialID: UInt64(bitPattern: trial.id), trialIndex: Int64(trial.indexInSweep), step: checkpoint.step,
                value: checkpoint.metric.flatMap { $0.isFinite ? $0 : nil }, byteCount: UInt64(max(0, checkpoint.bytes)), digest: digest,
                params: StoredTrialParams.decode(trial.params)?.paramMap ?? ParamMap()))
        }
        return .bestCheckpoints(BestCheckpoints(sweepID: UInt64(bitPattern: sweep.id), sweepName: sweep.name,
                                                metric: progress.metric, checkpoints: best))
    }

    /// A piece of a stored blob. Only what the blob store holds can be read, by digest; the reader
    /// verifies the whole file against the digest.
    func handleBlobRead(_ read: BlobRead) throws -> Message {
        let hex = Self.hex(read.digest.bytes)
        guard BlobStore.isValidDigest(hex), try blobs.contains(hex) else {
            throw RequestError(code: .notFound, detail: "no stored checkpoint has SHA-256 \(hex) (evicted, or never stored)")
        }
        if read.offset == 0 {
            // Whoever reads from the start is about to trust the whole file (a worker resuming, a
            // fetch): check it first, so a blob damaged on disk is caught here and taken out of the
            // retention set rather than found only by the reader's own digest check.
            do { try blobs.verify(hex) } catch BlobStoreError.corrupt(_, let actual) {
                try discardCorruptBlob(hex, actual: actual)
                throw RequestError(code: .notFound, detail: "the stored checkpoint \(hex) is corrupt on disk (its SHA-256 is now \(actual)); it was evicted")
            }
        }
        let total = try blobs.size(hex)
        guard let offset = Int64(exactly: read.offset), offset <= total else {
            throw RequestError(code: .invalidRequest, detail: "offset \(read.offset) is past the end of the \(total)-byte blob \(hex)")
        }
        let count = Int(min(Int64(min(Int(read.maxBytes), Self.maxBlobPiece)), total - offset))
        let bytes = count > 0 ? try blobs.readChunk(hex, offset: offset, count: count) : []
        return .blobData(BlobData(digest: read.digest, offset: read.offset, totalBytes: UInt64(total), data: bytes))
    }

    /// A blob that no longer hashes to its name: every checkpoint held under it is evicted (one
    /// transaction, with the reason in each `checkpoint.evicted` event) and the file deleted after
    /// the commit; counted in `statistics.corruptBlobs` and logged as an error. A trial that would
    /// have resumed from it starts over from its first step instead.
    func discardCorruptBlob(_ digest: String, actual: String) throws {
        counters.corruptBlobs += 1
        options.logger.error("checkpoint blob \(digest) is corrupt on disk (SHA-256 now \(actual)); evicting it")
        let ids = try store.heldCheckpoints(digest: digest).map(\.id)
        try evict(ids, reason: "blob corrupt on disk: SHA-256 is \(actual)")
        // `evict` deletes only blobs no held checkpoint shares; all sharers are gone, so it goes.
        if ids.isEmpty { try? blobs.delete(digest) }
    }

    // MARK: Helpers

    /// A sweep by id or name, or `Error(notFound)` naming the sweeps there are.
    func sweep(named reference: String) throws -> Sweep {
        try Self.sweep(named: reference, in: store)
    }

    /// A sweep by id or name, or `notFound` listing the sweeps there are (any thread: store reads only).
    static func sweep(named reference: String, in store: SweepStore) throws -> Sweep {
        if let sweep = try StatusDocument.resolve(reference, in: store) { return sweep }
        let known = try store.sweeps().map { "\($0.id) \($0.name)" }
        throw RequestError(code: .notFound, detail: "no sweep \(reference); there are: \(known.isEmpty ? "none" : known.joined(separator: ", "))")
    }
}
