import Foundation

/// The report's opening block: sweep name, method, metric and goal, trials by state, the best
/// trial, when the sweep was created and how long it has run.
///
/// Guarantees: wall time runs from the sweep's creation to the last stored value (or stop) when
/// every trial has ended, else to the report's making, and says which; every text is escaped.
public struct ReportHeader: Sendable {
    public let report: SweepReport

    public init(report: SweepReport) { self.report = report }

    /// The wall time in seconds and whether the sweep is still going.
    public func wallTime() -> (seconds: Double, ongoing: Bool) {
        let open = report.trials.contains { ["pending", "assigned", "running"].contains($0.state) } || report.state == "active"
        let lastValue = report.trials.flatMap(\.curve).map(\.storedAt).max()
        let lastStorage = report.storage.changes.map(\.time).max()
        let lastEnd = report.trials.compactMap(\.endedAt).max()
        let end = open ? report.generatedAt : [lastValue, lastStorage, lastEnd].compactMap { $0 }.max() ?? report.createdAt
        return (max(0, end.timeIntervalSince(report.createdAt)), open)
    }

    public func html() -> String {
        var html = "<h1>\(HTMLText.escape(report.name)) <span class=\"dim\">sweep \(report.sweepID)</span></h1><dl class=\"summary\">"
        func item(_ term: String, _ value: String) { html += "<dt>\(term)</dt><dd>\(value)</dd>" }
        item("method", HTMLText.escape(report.method))
        item("metric", report.metric.isEmpty ? "none named" : "\(HTMLText.escape(report.metric)) (\(report.goal.rawValue))")
        item("state", HTMLText.escape(report.state))
        let counts = report.counts.filter { $0.count > 0 }
        let total = counts.reduce(0) { $0 + $1.count }
        item("trials", "\(total)" + (counts.isEmpty ? "" : ": " + counts.map { "\($0.count) \(HTMLText.escape($0.state))" }.joined(separator: ", ")))
        if let best = report.bestTrial, let value = best.best(report.goal) {
            item("best", "\(ReportNumber.text(value)) — trial \(best.id) (#\(best.index)), \(HTMLText.escape(TrialLabel.params(best)))")
        } else {
            item("best", "no finite value of the metric yet")
        }
        item("created", ReportNumber.time(report.createdAt))
        let (seconds, ongoing) = wallTime()
        item("wall time", ReportNumber.duration(seconds) + (ongoing ? " so far (still running)" : ""))
        item("report made", ReportNumber.time(report.generatedAt))
        return html + "</dl>"
    }
}
