import Foundation
import Logging
import ThresherNet
import ThresherStore
import ThresherSweep
import ThresherWire

/// The one owner of the coordinator's sweep state: sweeps, their searchers and stopping policies,
/// trial leases, metrics and checkpoints.
///
/// Guarantees:
/// - **Durable before acknowledged.** Every decision a reply announces (an assignment, a stored
///   report, a stop, an upload reservation, a stored checkpoint, an ending) is committed to
///   `<state>/thresher.sqlite` (synchronous FULL) before `handle` returns the reply — by each store
///   call, or, in `handle(batch:)`, by the batch's one commit before any of its replies is returned.
/// - **Idempotent.** A resent Report, chunk or Done changes nothing and is acknowledged again.
/// - **Fenced.** Anything presented under a lease epoch that is no longer live is refused
///   (`Error(staleLease)` or a `.stop` verdict), so a lost worker can never overwrite a new one.
/// - **Total.** Every message gets a reply; an unexpected or hostile one gets `Error` and is counted
///   in `statistics`, never a crash.
/// - **Restartable.** A coordinator opened on the same state directory rebuilds every active
///   sweep's searcher and stopping policy from the store and continues it: no trial index is handed
///   out twice.
///
/// `handle` does its work without suspending, so each message is processed atomically with
/// respect to every other.
public actor Coordinator {
    let store: SweepStore
    let blobs: BlobStore
    let options: CoordinatorOptions
    var sweeps: [Int64: SweepRuntime] = [:]
    /// Verdicts waiting for the next Ack to the worker holding the trial (keyed by worker id).
    var pendingVerdicts: [String: [TrialVerdict]] = [:]
    var counters = CoordinatorStatistics()
    /// One `LiveBoard` per sweep a client asked the status of (StatusRequest).
    var statusBoards = LiveBoards()
    /// Assignments per second over the last few seconds, for the metrics endpoint.
    var dispatchWindow = DispatchRateWindow()
    /// Blob files to delete once the batch that evicted their rows has committed (see `evict`).
    var blobDeletionsAfterCommit: [String] = []
    var uploadAbortsAfterCommit: [String] = []
    /// When each upload was last asked for or sent a chunk (checkpoint id → time), to find
    /// uploads of ended trials that stopped moving (`abandonStalledUploads`). In memory only: after
    /// a restart every upload gets a fresh timeout.
    var uploadActivity: [Int64: Date] = [:]
    /// While commits fail (a full disk, an I/O error), the time of the first failure: the clock
    /// the coordinator decides with stands still there, so no lease runs out while no worker's
    /// renewal can be stored (see `handle(batch:)`).
    var clockFrozenAt: Date?
    /// What the coordinator refused or decided so far (counters only).
    public var statistics: CoordinatorStatistics { counters }

    /// Opens (creating) `<stateDirectory>/thresher.sqlite` and the blob store under
    /// `stateDirectory`, then rebuilds every active or paused sweep from the store. A state folder
    /// it creates is mode 0700: metrics, parameters, checkpoints and the local token are the
    /// owner's alone (an existing folder keeps its mode).
    public init(stateDirectory: String, options: CoordinatorOptions = CoordinatorOptions()) throws {
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        store = try SweepStore(path: stateDirectory + "/thresher.sqlite")
        blobs = try BlobStore(stateDirectory: stateDirectory)
        self.options = options
        var rebuilt: [Int64: SweepRuntime] = [:]
        for sweep in try store.sweeps() where sweep.state == .active || sweep.state == .paused {
            rebuilt[sweep.id] = try Self.rebuild(sweep: sweep, store: store, now: options.clock())
        }
        sweeps = rebuilt
        // Workers could not renew while no coordinator ran: a restart grants every held lease a
        // full timeout from now, so a short outage does not reap (and redo) every running trial.
        try store.extendLeases(until: options.clock().addingTimeInterval(options.leaseTimeout))
        let (orphans, parts) = try Self.reconcileFiles(store: store, blobs: blobs)
        if orphans + parts > 0 {
            options.logger.info("deleted \(orphans) blob(s) and \(parts) partial upload(s) no checkpoint refers to any more")
        }
    }

    /// Deletes the files the store no longer accounts for, left by a crash: blobs no held
    /// checkpoint refers to (the process died between an eviction's commit and its file deletion)
    /// and part files no `uploading` checkpoint waits for. They would otherwise take disk space
    /// outside the budget's accounting for good. Returns how many of each were deleted.
    static func reconcileFiles(store: SweepStore, blobs: BlobStore) throws -> (blobs: Int, uploads: Int) {
        var orphans = 0, parts = 0
        for digest in blobs.allDigests() where try !store.blobIsHeld(digest: digest) {
            try blobs.delete(digest)
            orphans += 1
        }
        for upload in blobs.pendingUploads() {
            // Upload ids are `t<trial>_s<step>_<digest prefix>`; anything else is not ours to keep.
            let fields = upload.split(separator: "_")
            let waiting: Bool
            if fields.count == 3, fields[0].first == "t", fields[1].first == "s",
               let trial = Int64(fields[0].dropFirst()), let step = Int64(fields[1].dropFirst()) {
                waiting = (try? store.checkpoints(trial: trial).contains { $0.step == step && $0.state == .uploading }) ?? false
            } else {
                waiting = false
            }
            if !waiting {
                try blobs.abortUpload(upload)
                parts += 1
            }
        }
        return (orphans, parts)
    }

    /// The store, for status queries and tests. Reads only; decisions go through the actor.
    public nonisolated var sweepStore: SweepStore { store }
    /// The blob store holding uploaded checkpoints (`<state>/blobs/…`), for `fetch` and tests.
    public nonisolated var blobStore: BlobStore { blobs }

    /// Closes the database (tests reopen the same state directory to simulate a restart).
    public func close() throws { try store.close() }

    /// Parses and stores a sweep (active). The stored spec keeps the file text and the folder its
    /// relative paths mean, so a restart builds the same searcher and argv. Returns the sweep id.
    public func submit(sweepFileText: String, fileName: String, baseDirectory: String, name: String? = nil,
                       priority: Int = 0) throws -> Int64 {
        let spec: SweepSpec
        do { spec = try SweepFileParser.parse(sweepFileText, fileName: fileName).spec } catch {
            throw CoordinatorError.invalidSweepFile(error.description)
        }
        do { _ = try SearcherFactory.make(for: spec) } catch { throw CoordinatorError.unsearchable(error.description) }
        let sweep = try store.createSweep(name: name ?? spec.name ?? fileName,
                                          spec: StoredSpec.compose(text: sweepFileText, baseDirectory: baseDirectory),
                                          seed: Int64(bitPattern: spec.thresher.seed), priority: priority, now: now())
        sweeps[sweep.id] = try SweepRuntime(sweep: sweep)
        return sweep.id
    }

    /// Answers one request of an authenticated worker or client. Never throws, never traps.
    public func handle(session: WorkerSession, message: Message) -> Message {
        let worker = session.workerID
        counters.requests[message.type, default: 0] += 1
        do {
            // Client requests (and the roles check) live in Coordinator+Clients.swift.
            if let reply = try handleClientRequest(session: session, message) { return reply }
            switch message {
            case .requestTrial(let request): return try requestTrial(worker: worker, request)
            case .report(let report): return try handleReport(worker: worker, report)
            case .heartbeat(let heartbeat): return try handleHeartbeat(worker: worker, heartbeat)
            case .checkpointChunk(let chunk): return try handleChunk(chunk)
            case .done(let done): return try handleDone(worker: worker, done)
            case .failed(let failed): return try handleFailed(worker: worker, failed)
            default:
                return reject(.unexpectedMessage, "\(message.type) is not a request a worker sends after the handshake")
            }
        } catch let error as StoreError {
            switch error {
            case .staleLease: return reject(.staleLease, error.description)
            case .trialNotFound, .checkpointNotFound: return reject(.unknownTrial, error.description)
            case .invalidTransition: return reject(.staleLease, error.description)
            default: return reject(.internalError, error.description)
            }
        } catch let error as RequestError {
            return reject(error.code, error.detail)
        } catch {
            options.logger.error("request failed: \(error)")
            return reject(.internalError, "\(error)")
        }
    }

    /// Reaps expired leases: those trials go back to the queue (or fail after `maxAttempts`); their
    /// stopping-policy state stays, so a resumed trial continues where the policy left it.
    /// Returns the trial ids whose lease ended.
    @discardableResult
    public func tick() throws -> [Int64] {
        let expired = try store.expireLeases(now: now())
        for id in expired {
            try abandonUploads(trial: id, reason: "lease expired")
            let trial = try store.trial(id)
            if trial.state == .failed { try trialEnded(trial, outcome: .failed) }
        }
        try abandonStalledUploads()
        return expired
    }

    // MARK: RequestTrial

    func requestTrial(worker: String, _ request: RequestTrial) throws -> Message {
        guard request.freeSlots > 0 else {
            return .noWork(NoWork(reason: .nothingPending, retryAfterMs: options.retryAfterMs))
        }
        // Trials are created lazily: one suggestion at a time, only when nothing is pending, so an
        // adaptive searcher sees as many results as possible before it suggests.
        while true {
            if let assignment = try store.assignNext(worker: worker, now: now(), leaseDuration: options.leaseTimeout) {
                return try assign(assignment)
            }
            guard try enqueueNextSuggestion() else { break }
        }
        for id in sweeps.keys.sorted() { try finishIfDone(sweep: id) }
        let open = try store.hasOpenSweeps()
        return .noWork(NoWork(reason: open ? .nothingPending : .allSweepsFinished, retryAfterMs: options.retryAfterMs))
    }

    /// Enqueues one suggestion of the first active sweep (priority, then FIFO) that has one.
    func enqueueNextSuggestion() throws -> Bool {
        // The runtime is mutated in place (`sweeps[id]?.…`): a copy taken out and written back
        // would copy its per-trial dictionaries on the first write, for every request.
        for id in try store.activeSweepIDs() {
            guard let suggestion = sweeps[id]?.nextSuggestion() else { continue }  // nil also marks it exhausted
            let trial = try store.enqueue(sweep: id, params: StoredTrialParams(index: suggestion.index, params: suggestion.params),
                                          maxAttempts: options.maxAttempts, now: now())
            sweeps[id]?.remember(trial: trial.id, index: suggestion.index)
            sweeps[id]?.unassignedParams[trial.id] = suggestion.params
            return true
        }
        return false
    }

    func assign(_ assignment: Assignment) throws -> Message {
        let trial = assignment.trial
        let cached = sweeps[trial.sweepId]?.unassignedParams.removeValue(forKey: trial.id)
        let index = cached != nil ? sweeps[trial.sweepId]?.indexByTrial[trial.id] : nil
        let stored = index.flatMap { i in cached.map { StoredTrialParams(index: i, params: $0) } } ?? StoredTrialParams.decode(trial.params)
        guard sweeps[trial.sweepId] != nil, let stored, let params = stored.paramMap else {
            // A row this coordinator cannot read: give it up rather than hand out garbage.
            try store.cancel(trial: trial.id, reason: "coordinator cannot read the trial's parameters", now: now())
            throw RequestError(code: .internalError, detail: "trial \(trial.id) has unreadable parameters; cancelled")
        }
        let run: ParamMap
        do {
            // A trial's first lease (epoch 1) cannot have reports yet (0 = none): skip the query.
            let firstSeq = assignment.lease.epoch == 1 ? 0 : try store.nextReportSeq(trial: trial.id)
            run = try Self.runMap(sweeps[trial.sweepId], params: params, index: stored.index, firstSeq: firstSeq)
        } catch {
            try store.cancel(trial: trial.id, reason: "no program: \(error)", now: now())
            throw RequestError(code: .internalError, detail: "trial \(trial.id): \(error)")
        }
        sweeps[trial.sweepId]?.policy.trialStarted(stored.index)
        // Uploads still `uploading` belong to an earlier lease (e.g. one that expired just before a
        // coordinator crash, before `tick` could abandon them): none of their chunks is accepted now.
        if assignment.lease.epoch > 1 { try abandonUploads(trial: trial.id, reason: "trial assigned again") }
        var resume: ResumePoint?
        if let checkpointID = trial.resumeCheckpointId, let checkpoint = try? store.checkpoint(checkpointID),
           checkpoint.state == .stored, let hex = checkpoint.digest, let digest = Self.digest(hex: hex) {
            resume = ResumePoint(step: checkpoint.step, digest: digest, byteCount: UInt64(max(0, checkpoint.bytes)))
        }
        counters.trialsDispatched += 1
        dispatchWindow.record(at: options.clock())
        return .assign(Assign(sweepID: UInt64(bitPattern: trial.sweepId), trialID: UInt64(bitPattern: trial.id),
                              leaseEpoch: UInt64(bitPattern: assignment.lease.epoch), params: params, run: run, resumeFrom: resume))
    }

    // MARK: Shared helpers

    /// The Assign's run map. Takes the runtime as an argument so no copy of it outlives the call
    /// (a live copy would make the next in-place write to the sweep's policy copy its state).
    static func runMap(_ runtime: SweepRuntime?, params: ParamMap, index: Int, firstSeq: Int64) throws -> ParamMap {
        guard let runtime else { throw RequestError(code: .internalError, detail: "the trial's sweep is not running") }
        return try RunMap.make(spec: runtime.spec, sweepName: runtime.name, params: params, index: index,
                               baseDirectory: runtime.baseDirectory, firstSeq: firstSeq)
    }

    /// The time decisions are taken at: the injected clock, or the moment commits started failing.
    func now() -> Date { clockFrozenAt ?? options.clock() }

    func reject(_ code: ErrorCode, _ detail: String) -> Message {
        let count = counters.rejected["\(code)", default: 0] + 1
        counters.rejected["\(code)"] = count
        // A confused or hostile worker must not flood the log: the 1st, 2nd, 4th, 8th, ... of each kind.
        if count & (count - 1) == 0 {
            options.logger.warning("refused a request (\(code), \(count) so far): \(detail)")
        }
        return .error(ErrorReply(code: code, detail: detail))
    }

    /// A trial ended (completed, stopped, failed, cancelled): tell the searcher and the policy,
    /// release its latest-only checkpoint copies, and finish the sweep if that was the last trial.
    func trialEnded(_ trial: Trial, outcome: TrialOutcome) throws {
        guard let index = sweeps[trial.sweepId]?.indexByTrial[trial.id] else { return }
        let metric = try sweeps[trial.sweepId]?.metricName.flatMap { try store.lastFiniteMetric(trial: trial.id, name: $0) }
        sweeps[trial.sweepId]?.policy.trialEnded(index, stopped: outcome == .stopped)
        sweeps[trial.sweepId]?.searcher.observe(index: index, metric: metric, outcome: outcome)
        try applyEvictions(sweep: trial.sweepId, reason: "trial \(trial.id) ended")
        try finishIfDone(sweep: trial.sweepId)
    }

    /// The trial's last finite value of the sweep metric, as stored (so a rebuild sees the same).
    func lastMetric(trial: Int64, runtime: SweepRuntime) throws -> Double? {
        guard let name = runtime.metricName else { return nil }
        return try store.lastFiniteMetric(trial: trial, name: name)
    }

    /// Marks a sweep finished once its searcher is exhausted and every trial has ended.
    func finishIfDone(sweep id: Int64) throws {
        guard var runtime = sweeps[id] else { return }
        if !runtime.exhausted, let total = runtime.searcher.totalCount, runtime.handedOut >= total { runtime.exhausted = true }
        sweeps[id] = runtime
        guard runtime.exhausted, try store.sweep(id).state == .active else { return }
        if try !store.hasOpenTrials(sweep: id) {
            try store.setSweepState(id, to: .finished, now: now())
            sweeps[id] = nil
        }
    }

    func queueVerdict(_ verdict: TrialVerdict, worker: String?) {
        guard let worker else { return }
        pendingVerdicts[worker, default: []].append(verdict)
    }

    /// Pending verdicts for `worker`, removed from the queue. If the Ack carrying them is lost, the
    /// trial's next Report or Heartbeat meets its ended lease and is told again.
    func takeVerdicts(worker: String) -> [TrialVerdict] {
        pendingVerdicts.removeValue(forKey: worker) ?? []
    }

    static func digest(hex: String) -> Digest32? {
        guard hex.count == 64 else { return nil }
        var bytes: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = hexValue(high), let l = hexValue(low) else { return nil }
            bytes.append(h << 4 | l)
        }
        return Digest32(bytes)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0") ... UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a") ... UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A") ... UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A request refused with a specific wire error code.
struct RequestError: Error {
    var code: ErrorCode
    var detail: String
}
