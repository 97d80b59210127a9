import Foundation
import ThresherStore
import ThresherSweep
import ThresherWire

/// One trial as the live table shows it: what it runs, where it is, how good it is so far.
public struct TrialBoardRow: Sendable, Equatable {
    public var trialID: Int64
    public var index: Int
    public var state: TrialState
    /// `name=value` pairs in the sweep file's order (Python's `str()` of each value).
    public var params: String
    /// The highest step the trial reported anything at (nil before its first report).
    public var step: Int64?
    /// The sweep metric's latest finite value and its best so far (by the sweep's goal).
    public var latest: Double?
    public var best: Double?
    public var startedAt: Date?
    public var endedAt: Date?
    /// Why it ended early: the stop decision's sentence, or the last error of a failed trial.
    public var note: String?
}

/// Every trial of one sweep as `TrialBoardRow`s, read from the store (a read-only store works), in
/// trial-id order.
///
/// Guarantees: a pure read — it never writes or locks the store beyond SQLite's own read
/// transaction per query; rows reflect committed state only, so what it shows is what a restarted
/// coordinator would see.
public enum TrialBoard {
    public static func read(from store: SweepStore, sweep id: Int64, metric: String, goal: ThresherStore.MetricGoal) throws -> [TrialBoardRow] {
        try store.trials(sweep: id).map { trial in
            var latest: Double?, best: Double?, step: Int64?
            for record in try store.metrics(trial: trial.id) {
                step = max(step ?? record.step, record.step)
                guard record.name == metric, record.value.isFinite else { continue }
                latest = record.value
                if let current = best {
                    best = goal == .maximize ? max(current, record.value) : min(current, record.value)
                } else {
                    best = record.value
                }
            }
            let note: String? = switch trial.state {
            case .stopped: trial.stopExplanation.map(TrialText.stopMessage)
            case .failed, .cancelled: trial.lastError
            default: nil
            }
            let stored = StoredTrialParams.decode(trial.params)
            return TrialBoardRow(
                trialID: trial.id, index: stored?.index ?? trial.indexInSweep, state: trial.state,
                params: stored?.paramMap.map(paramText) ?? trial.params, step: step, latest: latest, best: best,
                startedAt: trial.startedAt, endedAt: trial.endedAt, note: note)
        }
    }

    /// `hidden_sizes=64 dropout=0.1 lr=0.001`: compact enough for a table cell.
    static func paramText(_ params: ParamMap) -> String {
        params.entries.map { "\($0.key)=\(PythonFormat.str($0.value))" }.joined(separator: " ")
    }
}
