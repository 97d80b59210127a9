#if canImport(Glibc)
import Glibc
#endif
import Logging
import ThresherWire

/// Metric names the worker itself reports (shared with the coordinator, docs/coordinator.md).
public enum WorkerMetric {
    /// One record per new checkpoint: step S, value = the file's size in bytes. The protocol has
    /// no "checkpoint saved" message; the coordinator's retention policy needs the size.
    public static let checkpointBytes = "thresher.checkpoint_bytes"
}

/// What a `WorkerAgent` knows about one trial it holds. Isolated to the agent (never leaves it).
final class AgentTrial {
    let trialID: UInt64
    let sweepID: UInt64
    let leaseEpoch: UInt64
    let process: TrialProcess
    let folder: TrialFolder

    /// Records read from the metrics file and not yet cut into a Report.
    var pending: [MetricRecord] = []
    /// Reports sent (or about to be) and not yet covered by an Ack, by increasing seq.
    var unacked: [Report] = []
    var nextSeq: UInt64 = 1
    /// Step of the last metrics line (heartbeats, Done).
    var lastStep: Int64 = 0
    var lastLine: MetricLine?
    /// The highest step whose records the coordinator acknowledged: it has seen those metrics and
    /// answered with its verdicts, so it will not ask for checkpoints of those steps later.
    var ackedThroughStep: Int64 = -1
    /// The newest checkpoint the program wrote during this run.
    var latestCheckpoint: Int?
    /// Steps the coordinator asked for and not yet uploaded (or given up on).
    var uploadsWanted: Set<Int64> = []
    var uploader: Task<Void, Never>?
    var eventsFinished = false
    /// A stop verdict arrived: no Done or Failed will be sent.
    var stopRequested = false
    /// The lease is gone (staleLease/unknownTrial): nothing more is sent at all.
    var forgotten = false
    /// A Report met the ended lease after a stop verdict: metrics are no longer wanted, but the
    /// coordinator still takes chunks under this epoch, so uploads go on.
    var reportsClosed = false
    /// The agent is being cancelled: nothing more is sent at all.
    var shuttingDown = false

    init(assign: Assign, firstSeq: UInt64, process: TrialProcess, folder: TrialFolder) {
        self.nextSeq = firstSeq
        self.trialID = assign.trialID
        self.sweepID = assign.sweepID
        self.leaseEpoch = assign.leaseEpoch
        self.process = process
        self.folder = folder
    }

    var silent: Bool { forgotten || shuttingDown }
}

extension WorkerAgent {
    /// Follows one trial from start to its Done/Failed: reports its metrics, then its end.
    func drive(_ trial: AgentTrial) async {
        let process = trial.process
        let consumer = Task {
            for await event in process.events { self.absorb(event, trial: trial) }
            self.eventsEnded(trial)
        }
        while !Task.isCancelled, !trial.silent {
            await flushReports(trial)
            if trial.eventsFinished, trial.pending.isEmpty, trial.unacked.isEmpty { break }
            try? await Task.sleep(for: options.reportInterval)
        }
        await consumer.value
        let exit = await process.wait()
        if !trial.silent, !Task.isCancelled {
            // A late line read at the very end still goes out before the ending.
            await flushReports(trial)
            await finishUploads(trial)
            await sendEnding(trial, exit: exit)
            await finishUploads(trial)
        }
        // A finished trial keeps at most its latest checkpoint (the coordinator may resume from it).
        prune(trial, keepOnly: true)
        trials[trial.trialID] = nil
        drivers[trial.trialID] = nil
        logger.info("trial \(trial.trialID) ended: \(exit)")
    }

    func absorb(_ event: TrialEvent, trial: AgentTrial) {
        switch event {
        case .metrics(let line):
            trial.lastLine = line
            trial.lastStep = Int64(line.step)
            guard !trial.reportsClosed else { return }
            let step = Int64(line.step)
            if let epoch = line.epoch { trial.pending.append(MetricRecord(step: step, name: "epoch", value: epoch)) }
            for (name, value) in line.values { trial.pending.append(MetricRecord(step: step, name: name, value: value)) }
        case .checkpoint(let checkpoint):
            // Announced before the line of its step (the contract's order), so the coordinator can
            // decide on the upload as soon as it has the metric of that step.
            var info = stat()
            if !trial.reportsClosed, lstat(checkpoint.path, &info) == 0 {
                trial.pending.append(MetricRecord(step: Int64(checkpoint.step), name: WorkerMetric.checkpointBytes,
                                                  value: Double(info.st_size)))
            }
            trial.latestCheckpoint = max(trial.latestCheckpoint ?? checkpoint.step, checkpoint.step)
            prune(trial)
        case .malformedLine:
            break  // TrialProcess logs and counts them; the trial goes on.
        }
    }

