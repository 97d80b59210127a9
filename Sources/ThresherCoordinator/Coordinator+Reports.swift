import Foundation
import ThresherStore
import ThresherSweep
import ThresherWire

/// Report, Heartbeat, Done and Failed: the messages answered by `Ack`.
///
/// Order per message (each step committed before the next, all before the reply):
/// Report — mark running → store the batch (`appendReport`) → record and reserve checkpoints that
/// enter the retention set → feed the policy → store every stop it decides → reply.
/// Done — mark running → complete → searcher and policy told → reply.
extension Coordinator {
    func handleReport(worker: String, _ report: Report) throws -> Message {
        let (trialID, epoch) = try ids(report.trialID, report.leaseEpoch)
        guard let seq = Int64(exactly: report.seq) else { throw RequestError(code: .unexpectedMessage, detail: "report seq \(report.seq) is out of range") }
        let trial = try store.trial(trialID)
        try markRunningIfAssigned(trial, epoch: epoch)
        let time = now()
        let points = report.batch.records.map { MetricPoint(step: $0.step, name: $0.name, value: $0.value, time: time) }
        switch try store.appendReport(trial: trialID, seq: seq, epoch: epoch, points: points, now: time) {
        case .staleLease(let current):
            let why = trial.state.isTerminal ? "the trial has ended (\(trial.state.rawValue))"
                : epoch == current ? "lease epoch \(epoch) has expired" : "lease epoch \(epoch) is not live (current \(current))"
            throw RequestError(code: .staleLease, detail: "trial \(trialID): \(why); drop the trial")
        case .seqUsedByEarlierLease(let earlier):
            let next = try store.nextReportSeq(trial: trialID)
            throw RequestError(code: .unexpectedMessage,
                               detail: "trial \(trialID): seq \(seq) was used by lease \(earlier); continue from seq \(next) (run.first_seq)")
        case .duplicate:
            // A resend after a lost Ack: acknowledge again, feed nothing. Upload requests for steps
            // of this batch are repeated, since the lost Ack may have carried them.
            counters.reportsDuplicate += 1
            let steps = Set(report.batch.records.map(\.step))
            let uploads = try store.checkpoints(trial: trialID).filter { $0.state == .uploading && steps.contains($0.step) }
                .map { TrialVerdict(trialID: report.trialID, verdict: .upload(step: $0.step)) }
            return .ack(Ack(ackedSeq: try ackedSeq(trialID), verdicts: uploads + takeVerdicts(worker: worker)))
        case .stored(let stored):
            counters.reportsStored += 1
            counters.metricPointsIngested += stored
        }
        // Checkpoints first, while the lease is certainly live: a trial the policy is about to stop
        // may still hold one of the sweep's best checkpoints (its upload is accepted after the stop).
        var verdicts = try considerCheckpoints(trial: trial, epoch: epoch, records: report.batch.records)
        try feedPolicy(trial: trial, records: report.batch.records)
        if !verdicts.isEmpty {
            // The stop may have released a latest-only reservation made just above: do not ask for it.
            let uploading = Set(try store.checkpoints(trial: trialID).filter { $0.state == .uploading }.map(\.step))
            verdicts.removeAll { if case .upload(let step) = $0.verdict { !uploading.contains(step) } else { false } }
        }
        verdicts += takeVerdicts(worker: worker)
        if !verdicts.contains(where: { $0.trialID == report.trialID }) {
            verdicts.insert(TrialVerdict(trialID: report.trialID, verdict: .proceed), at: 0)
        }
        return .ack(Ack(ackedSeq: try ackedSeq(trialID), verdicts: verdicts))
    }

    func handleHeartbeat(worker: String, _ heartbeat: Heartbeat) throws -> Message {
        var verdicts: [TrialVerdict] = []
        for held in heartbeat.trials {
            guard let trialID = Int64(exactly: held.trialID), let epoch = Int64(exactly: held.leaseEpoch),
                  let trial = try? store.trial(trialID) else {
                verdicts.append(TrialVerdict(trialID: held.trialID, verdict: .stop(reason: "unknown trial \(held.trialID)")))
                continue
            }
            do {
                try markRunningIfAssigned(trial, epoch: epoch)
                _ = try store.renew(trial: trialID, epoch: epoch, now: now(), leaseDuration: options.leaseTimeout)
            } catch {
                // The worker holds a lease that is gone: tell it to drop the trial, with the stored
                // stop explanation when the policy stopped it.
                let reason = trial.decodedStopExplanation?.message ?? "lease \(epoch) ended: \(error)"
                if !pendingVerdicts[worker, default: []].contains(where: { $0.trialID == held.trialID }) {
                    verdicts.append(TrialVerdict(trialID: held.trialID, verdict: .stop(reason: reason)))
                }
            }
        }
        return .ack(Ack(ackedSeq: 0, verdicts: takeVerdicts(worker: worker) + verdicts))
    }

