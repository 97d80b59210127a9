import Foundation
import ThresherCoordinator
import ThresherStore

/// What `thresher run` shows while a sweep runs. On a terminal: the `LiveTable` (summary, progress
/// bar, trials), redrawn in place; otherwise one summary line, printed only when it changes (so a
/// log file gets one line per change, not one per poll).
///
/// The redraw moves the cursor back to the table's first line and overwrites each line, clearing
/// only what is left of it, in one write — no screen clear, so nothing flickers.
final class ProgressDisplay {
    let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastLine = ""
    private var drawnLines = 0
    private let startedAt = Date()

    static func counts(_ p: SweepProgress) -> String {
        let c = p.counts
        let ended = [TrialState.completed, .stopped, .failed, .cancelled].reduce(0) { $0 + (c[$1] ?? 0) }
        let total = p.totalTrials.map(String.init) ?? "?"
        var parts = ["\(ended)/\(total) trials ended"]
        for (state, label) in [(TrialState.running, "running"), (.assigned, "starting"), (.completed, "completed"),
                               (.stopped, "stopped early"), (.failed, "failed")] where (c[state] ?? 0) > 0 {
            parts.append("\(c[state] ?? 0) \(label)")
        }
        return parts.joined(separator: ", ")
    }

    func line(_ p: SweepProgress) -> String {
        var line = Self.counts(p)
        if let best = p.best { line += "; best \(p.metric) \(String(format: "%.4g", best.value)) (trial \(best.trial))" }
        let budget = p.maxBytes.map { " of \(ByteFormatter.text($0))" } ?? ""
        line += "; \(p.storedCheckpoints) checkpoint\(p.storedCheckpoints == 1 ? "" : "s") kept, \(ByteFormatter.text(p.storedBytes))\(budget)"
        return line
    }

    /// Shows the sweep's state; `rows` (read only when `isTerminal`) fill the table.
    func show(_ p: SweepProgress, rows: [TrialBoardRow] = []) {
        guard isTerminal else {
            let text = line(p)
            guard text != lastLine else { return }
            lastLine = text
            StandardError.write([text])
            return
        }
        let size = Self.terminalSize()
        var lines = LiveTable(width: size.columns, height: min(size.rows, 40)).lines(p, rows: rows, startedAt: startedAt, now: Date())
        lines.append(line(p))
        var frame = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
        for text in lines { frame += "\r" + text + "\u{1B}[K\n" }
        frame += "\u{1B}[J"  // a shorter table than last time: clear what is left below it
        drawnLines = lines.count
        FileHandle.standardError.write(Data(frame.utf8))
    }

    func finish(_ p: SweepProgress, rows: [TrialBoardRow] = []) {
        show(p, rows: rows)
    }

    /// The terminal's size from stderr, or 80×24 when it cannot be read.
    static func terminalSize() -> (columns: Int, rows: Int) {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else { return (80, 24) }
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
