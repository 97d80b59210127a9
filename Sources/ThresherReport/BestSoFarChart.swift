/// The best value found so far against the compute spent, where compute is the training steps
/// reported by all trials together — each value adds how far its trial's step advanced past the
/// highest step it had reported (from 0) — counted in the order the coordinator stored the values.
///
/// Guarantees: compute never decreases (a step redone after a resume adds nothing); the line only
/// ever improves in the goal's direction; each improvement is a dot whose tooltip names the trial;
/// non-finite values count as compute but never as a best.
public struct BestSoFarChart: Sendable {
    public let report: SweepReport

    public init(report: SweepReport) { self.report = report }

    /// One entry per improvement: the compute (steps so far, this value's included), the new best
    /// value, and the trial that reported it; plus the total compute.
    public func series() -> (improvements: [(compute: Int64, value: Double, trial: Int64)], total: Int64) {
        var values: [(point: CurvePoint, trial: Int64, order: Int)] = []
        for trial in report.trials {
            for (n, point) in trial.curve.enumerated() { values.append((point, trial.id, n)) }
        }
        // Store order: the time the report was stored, then trial id and position (both stable).
        values.sort { a, b in
            a.point.storedAt != b.point.storedAt ? a.point.storedAt < b.point.storedAt
                : a.trial != b.trial ? a.trial < b.trial : a.order < b.order
        }
        var improvements: [(compute: Int64, value: Double, trial: Int64)] = []
        var reached: [Int64: Int64] = [:]
        var compute: Int64 = 0
        for v in values {
            let previous = reached[v.trial] ?? 0
            if v.point.step > previous {
                // Saturating: steps are user input and may be near Int64's limits.
                let (sum, overflow) = compute.addingReportingOverflow(v.point.step &- previous)
                compute = overflow || v.point.step &- previous < 0 ? .max : sum
                reached[v.trial] = v.point.step
            }
            guard v.point.value.isFinite else { continue }
            if let current = improvements.last?.value, !report.goal.isBetter(v.point.value, than: current) { continue }
            improvements.append((compute, v.point.value, v.trial))
        }
        return (improvements, compute)
    }

    public func svg() -> String {
        let (improvements, total) = series()
        let values = improvements.map(\.value)
        let frame = ChartFrame(xValues: [0, Double(max(total, 1))], yValues: values, yLog: AxisScale.spansDecades(values))
        let metric = report.metric.isEmpty ? "metric" : report.metric
        var svg = frame.open(title: "Best \(metric) so far against training steps reported by all trials",
                             xTitle: "compute: training steps reported across all trials, in the order stored", yTitle: "best \(metric) so far")
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
            svg += HTMLText.escape("trial \(point.trial): \(ReportNumber.text(point.value)) after \(point.compute) steps in all") + "</title></circle>"
        }
        return svg + frame.close
    }
}
