/// The best trials by their best metric value (in the sweep's goal), with their parameters, steps,
/// state and stored checkpoints: what `thresher fetch` would hand out.
///
/// Guarantees: at most `limit` rows, best first (ties: lower trial index); trials without a finite
/// value are not ranked; every cell is escaped.
public struct TopTrialsTable: Sendable {
    public let report: SweepReport
    public let limit: Int

    public init(report: SweepReport, limit: Int = 10) { self.report = report; self.limit = max(1, limit) }

    public func ranked() -> [ReportTrial] {
        let goal = report.goal
        return report.trials.filter { $0.best(goal) != nil }.sorted { a, b in
            let x = a.best(goal) ?? 0, y = b.best(goal) ?? 0
            return x == y ? a.index < b.index : goal.isBetter(x, than: y)
        }.prefix(limit).map { $0 }
    }

    public func html() -> String {
        let rows = ranked()
        if rows.isEmpty { return "<p class=\"empty\">No trial has reported a finite value of the metric yet.</p>" }
        var html = "<table class=\"top\"><thead><tr><th>rank</th><th>trial</th><th>state</th><th>best</th><th>final</th>"
        html += "<th>last step</th><th>parameters</th><th>stored checkpoints (step · size · sha256 · metric)</th></tr></thead><tbody>"
        for (n, trial) in rows.enumerated() {
            html += "<tr><td>\(n + 1)</td><td>\(trial.id) <span class=\"dim\">#\(trial.index)</span></td>"
            html += "<td class=\"state-\(HTMLText.escape(trial.state))\">\(HTMLText.escape(trial.state))</td>"
            html += "<td>\(trial.best(report.goal).map(ReportNumber.text) ?? "-")</td><td>\(trial.final.map(ReportNumber.text) ?? "-")</td>"
            html += "<td>\(trial.lastStep.map(String.init) ?? "-")</td>"
            html += "<td class=\"params\">\(HTMLText.escape(TrialLabel.params(trial)))</td><td>"
            if trial.storedCheckpoints.isEmpty {
                html += "<span class=\"dim\">none stored</span>"
            } else {
                html += trial.storedCheckpoints.map { cp in
                    "step \(cp.step) · \(ReportNumber.bytes(cp.bytes)) · <code>\(HTMLText.escape(String(cp.digest.prefix(12))))</code>"
                        + " · \(cp.metric.map(ReportNumber.text) ?? "-")"
                }.joined(separator: "<br>")
            }
            html += "</td></tr>"
        }
        return html + "</tbody></table>"
    }
}
