/// Every trial's learning curve: the sweep metric against the step.
///
/// Guarantees: a stopped trial's line is dashed and grey and ends in a `✕` marker (class `cut`)
/// at its last drawn point; a failed trial's line is red and dotted; the best trial is drawn last,
/// thick and highlighted; completed and running trials get neither marker. Each curve is cut to at
/// most `downsampler.limit` points (min/max per bucket) and carries a `<title>` tooltip.
public struct LearningCurveChart: Sendable {
    public let report: SweepReport
    public let downsampler: CurveDownsampler

    public init(report: SweepReport, downsampler: CurveDownsampler = CurveDownsampler()) {
        self.report = report; self.downsampler = downsampler
    }

    public func svg() -> String {
        let curves = report.trials.map { (trial: $0, points: downsampler.reduce($0.curve)) }
        let all = curves.flatMap(\.points)
        let values = all.map(\.value)
        let frame = ChartFrame(xValues: all.map { Double($0.step) }, yValues: values, yLog: AxisScale.spansDecades(values))
        let metric = report.metric.isEmpty ? "metric" : report.metric
        var svg = frame.open(title: "Learning curves: \(metric) against step for every trial", xTitle: "step", yTitle: metric)
        let best = report.bestTrial?.id
        // Order: ordinary lines, then stopped, then failed, then the best on top.
        let ordered = curves.sorted { rank($0.trial, best) < rank($1.trial, best) }
        for (trial, points) in ordered where !points.isEmpty {
            var path = SVGPath()
            for p in points { path.add(frame.x(Double(p.step)), frame.y(p.value)) }
            guard !path.isEmpty else { continue }
            let kind = trial.id == best ? "best" : trial.isStopped ? "stopped" : trial.isFailed ? "failed" : "ran"
            svg += "<g class=\"trial \(kind)\"><title>\(HTMLText.escape(TrialLabel.tooltip(trial, goal: report.goal)))</title>"
            svg += "<path class=\"curve\" d=\"\(path.d)\"/>"
            if trial.isStopped, let last = points.last {
                let x = frame.x(Double(last.step)), y = frame.y(last.value)
                if x.isFinite, y.isFinite { svg += Self.cross(x, y) }
            }
            svg += "</g>"
        }
        return svg + frame.close
    }

    /// The `✕` marking where a stopped trial was cut.
    static func cross(_ x: Double, _ y: Double) -> String {
        let c = ReportNumber.coordinate
        return "<path class=\"cut\" d=\"M\(c(x - 4)) \(c(y - 4)) L\(c(x + 4)) \(c(y + 4)) M\(c(x - 4)) \(c(y + 4)) L\(c(x + 4)) \(c(y - 4))\"/>"
    }

    private func rank(_ trial: ReportTrial, _ best: Int64?) -> Int {
        trial.id == best ? 3 : trial.isFailed ? 2 : trial.isStopped ? 1 : 0
    }

    /// Whether any curve had to be thinned (the page says so).
    public var isDownsampled: Bool { report.trials.contains { $0.finiteCurve.count > downsampler.limit } }
}
