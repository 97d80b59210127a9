import Foundation
import ThresherStore
import ThresherSweep
import ThresherWire

/// One trial as the live table shows it: what it runs, where it is, how good it is so far.
public struct TrialBoardRow: Sendable, Equatable {
    public var trialID: Int64
    public var index: Int
    public var state: TrialState
    /// `name=value` pairs in the sweep file's order (Python's `str()` of each value; parameters the
    /// file does not name, e.g. from an older file text, last).
    public var params: String
    /// The highest step the trial reported anything at (nil before its first report).
    public var step: Int64?
    /// The sweep metric's latest finite value and its best so far (by the sweep's goal).
    public var latest: Double?
    public var best: Double?
    /// The step of `latest`.
    public var latestStep: Int64? = nil
    public var startedAt: Date?
    public var endedAt: Date?
    /// Why it ended early: the stop decision's sentence, or the last error of a failed trial.
    public var note: String?
    /// Finite values of the sweep metric reported: the iteration count every stopping policy uses.
    public var iterations: Int = 0
    /// Its bracket and rungs reached (nil without hyperband/ASHA).
    public var stage: TrialStage? = nil
}

/// Every trial of one sweep as `TrialBoardRow`s, read from the store (a read-only store works), in
/// trial-id order.
///
/// Guarantees: a pure read — it never writes or locks the store beyond SQLite's own read
/// transaction per query; rows reflect committed state only, so what it shows is what a restarted
/// coordinator would see.
public enum TrialBoard {
    public static func read(from store: SweepStore, sweep id: Int64, metric: String, goal: ThresherStore.MetricGoal,
                            schedule: TrialStage.Schedule? = nil, order: [String] = []) throws -> [TrialBoardRow] {
        try store.trials(sweep: id).map { try row(trial: $0, store: store, metric: metric, goal: goal, schedule: schedule, order: order) }
    }

    /// One trial's row: one read of its metric history.
    public static func row(trial: Trial, store: SweepStore, metric: String, goal: ThresherStore.MetricGoal,
                           schedule: TrialStage.Schedule?, order: [String] = []) throws -> TrialBoardRow {
        var tally = MetricTally()
        tally.add(try store.metrics(trial: trial.id), metric: metric, goal: goal)
        return row(trial: trial, tally: tally, schedule: schedule, order: order)
    }

    /// A trial's row from its record and the tally of its values.
    /// `order`: the sweep file's top-level parameter names (the searchers hand out sorted maps).
    static func row(trial: Trial, tally: MetricTally, schedule: TrialStage.Schedule?, order: [String]) -> TrialBoardRow {
        let note: String? = switch trial.state {
        case .stopped: trial.stopExplanation.map(TrialText.stopMessage)
        case .failed, .cancelled: trial.lastError
        default: nil
        }
        let stored = StoredTrialParams.decode(trial.params)
        let index = stored?.index ?? trial.indexInSweep
        return TrialBoardRow(
            trialID: trial.id, index: index, state: trial.state,
            params: stored?.paramMap.map { paramText($0, order: order) } ?? trial.params, step: tally.step, latest: tally.latest,
            best: tally.best, latestStep: tally.latestStep, startedAt: trial.startedAt, endedAt: trial.endedAt, note: note,
            iterations: tally.iterations, stage: schedule?.stage(trialIndex: index, iterations: tally.iterations,
                                                                  stoppedAt: stoppedAt(trial, schedule)))
    }

    /// The iteration of the rung a stopped trial was stopped at (its values after the decision
    /// reached the worker do not take it further); nil for any other trial.
    static func stoppedAt(_ trial: Trial, _ schedule: TrialStage.Schedule?) -> Int? {
        guard trial.state == .stopped, let schedule, let why = trial.decodedStopExplanation else { return nil }
        return schedule.iteration(ofStopAtBand: why.band, rung: why.rung)
    }

    /// `hidden_sizes=64 dropout=0.1 lr=0.001`: compact enough for a table cell.
    static func paramText(_ params: ParamMap, order: [String] = []) -> String {
        let rank = Dictionary(order.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
        return params.entries.enumerated()
            .sorted { (rank[$0.element.key] ?? order.count, $0.offset) < (rank[$1.element.key] ?? order.count, $1.offset) }
            .map { "\($0.element.key)=\(PythonFormat.str($0.element.value))" }.joined(separator: " ")
    }
}

/// A trial's metric values folded in report order: what its board row and the sweep's best need.
/// Folding the values in two parts gives what folding them at once gives, so a reader can add
/// only the reports stored since its last look.
struct MetricTally: Equatable {
    /// The highest step of any value (any metric).
    var step: Int64?
    /// The sweep metric's finite values: how many, the last, and the best (the first of equals).
    var iterations = 0
    var latest: Double?
    var latestStep: Int64?
    var best: Double?
    var bestStep: Int64?

    mutating func add(_ records: [ThresherStore.MetricRecord], metric: String, goal: ThresherStore.MetricGoal) {
        for record in records {
            step = max(step ?? record.step, record.step)
            guard record.name == metric, record.value.isFinite else { continue }
            latest = record.value
            latestStep = record.step
            iterations += 1
            if let current = best, !(goal == .maximize ? record.value > current : record.value < current) { continue }
            best = record.value
            bestStep = record.step
        }
    }
}
