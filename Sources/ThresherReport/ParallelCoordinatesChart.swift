/// Parameters against the final metric: one vertical axis per parameter that varies across the
/// sweep, the final metric last, and one line per trial coloured by its final metric.
///
/// Guarantees: only trials with a finite final value are drawn (the page counts the others);
/// parameters with a single value across the sweep get no axis (listed as constants instead);
/// the colour scale runs from worst (pale) to best (dark) and is shown as a legend.
public struct ParallelCoordinatesChart: Sendable {
    public let report: SweepReport
    let width: Double = 960
    let height: Double = 392
    let top: Double = 52
    let bottom: Double = 332

    public init(report: SweepReport) { self.report = report }

    /// The trials drawn: those with a finite final value.
    public var drawn: [ReportTrial] { report.trials.filter { $0.final != nil } }

    /// Parameter names in first-seen order, split into those that vary and the constants with their value.
    public func parameters() -> (varying: [String], constants: [(String, String)]) {
        var names: [String] = []
        for trial in report.trials { for p in trial.params where !names.contains(p.name) { names.append(p.name) } }
        var varying: [String] = [], constants: [(String, String)] = []
        for name in names {
            let texts = Set(report.trials.map { t in t.params.first { $0.name == name }?.value.text ?? "\u{0}absent" })
            if texts.count > 1 { varying.append(name) } else if let only = texts.first { constants.append((name, only)) }
        }
        return (varying, constants)
    }

    /// The axes: varying parameters, then the final metric.
    public func axes() -> [ParallelAxis] {
        let trials = drawn
        var axes = parameters().varying.map { name in
            ParallelAxis(name: name, values: trials.map { t in t.params.first { $0.name == name }?.value },
                         logHint: report.logScaledParameters.contains(name), range: (top, bottom))
        }
        let metric = report.metric.isEmpty ? "metric" : report.metric
        axes.append(ParallelAxis(name: "final \(metric)", values: trials.map { $0.final.map(ReportValue.number) },
                                 logHint: false, range: (top, bottom)))
        return axes
    }

    public func svg() -> String {
        let c = ReportNumber.coordinate
        let axes = axes(), trials = drawn
        let ramp = ColorRamp(values: trials.compactMap(\.final), goal: report.goal)
        let left = 90.0, right = width - 90
        func xOf(_ i: Int) -> Double { axes.count == 1 ? (left + right) / 2 : left + (right - left) * Double(i) / Double(axes.count - 1) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(c(width)) \(c(height))\" role=\"img\" class=\"chart\">"
        svg += "<title>Parallel coordinates: parameters against the final \(HTMLText.escape(report.metric))</title>"
        // Worst first, so the best lines are drawn on top.
        let ordered = trials.sorted { ramp.fraction($0.final ?? .nan) < ramp.fraction($1.final ?? .nan) }
        for trial in ordered {
            var path = SVGPath()
            for (i, axis) in axes.enumerated() {
                let value: ReportValue? = i == axes.count - 1 ? trial.final.map(ReportValue.number)
                    : trial.params.first { $0.name == axis.name }?.value
                path.add(xOf(i), axis.position(value))
            }
            guard !path.isEmpty else { continue }
            svg += "<path class=\"pc-line\" stroke=\"\(ramp.color(trial.final ?? .nan))\" d=\"\(path.d)\">"
            svg += "<title>\(HTMLText.escape(TrialLabel.tooltip(trial, goal: report.goal)))</title></path>"
        }
        for (i, axis) in axes.enumerated() {
            let x = xOf(i)
            svg += "<line class=\"axis\" x1=\"\(c(x))\" y1=\"\(c(top))\" x2=\"\(c(x))\" y2=\"\(c(bottom))\"/>"
            let kind: String = switch axis.kind { case .linear: "linear"; case .log: "log"; case .categorical: "categories" }
            svg += "<text class=\"axis-title\" x=\"\(c(x))\" y=\"\(c(top - 30))\" text-anchor=\"middle\">\(HTMLText.escape(axis.name))</text>"
            svg += "<text class=\"tick\" x=\"\(c(x))\" y=\"\(c(top - 16))\" text-anchor=\"middle\">\(kind)</text>"
            for tick in axis.ticks() {
                // A halo keeps the label readable over the trials' lines.
                svg += "<text class=\"tick halo\" x=\"\(c(x - 5))\" y=\"\(c(tick.y + 4))\" text-anchor=\"end\">\(HTMLText.escape(String(tick.label.prefix(24))))</text>"
            }
        }
        svg += legend(ramp, y: bottom + 30)
        return svg + "</svg>"
    }

    /// The colour scale: a gradient bar from the worst final value to the best.
    private func legend(_ ramp: ColorRamp, y: Double) -> String {
        let c = ReportNumber.coordinate
        var svg = "<defs><linearGradient id=\"metric-ramp\" x1=\"0\" x2=\"1\" y1=\"0\" y2=\"0\">"
        for n in 0...4 {
            svg += "<stop offset=\"\(n * 25)%\" stop-color=\"\(ColorRamp.color(atFraction: Double(n) / 4))\"/>"
        }
        svg += "</linearGradient></defs>"
        let x0 = width / 2 - 150
        svg += "<rect x=\"\(c(x0))\" y=\"\(c(y))\" width=\"300\" height=\"10\" fill=\"url(#metric-ramp)\"/>"
        svg += "<text class=\"tick\" x=\"\(c(x0 - 6))\" y=\"\(c(y + 9))\" text-anchor=\"end\">worst \(HTMLText.escape(ReportNumber.text(ramp.worst)))</text>"
        svg += "<text class=\"tick\" x=\"\(c(x0 + 306))\" y=\"\(c(y + 9))\">best \(HTMLText.escape(ReportNumber.text(ramp.best)))</text>"
        return svg
    }
}
