import Foundation
import ThresherCoordinator
import ThresherStore

/// The live view of one sweep as lines of text: a summary, a progress bar with elapsed time and
/// ETA, a table of trials — the running ones first, then the best ended ones, as many as fit — and
/// the checkpoint storage line.
///
/// Pure: the same progress, rows, clock and screen size give the same lines; each is at most
/// `width` columns and there are fewer lines than `height` (a wrapped line, or a frame taller
/// than the screen, would break the in-place redraw).
struct LiveTable {
    var width: Int
    var height: Int

    /// Columns before the last one (params, or why the trial ended), right-aligned.
    private static let headers = ["trial", "state", "step", "", "best", "rung", "time", "eta"]

    func lines(_ p: SweepProgress, rows: [TrialBoardRow], now: Date) -> [String] {
        let forecast = SweepForecast(progress: p, rows: rows, now: now)
        var out: [String] = []
        var summary = "sweep \(p.name): \(ProgressDisplay.counts(p))"
        if let best = p.best { summary += "; best \(p.metric) \(Self.number(best.value)) (trial \(best.trial))" }
        out.append(summary)
        out.append(bar(p, forecast: forecast))
        let metric = p.metric.isEmpty ? "metric" : p.metric
        let metricWidth = max(8, min(metric.count, 24))
        var header = Self.headers
        header[3] = String(metric.prefix(metricWidth))
        out.append(row(header + ["params / why it ended"], metricWidth: metricWidth))
        let shown = chosen(rows, goal: p.goal)
        for trial in shown.rows {
            let time = trial.startedAt.map { Self.duration((trial.endedAt ?? now).timeIntervalSince($0)) } ?? ""
            let eta = forecast.trialRemaining[trial.trialID].map(Self.duration) ?? ""
            let last = trial.note.map { "\(trial.params) — \($0)" } ?? trial.params
            out.append(row([String(trial.trialID), Self.label(trial.state), trial.step.map(String.init) ?? "",
                            trial.latest.map(Self.number) ?? "", trial.best.map(Self.number) ?? "",
                            trial.stage?.text ?? "", time, eta, last],
                           metricWidth: metricWidth))
        }
        if shown.hidden > 0 { out.append("… \(shown.hidden) more trial\(shown.hidden == 1 ? "" : "s") (thresher status for all)") }
        out.append(ProgressDisplay.storage(p))
        return out.map(clip)
    }

    /// Running and starting trials by id, then ended trials best first, then pending ones, up to
    /// the rows that fit under the three header lines and above the storage line.
    func chosen(_ rows: [TrialBoardRow], goal: ThresherStore.MetricGoal) -> (rows: [TrialBoardRow], hidden: Int) {
        let room = max(3, height - 5)
        let active = rows.filter { $0.state.isLeased }
        let ended = rows.filter { $0.state.isTerminal }.sorted { a, b in
            switch (a.best, b.best) {
            case let (x?, y?) where x != y: return goal == .maximize ? x > y : x < y
            case (_?, nil): return true
            case (nil, _?): return false
            default: return a.trialID < b.trialID
            }
        }
        let pending = rows.filter { $0.state == .pending }
        let ordered = active + ended + pending
        if ordered.count <= room { return (ordered, 0) }
        return (Array(ordered.prefix(room - 1)), ordered.count - (room - 1))
    }

    private func bar(_ p: SweepProgress, forecast: SweepForecast) -> String {
        let ended = [TrialState.completed, .stopped, .failed, .cancelled].reduce(0) { $0 + (p.counts[$1] ?? 0) }
        var tail = "  elapsed \(forecast.elapsed.map(Self.duration) ?? "-")"
        if !p.finished { tail += "  eta \(forecast.sweepRemaining.map(Self.duration) ?? "-")" }
        guard let total = p.totalTrials, total > 0 else { return "\(ended) trials ended" + tail }
        let fraction = min(1, Double(ended) / Double(total))
        let cells = max(10, min(40, width - 8 - tail.count))
        let filled = Int((fraction * Double(cells)).rounded(.down))
        let percent = String(format: "%3.0f%%", fraction * 100)
        return "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: cells - filled) + "] " + percent + tail
    }

    private func row(_ cells: [String], metricWidth: Int) -> String {
        let widths = [6, 9, 6, metricWidth, 8, 8, 7, 7]
        var text = ""
        for (cell, width) in zip(cells, widths) {
            text += String(repeating: " ", count: max(0, width - cell.count)) + cell + "  "
        }
        return text + (cells.last ?? "")
    }

    private func clip(_ line: String) -> String {
        line.count <= width ? line : String(line.prefix(max(1, width - 1))) + "…"
    }

    static func label(_ state: TrialState) -> String {
        switch state {
        case .assigned: "starting"
        default: state.rawValue
        }
    }

    static func number(_ value: Double) -> String { String(format: "%.4g", value) }

    /// `m:ss`, or `h:mm:ss` from an hour on.
    static func duration(_ seconds: TimeInterval) -> String {
        let total = max(0, Int(seconds.isFinite ? min(seconds, 1e9) : 0))
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%d:%02d", m, s)
    }
}
