/// The early-termination schedule as it played out: per bracket and rung, how many trials reached
/// the rung, how many were stopped there, and the thresholds decided there.
///
/// Guarantees: "reached" counts trials of the bracket with at least the rung's iteration count of
/// finite values (the policies' own count), a trial stopped at a rung counting up to that rung only
/// (values it reported before the stop reached its worker do not carry it further); "stopped"
/// counts stop explanations naming the rung;
/// thresholds are the distinct finite ones, ascending. No schedule, or one without rungs (the
/// median rule), gives no rows.
public struct RungTable: Sendable {
    /// One rung of one bracket and what happened there.
    public struct Row: Sendable, Equatable {
        public var bracket: Int
        public var iteration: Int
        public var reached: Int
        public var stopped: Int
        public var thresholds: [Double]
    }

    public let report: SweepReport

    public init(report: SweepReport) { self.report = report }

    public func rows() -> [Row] {
        guard let schedule = report.schedule else { return [] }
        var rows: [Row] = []
        for (b, rungs) in schedule.brackets.enumerated() {
            let members = report.trials.filter { schedule.brackets.count == 1 || $0.bracket == b }
            for iteration in rungs {
                let stops = members.compactMap(\.stop).filter { $0.rungIteration == iteration && $0.rule == schedule.policy }
                let thresholds = Set(stops.compactMap(\.threshold).filter(\.isFinite)).sorted()
                let reached = members.filter { trial in
                    let stoppedAt = trial.stop.flatMap { $0.rule == schedule.policy ? $0.rungIteration : nil }
                    return min(trial.iterations, stoppedAt ?? .max) >= iteration
                }.count
                rows.append(Row(bracket: b, iteration: iteration, reached: reached,
                                stopped: stops.count, thresholds: thresholds))
            }
        }
        return rows
    }

    public func html() -> String {
        guard let schedule = report.schedule else {
            return "<p class=\"empty\">No early termination: this sweep has no <code>early_terminate</code> policy, so every trial ran to its end.</p>"
        }
        let rows = rows()
        let stoppedCount = report.trials.filter(\.isStopped).count
        if rows.isEmpty {
            return "<p class=\"empty\">No rungs: the \(HTMLText.escape(schedule.policy)) rule compares trials at every iteration; "
                + "\(stoppedCount) trial(s) stopped early (their reasons are in the tooltips and the top-trials table).</p>"
        }
        var html = "<p>Policy: <b>\(HTMLText.escape(schedule.policy))</b>; \(stoppedCount) trial(s) stopped early in all.</p>"
        html += "<table class=\"rungs\"><thead><tr>"
        if schedule.brackets.count > 1 { html += "<th>bracket</th>" }
        html += "<th>rung (iteration)</th><th>trials reached</th><th>stopped here</th><th>thresholds decided</th></tr></thead><tbody>"
        for row in rows {
            html += "<tr>"
            if schedule.brackets.count > 1 { html += "<td>\(row.bracket)</td>" }
            let thresholds = row.thresholds.isEmpty ? "-" : Self.summary(row.thresholds)
            html += "<td>\(row.iteration)</td><td>\(row.reached)</td><td>\(row.stopped)</td><td>\(HTMLText.escape(thresholds))</td></tr>"
        }
        return html + "</tbody></table>"
    }

    /// All thresholds when few, else the range and count.
    static func summary(_ values: [Double]) -> String {
        if values.count <= 6 { return values.map(ReportNumber.text).joined(separator: ", ") }
        return "\(values.count) values, \(ReportNumber.text(values[0])) … \(ReportNumber.text(values[values.count - 1]))"
    }
}