    func handleDone(worker: String, _ done: Done) throws -> Message {
        let (trialID, epoch) = try ids(done.trialID, done.leaseEpoch)
        let trial = try store.trial(trialID)
        if trial.state == .completed && trial.leaseEpoch == epoch {
            return .ack(Ack(ackedSeq: try ackedSeq(trialID), verdicts: takeVerdicts(worker: worker)))
        }
        try markRunningIfAssigned(trial, epoch: epoch)
        // `finalMetrics` repeat the last metrics line, which the worker has already reported (it
        // sends Done only after its Reports are acknowledged). Storing or feeding them again would
        // count that line twice, so they are not used: the searcher sees the last stored value.
        try store.complete(trial: trialID, epoch: epoch, now: now())
        // trialEnded reads only the trial's id and sweep, which completing does not change.
        try trialEnded(trial, outcome: .completed)
        return .ack(Ack(ackedSeq: try ackedSeq(trialID), verdicts: takeVerdicts(worker: worker)))
    }

    func handleFailed(worker: String, _ failed: Failed) throws -> Message {
        let (trialID, epoch) = try ids(failed.trialID, failed.leaseEpoch)
        let reason = failed.exitCode.map { "\(failed.reason) (exit \($0))" } ?? failed.reason
        let state = try store.fail(trial: trialID, epoch: epoch, error: reason, now: now())
        try abandonUploads(trial: trialID, reason: "attempt failed")
        // Back in the queue: the policy keeps its state and the trial resumes. Failed for good: it ended.
        if state == .failed { try trialEnded(try store.trial(trialID), outcome: .failed) }
        return .ack(Ack(ackedSeq: 0, verdicts: takeVerdicts(worker: worker)))
    }

    // MARK: Stopping

    /// Feeds the sweep metric's values of `records` to the policy in order and applies every stop it
    /// decides (durably) before returning.
    func feedPolicy(trial: Trial, records: [ThresherWire.MetricRecord]) throws {
        // Mutate the runtime in place through `values[slot]`: a local copy would make the writes
        // below copy the policy's state, and `sweeps[id]?` moves the whole runtime out and back in
        // on every access (~6 % of the coordinator's CPU in an ingest profile).
        guard let slot = sweeps.index(forKey: trial.sweepId), let index = sweeps.values[slot].indexByTrial[trial.id],
              let name = sweeps.values[slot].metricName else { return }
        var decisions: [StopDecision] = []
        var lastStep: Int64?
        for record in records where record.name == name {
            lastStep = record.step
            decisions += sweeps.values[slot].policy.report(trial: index, step: record.step, value: record.value)
        }
        if let lastStep { sweeps.values[slot].lastStep[trial.id] = lastStep }
        for decision in decisions {
            try applyStop(sweep: trial.sweepId, decision)
        }
    }

    /// Stores a policy stop and queues the `.stop` verdict for the worker holding the trial.
    func applyStop(sweep: Int64, _ decision: StopDecision) throws {
        guard let runtime = sweeps[sweep], let trialID = runtime.trialByIndex[decision.trial] else { return }
        let trial = try store.trial(trialID)
        let explanation = SweepRuntime.storeExplanation(decision.explanation, step: runtime.lastStep[trialID])
        if trial.state.isLeased {
            try store.stop(trial: trialID, explanation: explanation, now: now())
            queueVerdict(TrialVerdict(trialID: UInt64(bitPattern: trialID), verdict: .stop(reason: explanation.message)),
                         worker: trial.workerId)
        } else if trial.state == .pending {
            // Waiting in the queue after a lost lease: it will not run again.
            try store.cancel(trial: trialID, reason: explanation.message, now: now())
        } else {
            return
        }
        counters.stopsDecided += 1
        options.logger.info("trial \(trialID) (index \(decision.trial)) stopped: \(explanation.message)")
        try trialEnded(try store.trial(trialID), outcome: .stopped)
    }

    // MARK: Helpers

    func ids(_ trial: UInt64, _ epoch: UInt64) throws -> (Int64, Int64) {
        guard let t = Int64(exactly: trial) else { throw RequestError(code: .unknownTrial, detail: "trial \(trial) does not exist") }
        guard let e = Int64(exactly: epoch) else { throw RequestError(code: .staleLease, detail: "lease epoch \(epoch) was never issued") }
        return (t, e)
    }

    func markRunningIfAssigned(_ trial: Trial, epoch: Int64) throws {
        guard trial.state == .assigned, trial.leaseEpoch == epoch, let expiry = trial.leaseExpiry, now() < expiry else { return }
        try store.markRunning(trial: trial.id, epoch: epoch, now: now())
    }

    func ackedSeq(_ trial: Int64) throws -> UInt64 {
        UInt64(max(0, try store.nextReportSeq(trial: trial) - 1))
    }
}
