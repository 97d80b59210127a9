import Foundation
import ThresherStore
import ThresherSweep
import ThresherWire

/// Rebuilding a sweep's in-memory state from the store after a restart.
///
/// The searcher gets back every suggestion it handed out (`resume(handedOut:)`, in the order they
/// were enqueued) and every ending (`observe`, in the order the trials ended). The stopping policy
/// is replayed from the durable record in time order: each assignment (`trial.assigned` events)
/// as `trialStarted`, each stored value of the sweep metric as `report`, each ending as
/// `trialEnded`. Policies are pure, so the rebuilt policy is in the state the live one was in.
extension Coordinator {
    private enum Replay {
        case started(index: Int)
        case value(index: Int, step: Int64, value: Double)
        case ended(index: Int, stopped: Bool)

        /// At one instant the live coordinator assigns before values arrive and stores values before
        /// the endings they cause.
        var rank: Int {
            switch self {
            case .started: 0
            case .value: 1
            case .ended: 2
            }
        }
    }

    static func rebuild(sweep: Sweep, store: SweepStore, now: Date) throws -> SweepRuntime {
        var runtime = try SweepRuntime(sweep: sweep)
        let trials = try store.trials(sweep: sweep.id)
        var handed: [SuggestedTrial] = []
        for trial in trials.sorted(by: { $0.indexInSweep < $1.indexInSweep }) {
            guard let stored = StoredTrialParams.decode(trial.params), let params = stored.paramMap else { continue }
            handed.append(SuggestedTrial(index: stored.index, params: params))
            runtime.remember(trial: trial.id, index: stored.index)
        }
        runtime.searcher.resume(handedOut: handed)
        runtime.handedOut = handed.count
        if let total = runtime.searcher.totalCount, handed.count >= total { runtime.exhausted = true }

        // Endings, oldest first, for the searcher and the replay.
        let ended = trials.filter { $0.state.isTerminal }
            .sorted { ($0.endedAt ?? .distantPast, $0.id) < ($1.endedAt ?? .distantPast, $1.id) }
        for trial in ended {
            guard let index = runtime.indexByTrial[trial.id] else { continue }
            var metric: Double?
            if let name = runtime.metricName {
                metric = try store.metrics(trial: trial.id, name: name).last(where: { $0.value.isFinite })?.value
            }
            runtime.searcher.observe(index: index, metric: metric, outcome: Self.outcome(trial.state))
        }

        var replay: [(time: Date, trial: Int64, order: Int, event: Replay)] = []
        var after: Int64 = 0
        while true {
            let page = try store.events(sweep: sweep.id, after: after, limit: 1000)
            guard let last = page.last else { break }
            after = last.id
            for event in page where event.kind == "trial.assigned" {
                guard let trial = event.trialId, let index = runtime.indexByTrial[trial] else { continue }
                replay.append((event.time, trial, Int(truncatingIfNeeded: event.id), .started(index: index)))
            }
        }
        if let name = runtime.metricName {
            for trial in trials {
                guard let index = runtime.indexByTrial[trial.id] else { continue }
                for (position, record) in try store.metrics(trial: trial.id, name: name).enumerated() {
                    replay.append((record.time, trial.id, position, .value(index: index, step: record.step, value: record.value)))
                    runtime.lastStep[trial.id] = record.step
                }
            }
        }
        for trial in ended {
            guard let index = runtime.indexByTrial[trial.id], let time = trial.endedAt else { continue }
            replay.append((time, trial.id, 0, .ended(index: index, stopped: trial.state == .stopped)))
        }
        replay.sort { ($0.time, $0.event.rank, $0.trial, $0.order) < ($1.time, $1.event.rank, $1.trial, $1.order) }
        var lost: [StopDecision] = []
        for entry in replay {
            switch entry.event {
            case .started(let index): runtime.policy.trialStarted(index)
            case let .value(index, step, value):
                // Decisions naming ended trials were stored when first taken. One naming a trial
                // that has not ended was lost: the report was stored, then the process died
                // before the stop was. Store it now.
                for decision in runtime.policy.report(trial: index, step: step, value: value) {
                    if let id = runtime.trialByIndex[decision.trial], let trial = trials.first(where: { $0.id == id }),
                       !trial.state.isTerminal {
                        lost.append(decision)
                    }
                }
            case let .ended(index, stopped): runtime.policy.trialEnded(index, stopped: stopped)
            }
        }
        for decision in lost {
            guard let id = runtime.trialByIndex[decision.trial] else { continue }
            let current = try store.trial(id)
            let explanation = SweepRuntime.storeExplanation(decision.explanation, step: runtime.lastStep[id])
            if current.state.isLeased {
                try store.stop(trial: id, explanation: explanation, now: now)
            } else if current.state == .pending {
                try store.cancel(trial: id, reason: explanation.message, now: now)
            } else {
                continue
            }
            runtime.policy.trialEnded(decision.trial, stopped: true)
            var metric: Double?
            if let name = runtime.metricName {
                metric = try store.metrics(trial: id, name: name).last(where: { $0.value.isFinite })?.value
            }
            runtime.searcher.observe(index: decision.trial, metric: metric, outcome: .stopped)
        }
        return runtime
    }

    static func outcome(_ state: TrialState) -> TrialOutcome {
        switch state {
        case .completed: .completed
        case .stopped: .stopped
        default: .failed
        }
    }
}
