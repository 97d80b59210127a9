import Foundation
import ThresherStore
import ThresherSweep

/// A one-sweep status document (`StatusDocument.sweep`) read back as the live view's inputs, so
/// `thresher status --watch --coordinator` draws the same table as a local status or `thresher run`.
///
/// Guarantees: fields a document lacks (one from an older coordinator) leave the matching column
/// empty; a document that is not a one-sweep status gives nil, never a partial view.
public enum StatusBoard {
    public static func decode(_ document: [String: Any]) -> (progress: SweepProgress, rows: [TrialBoardRow])? {
        guard let id = int64(document["id"]), let name = document["name"] as? String,
              let state = (document["state"] as? String).flatMap(SweepState.init(rawValue:)),
              let trials = document["trials"] as? [[String: Any]] else { return nil }
        var counts: [TrialState: Int] = [:]
        for (key, value) in document["counts"] as? [String: Any] ?? [:] {
            if let state = TrialState(rawValue: key), let n = int64(value) { counts[state] = Int(n) }
        }
        let goal: ThresherStore.MetricGoal = document["goal"] as? String == "maximize" ? .maximize : .minimize
        var best: (trial: Int64, step: Int64, value: Double)?
        if let b = document["best"] as? [String: Any], let trial = int64(b["trial"]), let step = int64(b["step"]),
           let value = double(b["value"]) {
            best = (trial, step, value)
        }
        var progress = SweepProgress(
            sweepID: id, name: name, state: state, counts: counts, totalTrials: int64(document["total_trials"]).map(Int.init),
            metric: document["metric"] as? String ?? "", goal: goal, best: best,
            storedCheckpoints: int64(document["stored_checkpoints"]).map(Int.init) ?? 0,
            storedBytes: int64(document["stored_bytes"]) ?? 0, maxBytes: int64(document["max_bytes"]))
        progress.maxIterations = int64(document["max_iterations"]).map(Int.init)
        let rows = trials.compactMap(row)
        guard rows.count == trials.count else { return nil }
        return (progress, rows)
    }

    private static func row(_ t: [String: Any]) -> TrialBoardRow? {
        guard let id = int64(t["trial"]), let state = (t["state"] as? String).flatMap(TrialState.init(rawValue:)) else { return nil }
        let note: String? = switch state {
        case .stopped: (t["stop_explanation"] as? [String: Any])?["message"] as? String
        case .failed, .cancelled: t["last_error"] as? String
        default: nil
        }
        var stage: TrialStage?
        if let s = t["stage"] as? [String: Any], let reached = int64(s["reached"]), let rungs = s["rungs"] as? [Any] {
            stage = TrialStage(bracket: int64(s["bracket"]).map(Int.init), reached: Int(reached), rungs: rungs.compactMap(int64).map(Int.init))
        }
        return TrialBoardRow(
            trialID: id, index: int64(t["index"]).map(Int.init) ?? 0, state: state,
            params: t["params_text"] as? String ?? "", step: int64(t["step"]), latest: double(t["latest"]),
            best: double(t["best"]), latestStep: int64(t["last_step"]),
            startedAt: double(t["started_at"]).map(Date.init(timeIntervalSince1970:)),
            endedAt: double(t["ended_at"]).map(Date.init(timeIntervalSince1970:)), note: note,
            iterations: int64(t["reports"]).map(Int.init) ?? 0, stage: stage)
    }

    private static func int64(_ value: Any?) -> Int64? {
        guard let number = value as? NSNumber, let exact = Int64(exactly: number.doubleValue) else { return nil }
        return exact
    }

    private static func double(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }
}