    func eventsEnded(_ trial: AgentTrial) {
        trial.eventsFinished = true
    }

    /// Cuts pending records into numbered Reports and sends every unacknowledged one, oldest first,
    /// until all are acknowledged, the trial is forgotten or the agent is cancelled.
    func flushReports(_ trial: AgentTrial) async {
        while !trial.pending.isEmpty {
            let count = min(options.maxBatchRecords, trial.pending.count)
            let records = Array(trial.pending.prefix(count))
            trial.pending.removeFirst(count)
            trial.unacked.append(Report(trialID: trial.trialID, leaseEpoch: trial.leaseEpoch, seq: trial.nextSeq,
                                        batch: MetricBatch(records: records)))
            trial.nextSeq += 1
        }
        var delay = options.retryMin
        // Cancelled (the agent is shutting down): stop resending; the coordinator requeues the trial.
        while let report = trial.unacked.first, !trial.silent, !Task.isCancelled {
            let outcome = await exchange(.report(report), trial: trial, what: "Report \(trial.trialID)#\(report.seq)") {
                if case .ack(let ack) = $0 { ack } else { nil }
            }
            switch outcome {
            case .reply(let ack):
                let covered = trial.unacked.prefix { $0.seq <= ack.ackedSeq }
                // Only metric lines count: the coordinator decides on a checkpoint once it has the
                // metric of its step, which may come in a later Report than the announcement.
                let lineSteps = covered.flatMap(\.batch.records).filter { $0.name != WorkerMetric.checkpointBytes }.map(\.step)
                if let highest = lineSteps.max() {
                    trial.ackedThroughStep = max(trial.ackedThroughStep, highest)
                }
                trial.unacked.removeFirst(covered.count)
                apply(ack.verdicts)
                prune(trial)
                if covered.isEmpty {
                    // The coordinator did not store it (its ackedSeq is lower): send it again, later.
                    logger.warning("Report \(trial.trialID)#\(report.seq) acknowledged only up to \(ack.ackedSeq); resending")
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, options.retryMax)
                } else {
                    delay = options.retryMin
                }
            case .lost(let error) where trial.stopRequested && error.code == .staleLease:
                // Expected after a stop verdict: the lease ended with the stop. Drop the metrics;
                // keep the trial for its uploads, which the coordinator accepts under this epoch.
                logger.debug("trial \(trial.trialID): reports after the stop are refused (\(error.detail)); dropping them")
                trial.reportsClosed = true
                trial.unacked.removeAll()
                trial.pending.removeAll()
            case .lost(let error):
                lose(trial, error)
            case .gaveUp:
                return
            }
        }
    }

    /// Done for a program that completed, Failed for one that failed; nothing for a stopped one
    /// (the coordinator decided the stop and already marked the trial).
    private func sendEnding(_ trial: AgentTrial, exit: TrialExit) async {
        let message: Message
        switch exit {
        case .completed:
            let final = trial.lastLine.map { line in
                line.values.map { MetricRecord(step: Int64(line.step), name: $0.name, value: $0.value) }
            } ?? []
            message = .done(Done(trialID: trial.trialID, leaseEpoch: trial.leaseEpoch, finalStep: trial.lastStep, finalMetrics: final))
        case let .failed(reason, status):
            var code: Int32?
            if case .exited(let value) = status { code = value }
            message = .failed(Failed(trialID: trial.trialID, leaseEpoch: trial.leaseEpoch, reason: reason, exitCode: code))
        case .stopped:
            return
        }
        let outcome = await exchange(message, trial: trial, what: "\(message.type) \(trial.trialID)") {
            if case .ack(let ack) = $0 { ack } else { nil }
        }
        switch outcome {
        case .reply(let ack): apply(ack.verdicts)
        case .lost(let error): lose(trial, error)
        case .gaveUp: break
        }
    }

    // MARK: - Uploads

    func requestUpload(_ trial: AgentTrial, step: Int64) {
        guard !trial.uploadsWanted.contains(step) else { return }
        trial.uploadsWanted.insert(step)
        if trial.uploader == nil {
            trial.uploader = Task { await self.runUploads(trial) }
        }
    }

    /// Uploads the wanted checkpoints one at a time, oldest step first.
    private func runUploads(_ trial: AgentTrial) async {
        while let step = trial.uploadsWanted.min() {
            if !trial.silent, !Task.isCancelled { await upload(trial, step: step) }
            trial.uploadsWanted.remove(step)
            prune(trial)
        }
        trial.uploader = nil
    }

    private func finishUploads(_ trial: AgentTrial) async {
        while let uploader = trial.uploader { await uploader.value }
    }

    /// Sends `step-<step>.safetensors` as CheckpointChunks from wherever the coordinator says to
    /// continue: `.complete` and `.refused` end it, `.digestMismatch` restarts from 0 once.
    private func upload(_ trial: AgentTrial, step: Int64) async {
        let path = trial.folder.checkpointPath(step: Int(step))
        guard step >= 0, step <= Int64(MetricLineParser.maxStep), trial.folder.checkpoint(step: Int(step)) != nil else {
            logger.warning("trial \(trial.trialID): upload of step \(step) asked, but no such checkpoint is here")
            return
        }
        let file: CheckpointFile
        do {
            // The digest pass reads the whole file: off the agent, so reports keep flowing meanwhile.
            let folder = trial.folder
            file = try await Task.detached { try CheckpointFile(folder: folder, step: Int(step)) }.value
        } catch {
            logger.warning("trial \(trial.trialID): cannot read \(path): \(error)")
            return
        }
        var offset: UInt64 = 0
        var restarted = false
        var stalls = 0
        while !trial.silent, !Task.isCancelled {
            let data: [UInt8]
            do { data = try file.read(at: offset, count: options.chunkBytes) } catch {
                logger.warning("trial \(trial.trialID): reading \(path) failed: \(error); upload abandoned")
                return
            }
            let chunk = CheckpointChunk(trialID: trial.trialID, leaseEpoch: trial.leaseEpoch, step: step, offset: offset,
                                        totalBytes: file.size, digest: file.digest, data: data)
            let outcome = await exchange(.checkpointChunk(chunk), trial: trial, what: "CheckpointChunk \(trial.trialID)@\(step)+\(offset)") {
                if case .chunkAck(let ack) = $0, ack.trialID == trial.trialID, ack.step == step { ack } else { nil }
            }
            guard case .reply(let ack) = outcome else {
                // After a stop the lease has ended anyway: only this upload is over, not the trial.
                if case .lost(let error) = outcome, !trial.stopRequested { lose(trial, error) }
                return
            }
            switch ack.status {
            case .complete:
                logger.info("trial \(trial.trialID): checkpoint of step \(step) uploaded (\(file.size) bytes)")
                return
            case .refused:
                logger.info("trial \(trial.trialID): the coordinator refused the checkpoint of step \(step)")
                return
            case .digestMismatch:
                guard !restarted else {
                    logger.error("trial \(trial.trialID): checkpoint of step \(step) mismatched its digest twice; upload abandoned")
                    return
                }
                restarted = true
                offset = 0
            case .accepted:
                guard ack.nextOffset <= file.size else {
                    logger.error("trial \(trial.trialID): coordinator asked for offset \(ack.nextOffset) of a \(file.size)-byte file; upload abandoned")
                    return
                }
                // An earlier offset is a resend request; but a coordinator that never moves forward must not loop forever.
                stalls = ack.nextOffset > offset ? 0 : stalls + 1
                if stalls > 16 {
                    logger.error("trial \(trial.trialID): upload of step \(step) makes no progress; abandoned")
                    return
                }
                offset = ack.nextOffset
            }
        }
    }

    // MARK: - Pruning

    /// Deletes the checkpoints nobody can ask for any more. Kept: the latest one (resume), every
    /// step whose metrics the coordinator has not acknowledged yet (it may still answer `upload`),
    /// and every step with a wanted upload. With `keepOnly`, once the trial ended: the latest and
    /// the wanted ones only.
    ///
    /// While the program runs, "not acknowledged yet" is the bound `ackedThroughStep` applied to
    /// each file as it is deleted, not a list of files taken first: a checkpoint the program
    /// renamed into place in between (not even announced yet) was deleted that way, and the
    /// coordinator never heard of it (found by the soak: 1 step in ~2,500).
    func prune(_ trial: AgentTrial, keepOnly: Bool = false) {
        guard let latest = trial.latestCheckpoint else { return }  // nothing written by this run: leave the folder as found
        var keep: Set<Int> = [latest]
        for step in trial.uploadsWanted { keep.insert(Int(step)) }
        // Once the trial ended no new file can appear: everything else may go.
        let through = keepOnly ? nil : Int(clamping: trial.ackedThroughStep)
        do {
            let deleted = try trial.folder.prune(keepingSteps: keep, throughStep: through)
            if !deleted.isEmpty { logger.debug("trial \(trial.trialID): pruned checkpoints \(deleted)") }
        } catch {
            logger.warning("trial \(trial.trialID): pruning failed: \(error)")
        }
    }
}
