import Foundation
import ThresherCoordinator
import ThresherStore

/// What `thresher run` and `thresher status --watch` show while a sweep runs, on standard output:
/// - `.table` (a terminal): the `LiveTable`, redrawn in place;
/// - `.lines` (a pipe or file): one line per trial that starts or ends, and the summary line
///   whenever it changes — a log gets one line per event, not one per poll;
/// - `.json`: the same events as JSON objects, one per line (`docs/operations.md`, "Watching").
///
/// The redraw moves the cursor back to the frame's first line and overwrites each line, clearing
/// only what is left of it, in one write inside a synchronized update (terminals that know it
/// show the frame at once; the others ignore it) with the cursor hidden — no screen clear, so
/// nothing flickers. `finish` shows the cursor again.
final class ProgressDisplay {
    enum Mode: Equatable { case table, lines, json }

    let mode: Mode
    private var lastSummary = ""
    private var drawnLines = 0
    private var lastSize: (columns: Int, rows: Int)?
    private var knownStates: [Int64: TrialState] = [:]

    init(json: Bool, terminal: Bool = isatty(STDOUT_FILENO) == 1) {
        mode = json ? .json : terminal ? .table : .lines
    }

    static func counts(_ p: SweepProgress) -> String { counts(p.counts, total: p.totalTrials) }

    /// "12/81 trials ended, 2 running, 10 stopped early": the per-state counts in words.
    static func counts(_ c: [TrialState: Int], total: Int?) -> String {
        let ended = [TrialState.completed, .stopped, .failed, .cancelled].reduce(0) { $0 + (c[$1] ?? 0) }
        var parts = ["\(ended)/\(total.map(String.init) ?? "?") trials ended"]
        for (state, label) in [(TrialState.running, "running"), (.assigned, "starting"), (.completed, "completed"),
                               (.stopped, "stopped early"), (.failed, "failed"), (.cancelled, "cancelled")] where (c[state] ?? 0) > 0 {
            parts.append("\(c[state] ?? 0) \(label)")
        }
        return parts.joined(separator: ", ")
    }

    /// `2 checkpoints kept, 1.2 MiB of 50.0 MiB`.
    static func storage(_ p: SweepProgress) -> String {
        let budget = p.maxBytes.map { " of \(ByteFormatter.text($0))" } ?? ""
        return "\(p.storedCheckpoints) checkpoint\(p.storedCheckpoints == 1 ? "" : "s") kept, \(ByteFormatter.text(p.storedBytes))\(budget)"
    }

    static func summary(_ p: SweepProgress) -> String {
        var line = counts(p)
        if let best = p.best { line += "; best \(p.metric) \(LiveTable.number(best.value)) (trial \(best.trial))" }
        return line + "; " + storage(p)
    }

    /// Shows the sweep's state as `rows` (every trial, `TrialBoard` order) and `p` have it.
    func show(_ p: SweepProgress, rows: [TrialBoardRow], now: Date = Date()) {
        let text = update(p, rows: rows, now: now)
        if !text.isEmpty { write(text) }
    }

    /// What `show` writes: the next frame, or the events since the last update (empty if none).
    func update(_ p: SweepProgress, rows: [TrialBoardRow], now: Date, size: (columns: Int, rows: Int)? = nil) -> String {
        if mode == .table {
            let size = size ?? Self.terminalSize()
            // After a resize the terminal has re-wrapped the last frame: moving up over it would
            // leave pieces behind, so that one redraw starts from a cleared screen.
            let resized = lastSize.map { $0 != size } ?? false
            lastSize = size
            if resized { drawnLines = 0 }
            let lines = LiveTable(width: size.columns, height: min(size.rows, 60)).lines(p, rows: rows, now: now)
            return (resized ? "\u{1B}[H\u{1B}[2J" : "") + frame(lines)
        }
        var out: [String] = []
        for row in rows where knownStates[row.trialID] != row.state {
            let before = knownStates[row.trialID]
            knownStates[row.trialID] = row.state
            // A new trial waiting, or one being handed out, is not news; its start and end are.
            if row.state == .assigned || (row.state == .pending && before == nil) { continue }
            out.append(mode == .json ? Self.json(trialEvent(row, previous: before, now: now)) : trialLine(row, now: now))
        }
        let summary = Self.summary(p)
        if summary != lastSummary {
            lastSummary = summary
            out.append(mode == .json ? Self.json(progressEvent(p, rows: rows, now: now)) : summary)
        }
        return out.isEmpty ? "" : out.joined(separator: "\n") + "\n"
    }

