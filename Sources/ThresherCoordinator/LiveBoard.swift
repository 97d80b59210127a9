import Foundation
import ThresherStore
import ThresherSweep

/// One sweep's `SweepProgress` and `TrialBoardRow`s, kept up to date by reading only the reports
/// stored since the last look: what `thresher run` redraws twice a second.
///
/// Guarantees: every `refresh` returns what `SweepProgress.read` and `TrialBoard.read` would return
/// on the same committed state (tested side by side). A trial's reports are re-read whole whenever
/// its stored reports are not exactly the ones seen plus newer seqs (a report stored out of seq
/// order), so the shortcut never shows a different value. Not thread-safe: one reader at a time.
public final class LiveBoard {
    public let sweepID: Int64
    private var tallies: [Int64: Seen] = [:]
    private var parsed: (text: String, facts: SweepFacts)?

    private struct Seen {
        var count = 0
        var maxSeq: Int64 = -1
        var tally = MetricTally()
    }

    /// What the sweep file says that the view needs: parsed once per sweep text.
    private struct SweepFacts {
        var metric: String
        var goal: ThresherStore.MetricGoal
        var total: Int?
        var maxBytes: Int64?
        var schedule: TrialStage.Schedule?
        var maxIterations: Int?
        var parameterOrder: [String]
    }

    /// What one look at the store saw: the sweep's progress, and its trials' records and rows (in
    /// trial-id order, `rows[i]` from `trials[i]`).
    public struct Snapshot {
        public var progress: SweepProgress
        public var trials: [Trial]
        public var rows: [TrialBoardRow]
    }

    public init(sweep: Int64) { sweepID = sweep }

    public func refresh(from store: SweepStore) throws -> (progress: SweepProgress, rows: [TrialBoardRow]) {
        let snapshot = try look(at: store)
        return (snapshot.progress, snapshot.rows)
    }

    public func look(at store: SweepStore) throws -> Snapshot {
        let sweep = try store.sweep(sweepID)
        let facts = try self.facts(sweep)
        var rows: [TrialBoardRow] = []
        var best: (trial: Int64, step: Int64, value: Double)?
        var held: [Checkpoint] = []
        let trials = try store.trials(sweep: sweepID)
        for trial in trials {
            let tally = try self.tally(trial: trial.id, store: store, facts: facts)
            rows.append(TrialBoard.row(trial: trial, tally: tally, schedule: facts.schedule, order: facts.parameterOrder))
            if let value = tally.best, let step = tally.bestStep,
               best.map({ facts.goal == .maximize ? value > $0.value : value < $0.value }) ?? true {
                best = (trial.id, step, value)
            }
            held += try store.checkpoints(trial: trial.id).filter { $0.state == .stored }
        }
        let progress = SweepProgress(
            sweepID: sweepID, name: sweep.name, state: sweep.state, counts: try store.trialCounts(sweep: sweepID),
            totalTrials: facts.total, metric: facts.metric, goal: facts.goal, best: best,
            storedCheckpoints: held.count, storedBytes: held.reduce(0) { $0 + $1.bytes }, maxBytes: facts.maxBytes,
            schedule: facts.schedule, maxIterations: facts.maxIterations, parameterOrder: facts.parameterOrder)
        return Snapshot(progress: progress, trials: trials, rows: rows)
    }

    private func tally(trial: Int64, store: SweepStore, facts: SweepFacts) throws -> MetricTally {
        var seen = tallies[trial] ?? Seen()
        let now = try store.reportTally(trial: trial)
        if now.count != seen.count || now.maxSeq != seen.maxSeq {
            let newer = try store.metrics(trial: trial, afterSeq: seen.maxSeq)
            let newReports = Set(newer.map(\.seq)).count
            if seen.count + newReports == now.count {
                seen.tally.add(newer, metric: facts.metric, goal: facts.goal)
            } else {
                // Something was stored below the seq already seen: start this trial over.
                seen.tally = MetricTally()
                seen.tally.add(try store.metrics(trial: trial), metric: facts.metric, goal: facts.goal)
            }
            seen.count = now.count
            seen.maxSeq = now.maxSeq
            tallies[trial] = seen
        }
        return seen.tally
    }

    private func facts(_ sweep: Sweep) throws -> SweepFacts {
        if let parsed, parsed.text == sweep.spec { return parsed.facts }
        let spec = try StoredSweepSpec.parse(sweep)
        let facts = SweepFacts(
            metric: spec.metric?.name ?? "", goal: spec.metric?.goal == .maximize ? .maximize : .minimize,
            total: (try? SearcherFactory.make(for: spec).totalCount) ?? nil, maxBytes: spec.thresher.retention.maxBytes,
            schedule: TrialStage.Schedule(spec.earlyTerminate), maxIterations: SweepProgress.maxIterations(spec.earlyTerminate),
            parameterOrder: spec.parameters.map(\.name))
        parsed = (sweep.spec, facts)
        tallies = [:]
        return facts
    }
}

/// One `LiveBoard` per sweep, kept between looks: a repeated status (of one sweep or of the list of
/// all sweeps) reads only the reports stored since the previous one.
///
/// Guarantees: `board(for:)` returns the same board for the same sweep every time. Not
/// thread-safe, like `LiveBoard`: the coordinator keeps one on its actor, a watching CLI one per loop.
public struct LiveBoards {
    private var boards: [Int64: LiveBoard] = [:]

    public init() {}

    public mutating func board(for sweep: Int64) -> LiveBoard {
        if let board = boards[sweep] { return board }
        let board = LiveBoard(sweep: sweep)
        boards[sweep] = board
        return board
    }
}
