import Foundation
import ThresherStore
import ThresherSweep

/// The status view of a store as one JSON document: what `thresher status --json` prints, read
/// from a local state folder or sent by a coordinator in `StatusReply` (schema in docs/protocol.md).
///
/// Guarantees: built from one store (read-only is enough), so a local and a remote status of the
/// same state print the same document; keys are sorted and slashes unescaped, so equal states
/// give equal text. Fields are only ever added, never renamed.
public enum StatusDocument {
    /// `{"sweeps": [...]}`: one entry per sweep, oldest first.
    public static func allSweeps(store: SweepStore) throws -> [String: Any] {
        var boards = LiveBoards()
        return try allSweeps(store: store, boards: &boards)
    }

    /// The list of all sweeps, reading through `boards` (kept between calls, each sweep's summary
    /// reads only the reports stored since the last one).
    public static func allSweeps(store: SweepStore, boards: inout LiveBoards) throws -> [String: Any] {
        var rows: [[String: Any]] = []
        for sweep in try store.sweeps() {
            let progress = try boards.board(for: sweep.id).look(at: store).progress
            rows.append(try summary(store: store, sweep: sweep, progress: progress))
        }
        return ["sweeps": rows]
    }

    /// One sweep's summary (the entry of `allSweeps`) plus `"trials"`: every trial with its state,
    /// parameters, values reported, best value, worker, stop explanation and last error. With a
    /// `board` kept between calls, only the reports stored since its last look are read.
    public static func sweep(store: SweepStore, _ sweep: Sweep, board: LiveBoard? = nil) throws -> [String: Any] {
        let snapshot = try (board ?? LiveBoard(sweep: sweep.id)).look(at: store)
        let p = snapshot.progress
        var document = try summary(store: store, sweep: sweep, progress: p)
        // `sweep` is the id (as `thresher status SWEEP --json` has always printed it).
        document["sweep"] = sweep.id
        var rows: [[String: Any]] = []
        for (trial, board) in zip(snapshot.trials, snapshot.rows) {
            var row: [String: Any] = ["trial": trial.id, "index": trial.indexInSweep, "state": trial.state.rawValue,
                                      "params": TrialText.paramsJSON(trial.params)
                                          .flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } ?? trial.params,
                                      "params_text": board.params, "reports": board.iterations, "attempts": trial.attempts]
            if let worker = trial.workerId { row["worker"] = worker }
            if let best = board.best { row["best"] = best }
            if let latest = board.latest { row["latest"] = latest }
            if let lastStep = board.latestStep { row["last_step"] = lastStep }
            if let step = board.step { row["step"] = step }
            if let started = trial.startedAt { row["started_at"] = started.timeIntervalSince1970 }
            if let ended = trial.endedAt { row["ended_at"] = ended.timeIntervalSince1970 }
            if let stage = board.stage {
                var entry: [String: Any] = ["reached": stage.reached, "rungs": stage.rungs]
                if let bracket = stage.bracket { entry["bracket"] = bracket }
                row["stage"] = entry
            }
            if let why = trial.stopExplanation {
                row["stop_explanation"] = (try? JSONSerialization.jsonObject(with: Data(why.utf8))) ?? why
            }
            if let error = trial.lastError { row["last_error"] = error }
            rows.append(row)
        }
        document["trials"] = rows
        return document
    }

    /// The document as text: sorted keys, slashes unescaped.
    public static func text(_ document: [String: Any]) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// A sweep by id, or by name (the newest sweep of that name).
    public static func resolve(_ reference: String, in store: SweepStore) throws -> Sweep? {
        let all = try store.sweeps()
        if let id = Int64(reference), let sweep = all.first(where: { $0.id == id }) { return sweep }
        return all.last(where: { $0.name == reference })
    }

    private static func summary(store: SweepStore, sweep: Sweep, progress p: SweepProgress) throws -> [String: Any] {
        var row: [String: Any] = ["id": sweep.id, "name": sweep.name, "state": sweep.state.rawValue,
                                  "counts": Dictionary(uniqueKeysWithValues: p.counts.map { ($0.key.rawValue, $0.value) }),
                                  "metric": p.metric, "goal": p.goal == .maximize ? "maximize" : "minimize",
                                  "priority": sweep.priority, "stored_checkpoints": p.storedCheckpoints,
                                  "stored_bytes": p.storedBytes, "finished": p.finished]
        // In the all-sweeps list `trials` is the per-state count (as it always was); a one-sweep
        // document replaces it with the trial rows and keeps the counts under `counts`.
        row["trials"] = row["counts"]
        if let total = p.totalTrials { row["total_trials"] = total }
        if let maxBytes = p.maxBytes { row["max_bytes"] = maxBytes }
        if let maxIterations = p.maxIterations { row["max_iterations"] = maxIterations }
        if let best = p.best { row["best"] = ["trial": best.trial, "step": best.step, "value": best.value] }
        return row
    }
}