    /// The last view (when given); on a terminal, the cursor comes back.
    func finish(_ p: SweepProgress?, rows: [TrialBoardRow] = []) {
        if let p { show(p, rows: rows) }
        if mode == .table { write("\u{1B}[?25h") }
    }

    /// The frame that overwrites the previous one in place.
    func frame(_ lines: [String]) -> String {
        var frame = "\u{1B}[?2026h\u{1B}[?25l"
        if drawnLines > 0 { frame += "\u{1B}[\(drawnLines)A" }
        for text in lines { frame += "\r" + text + "\u{1B}[K\n" }
        frame += "\u{1B}[J\u{1B}[?2026l"  // a shorter frame than last time: clear what is left below it
        drawnLines = lines.count
        return frame
    }

    private func trialLine(_ row: TrialBoardRow, now: Date) -> String {
        let time = row.startedAt.map { " after " + LiveTable.duration((row.endedAt ?? now).timeIntervalSince($0)) } ?? ""
        let best = row.best.map { ", best \(LiveTable.number($0)) at step \(row.step.map(String.init) ?? "?")" } ?? ""
        switch row.state {
        case .running: return "trial \(row.trialID) running: \(row.params)"
        case .pending: return "trial \(row.trialID) back in the queue\(row.note.map { ": \($0)" } ?? "")"
        case .completed: return "trial \(row.trialID) completed\(time)\(best)"
        case .stopped: return "trial \(row.trialID) stopped\(time)\(best)\(row.note.map { " — \($0)" } ?? "")"
        default: return "trial \(row.trialID) \(row.state.rawValue)\(time)\(row.note.map { ": \($0)" } ?? "")"
        }
    }

    private func trialEvent(_ row: TrialBoardRow, previous: TrialState?, now: Date) -> [String: Any] {
        var event: [String: Any] = ["event": "trial", "trial": row.trialID, "index": row.index, "state": row.state.rawValue,
                                    "params": row.params, "iterations": row.iterations]
        if let previous { event["previous_state"] = previous.rawValue }
        if let step = row.step { event["step"] = step }
        if let latest = row.latest { event["latest"] = latest }
        if let best = row.best { event["best"] = best }
        if let stage = row.stage {
            if let bracket = stage.bracket { event["bracket"] = bracket }
            event["rungs_reached"] = stage.reached
            event["rungs"] = stage.rungs
        }
        if let started = row.startedAt { event["elapsed_seconds"] = (row.endedAt ?? now).timeIntervalSince(started) }
        if let note = row.note { event["note"] = note }
        return event
    }

    private func progressEvent(_ p: SweepProgress, rows: [TrialBoardRow], now: Date) -> [String: Any] {
        let forecast = SweepForecast(progress: p, rows: rows, now: now)
        var event: [String: Any] = ["event": "progress", "sweep": p.sweepID, "name": p.name, "state": p.state.rawValue,
                                    "counts": Dictionary(uniqueKeysWithValues: p.counts.map { ($0.key.rawValue, $0.value) }),
                                    "metric": p.metric, "stored_checkpoints": p.storedCheckpoints, "stored_bytes": p.storedBytes]
        if let total = p.totalTrials { event["total_trials"] = total }
        if let best = p.best { event["best"] = ["trial": best.trial, "step": best.step, "value": best.value] }
        if let maxBytes = p.maxBytes { event["max_bytes"] = maxBytes }
        if let elapsed = forecast.elapsed { event["elapsed_seconds"] = elapsed }
        if let eta = forecast.sweepRemaining { event["eta_seconds"] = eta }
        return event
    }

    static func json(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }

    func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// The terminal's size from stdout, or 80×24 when it cannot be read.
    static func terminalSize() -> (columns: Int, rows: Int) {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else { return (80, 24) }
        return (Int(size.ws_col), Int(size.ws_row))
    }
}

enum ByteFormatter {
    static func text(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}
