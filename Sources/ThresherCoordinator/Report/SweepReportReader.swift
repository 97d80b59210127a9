import Foundation
import ThresherReport
import ThresherStore
import ThresherSweep
import ThresherWire

/// Reads one sweep from a store into a `SweepReport`. Only reads, so a store opened with
/// `SweepStore(readingAt:)` beside a running coordinator is enough; the report is one consistent
/// read per table, not one snapshot (a trial may gain a value between two reads).
///
/// Sources: trials, their metric values (ordered across trials by the time the coordinator stored
/// each report), stop explanations and checkpoints from their tables; storage over time from the
/// event log's `checkpoint.stored` and `checkpoint.evicted` entries (the checkpoints table keeps
/// only each checkpoint's latest change, so it cannot give the history).
public enum SweepReportReader {
    public static func read(store: SweepStore, sweep id: Int64, now: Date) throws -> SweepReport {
        let sweep = try store.sweep(id)
        let spec = try StoredSweepSpec.parse(sweep)
        let metric = spec.metric?.name ?? ""
        let goal: ReportGoal = spec.metric?.goal == .maximize ? .maximize : .minimize
        let schedule = TrialStage.Schedule(spec.earlyTerminate)

        // The store keeps parameters with sorted keys; the report shows them in the file's order.
        let fileOrder = parameterNames(spec.parameters, prefix: "")
        func rank(_ name: String) -> Int { fileOrder.firstIndex(of: name) ?? fileOrder.count }
        var trials: [ReportTrial] = []
        var checkpointBytes: [Int64: Int64] = [:]
        for trial in try store.trials(sweep: id) {
            let times = try store.reportReceiveTimes(trial: trial.id)
            let curve = metric.isEmpty ? [] : try store.metrics(trial: trial.id, name: metric).map {
                CurvePoint(step: $0.step, value: $0.value, storedAt: times[$0.seq] ?? $0.time)
            }
            let checkpoints = try store.checkpoints(trial: trial.id)
            for c in checkpoints { checkpointBytes[c.id] = c.bytes }
            let bracket = schedule.flatMap { $0.hasBrackets ? $0.stage(trialIndex: trial.indexInSweep, iterations: 0).bracket : nil }
            trials.append(ReportTrial(
                id: trial.id, index: trial.indexInSweep, state: trial.state.rawValue,
                params: flatten(TrialText.params(trial.params)).enumerated()
                    .sorted { (rank($0.element.name), $0.offset) < (rank($1.element.name), $1.offset) }.map(\.element), curve: curve, bracket: bracket,
                stop: trial.decodedStopExplanation.map { stop($0, spec.earlyTerminate) }, lastError: trial.lastError,
                storedCheckpoints: checkpoints.filter { $0.state == .stored }.map {
                    ReportCheckpoint(step: $0.step, bytes: $0.bytes, digest: $0.digest ?? "", metric: $0.metric)
                }, endedAt: trial.endedAt))
        }

        let counts = try store.trialCounts(sweep: id)
        let order: [TrialState] = [.completed, .stopped, .failed, .cancelled, .running, .assigned, .pending]
        return SweepReport(
            sweepID: id, name: sweep.name, method: spec.method.rawValue, state: sweep.state.rawValue, metric: metric, goal: goal,
            createdAt: sweep.createdAt, generatedAt: now,
            counts: order.compactMap { s in counts[s].map { StateCount(state: s.rawValue, count: $0) } },
            logScaledParameters: logScaled(spec.parameters, prefix: ""), trials: trials,
            schedule: reportSchedule(spec.earlyTerminate, schedule),
            storage: ReportStorage(maxBytes: spec.thresher.retention.maxBytes,
                                   changes: try storageChanges(store: store, sweep: id, bytes: checkpointBytes)))
    }

