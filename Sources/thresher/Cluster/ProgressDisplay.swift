import Foundation
import ThresherCoordinator
import ThresherStore

/// One progress line for `thresher run`: redrawn in place on a terminal, printed only when it
/// changes otherwise (so a log file gets one line per change, not one per poll).
final class ProgressDisplay {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastLine = ""

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

    func show(_ p: SweepProgress) {
        let text = line(p)
        guard text != lastLine else { return }
        lastLine = text
        if isTerminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + text).utf8))
        } else {
            StandardError.write([text])
        }
    }

    func finish(_ p: SweepProgress) {
        show(p)
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
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
