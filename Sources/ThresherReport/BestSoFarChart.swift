/// The best value found so far against the compute spent, where compute is the number of metric
/// values reported by all trials together (one per step), counted in the order the coordinator
/// stored them.
///
/// Guarantees: the line only ever improves in the goal's direction; each improvement is a dot
/// whose tooltip names the trial; non-finite values count as compute but never as a best.
public struct BestSoFarChart: Sendable {
    public let report: SweepReport

    public init(report: SweepReport) { self.report = report }

    /// One entry per improvement: the compute (values reported so far, this one included), the new
    /// best value, and the trial that reported it; plus the total compute.
    public func series() -> (improvements: [(compute: Int, value: Double, trial: Int64)], total: Int) {
        var values: [(point: CurvePoint, trial: Int64, order: Int)] = []
        for trial in report.trials {
            for (n, point) in trial.curve.enumerated() { values.append((point, trial.id, n)) }
        }
        // Store order: the time the report was stored, then trial id and position (both stable).
        values.sort { a, b in
            a.point.storedAt != b.point.storedAt ? a.point.storedAt < b.point.storedAt
                : a.trial != b.trial ? a.trial < b.trial : a.order < b.order
        }
        var improvements: [(compute: Int, value: Double, trial: Int64)] = []
        for (n, v) in values.enumerated() where v.point.value.isFinite {
            if let current = improvements.last?.value, !report.goal.isBetter(v.point.value, than: current) { continue }
            improvements.append((n + 1, v.point.value, v.trial))
        }
        return (improvements, values.count)
    }

    public func svg() -> String {
        let (improvements, total) = series()
        let values = improvements.map(\.value)
        let frame = ChartFrame(xValues: [0, Double(max(total, 1))], yValues: values, yLog: AxisScale.spansDecades(values))
        let metric = report.metric.isEmpty ? "metric" : report.metric
        var svg = frame.open(title: "Best \(metric) so far against steps reported by all trials",
                             xTitle: "compute: steps reported across all trials, in the order stored", yTitle: "best \(metric) so far")
        var path = SVGPath()
        for (n, point) in improvements.enumerated() {
            if n > 0 { path.add(frame.x(Double(point.compute)), frame.y(improvements[n - 1].value)) }
            path.add(frame.x(Double(point.compute)), frame.y(point.value))
        }
        if let last = improvements.last { path.add(frame.x(Double(total)), frame.y(last.value)) }
        if !path.isEmpty { svg += "<path class=\"best-so-far\" d=\"\(path.d)\"/>" }
        let c = ReportNumber.coordinate
        for point in improvements {
            let x = frame.x(Double(point.compute)), y = frame.y(point.value)
            guard x.isFinite, y.isFinite else { continue }
            svg += "<circle class=\"improvement\" cx=\"\(c(x))\" cy=\"\(c(y))\" r=\"3.5\"><title>"
            svg += HTMLText.escape("trial \(point.trial): \(ReportNumber.text(point.value)) after \(point.compute) steps") + "</title></circle>"
        }
        return svg + frame.close
    }
}