    /// Checkpoints stored and evicted, from the event log in log order.
    static func storageChanges(store: SweepStore, sweep: Int64, bytes: [Int64: Int64]) throws -> [StorageChange] {
        var changes: [StorageChange] = []
        var after: Int64 = 0
        while true {
            let page = try store.events(sweep: sweep, after: after, limit: 5000)
            guard let last = page.last else { break }
            after = last.id
            for event in page {
                let kind: StorageChange.Kind
                switch event.kind {
                case "checkpoint.stored": kind = .stored
                case "checkpoint.evicted": kind = .evicted
                default: continue
                }
                guard let detail = try? JSONSerialization.jsonObject(with: Data(event.detail.utf8)) as? [String: Any],
                      let checkpoint = (detail["checkpoint"] as? NSNumber)?.int64Value, let size = bytes[checkpoint] else { continue }
                changes.append(StorageChange(time: event.time, checkpoint: checkpoint, bytes: size, kind: kind))
            }
        }
        return changes
    }

    static func reportSchedule(_ spec: EarlyTerminateSpec?, _ schedule: TrialStage.Schedule?) -> ReportSchedule? {
        switch spec {
        case .hyperband?: ReportSchedule(policy: "hyperband", brackets: schedule?.brackets ?? [])
        case .asha?: ReportSchedule(policy: "asha", brackets: schedule?.brackets ?? [])
        case .median?: ReportSchedule(policy: "median", brackets: [])
        case nil: nil
        }
    }

    /// The stored explanation, with the rung as an iteration count: hyperband stores its band (an
    /// iteration already), ASHA its rung index k, looked up in the policy's own rung list.
    static func stop(_ stored: ThresherStore.StopExplanation, _ spec: EarlyTerminateSpec?) -> ReportStop {
        var iteration: Int?
        switch (stored.rule, spec) {
        case ("hyperband", .hyperband?): iteration = stored.band
        case ("asha", .asha(let asha)?):
            iteration = stored.rung.flatMap { k in ASHAStopping.rungs(for: asha).flatMap { $0 }.first { $0.index == k }?.iteration }
        default: iteration = nil
        }
        return ReportStop(rule: stored.rule, rungIteration: iteration, threshold: stored.threshold, value: stored.value, message: stored.message)
    }

    /// Parameters as name/value pairs, nested maps as `outer.inner`.
    static func flatten(_ map: ParamMap?, prefix: String = "") -> [(name: String, value: ReportValue)] {
        guard let map else { return [] }
        var out: [(name: String, value: ReportValue)] = []
        for (key, value) in map.entries {
            let name = prefix + key
            switch value {
            case .int(let i): out.append((name, .number(Double(i))))
            case .double(let d): out.append((name, .number(d)))
            case .bool(let b): out.append((name, .text(b ? "true" : "false")))
            case .string(let s): out.append((name, .text(s)))
            case .null: out.append((name, .text("null")))
            case .list: out.append((name, .text(PythonFormat.json(value))))
            case .map(let inner): out += flatten(inner, prefix: name + ".")
            }
        }
        return out
    }

    /// Every parameter name (nested as `outer.inner`) in the sweep file's order.
    static func parameterNames(_ parameters: [ParameterSpec], prefix: String) -> [String] {
        parameters.flatMap { p -> [String] in
            if case .nested(let inner) = p.kind { return parameterNames(inner, prefix: prefix + p.name + ".") }
            return [prefix + p.name]
        }
    }

    /// Names (nested as `outer.inner`) whose distribution samples on a log scale.
    static func logScaled(_ parameters: [ParameterSpec], prefix: String) -> Set<String> {
        var names: Set<String> = []
        for p in parameters {
            switch p.kind {
            case .distribution(let d):
                switch d {
                case .logUniform, .logUniformValues, .qLogUniform, .qLogUniformValues, .invLogUniform, .invLogUniformValues,
                     .logNormal, .qLogNormal: names.insert(prefix + p.name)
                default: break
                }
            case .nested(let inner): names.formUnion(logScaled(inner, prefix: prefix + p.name + "."))
            case .constant, .categorical: break
            }
        }
        return names
    }
}
