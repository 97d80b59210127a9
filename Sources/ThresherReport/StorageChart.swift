import Foundation

/// Checkpoint bytes held over the sweep's life against its retention budget.
///
/// Guarantees: a step line of `StorageSeries`; the budget (`max_bytes`) is a dashed line labelled
/// with its size inside the y range when the peak uses at least a quarter of it — a budget far
/// above use would flatten the line against the axis, so then the chart is scaled to the data and
/// a label at its top says the budget is off the scale and what share of it the peak used; a
/// sweep without a budget, or without stored checkpoints, says so in text instead of drawing an
/// empty frame.
public struct StorageChart: Sendable {
    public let report: SweepReport

    public init(report: SweepReport) { self.report = report }

    public func html() -> String {
        let points = StorageSeries.points(report.storage.changes)
        var html = ""
        if let budget = report.storage.maxBytes {
            html += "<p>Budget (<code>retention.max_bytes</code>): \(ReportNumber.bytes(budget)).</p>"
        } else {
            html += "<p>This sweep has no storage budget (<code>retention.max_bytes</code> is not set); only the keep rules limit it.</p>"
        }
        guard !points.isEmpty else { return html + "<p class=\"empty\">No checkpoint was ever stored.</p>" }
        if let peak = points.max(by: { $0.bytes < $1.bytes }), let last = points.last {
            html += "<p>Peak \(ReportNumber.bytes(peak.bytes)) at \(ReportNumber.duration(peak.time.timeIntervalSince(report.createdAt)))"
                + " after the sweep was created; \(ReportNumber.bytes(last.bytes)) held at the last change.</p>"
        }
        let origin = report.createdAt
        let times = [0] + points.map { $0.time.timeIntervalSince(origin) }
        var bytes = points.map { Double($0.bytes) } + [0]
        let peak = bytes.max() ?? 0
        let budgetOnScale = report.storage.maxBytes.map { Double($0) <= 4 * peak } ?? false
        if budgetOnScale, let budget = report.storage.maxBytes { bytes.append(Double(budget)) }
        let frame = ChartFrame(height: 300, xValues: times, yValues: bytes)
        var svg = frame.open(title: "Checkpoint bytes stored over time against the budget",
                             xTitle: "time since the sweep was created", yTitle: "bytes stored",
                             xTick: ReportNumber.duration, yTick: ReportNumber.byteAmount)
        var path = SVGPath()
        path.add(frame.x(0), frame.y(0))
        var previous: Int64 = 0
        for point in points {
            let x = frame.x(point.time.timeIntervalSince(origin))
            path.add(x, frame.y(Double(previous)))
            path.add(x, frame.y(Double(point.bytes)))
            previous = point.bytes
        }
        svg += "<path class=\"storage\" d=\"\(path.d)\"/>"
        let c = ReportNumber.coordinate
        if let budget = report.storage.maxBytes, !budgetOnScale {
            let share = ReportNumber.percent(peak / Double(budget))
            svg += "<text class=\"budget-label halo\" x=\"\(c(frame.width - frame.right - 4))\" y=\"\(c(frame.top + 12))\" text-anchor=\"end\">"
                + "budget \(ReportNumber.bytes(budget)) ↑ off the scale: the peak used \(share) of it</text>"
        } else if let budget = report.storage.maxBytes {
            let y = frame.y(Double(budget))
            svg += "<line class=\"budget\" x1=\"\(c(frame.left))\" y1=\"\(c(y))\" x2=\"\(c(frame.width - frame.right))\" y2=\"\(c(y))\">"
            svg += "<title>budget \(ReportNumber.bytes(budget))</title></line>"
            svg += "<text class=\"budget-label\" x=\"\(c(frame.width - frame.right - 4))\" y=\"\(c(y - 5))\" text-anchor=\"end\">budget \(ReportNumber.bytes(budget))</text>"
        }
        return html + svg + frame.close
    }
}
