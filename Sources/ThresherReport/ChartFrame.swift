/// The frame of an x/y chart: its size, plot area, scales, grid, ticks and axis titles, as SVG.
/// Charts draw their marks inside it with `x(_:)` and `y(_:)`.
///
/// Guarantees: every coordinate it writes is finite; the SVG is self-contained (no external
/// reference) and carries a `<title>` naming the chart for assistive tools.
public struct ChartFrame: Sendable {
    public let width: Double
    public let height: Double
    public let left: Double = 70
    public let right: Double = 20
    public let top: Double = 16
    public let bottom: Double = 46
    public let xScale: AxisScale
    public let yScale: AxisScale

    public init(width: Double = 960, height: Double = 360, xValues: [Double], yValues: [Double], xLog: Bool = false, yLog: Bool = false) {
        self.width = width; self.height = height
        xScale = AxisScale.fitting(xValues, log: xLog, range: (70, width - 20))
        yScale = AxisScale.fitting(yValues, log: yLog, range: (height - 46, 16))
    }

    public func x(_ value: Double) -> Double { xScale.position(value) }
    public func y(_ value: Double) -> Double { yScale.position(value) }

    /// `<svg …>` with the grid, ticks and axis titles; close with `close`.
    public func open(title: String, xTitle: String, yTitle: String, xTick: (Double) -> String = ReportNumber.text,
                     yTick: (Double) -> String = ReportNumber.text) -> String {
        let c = ReportNumber.coordinate
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(c(width)) \(c(height))\" role=\"img\" class=\"chart\">"
        svg += "<title>\(HTMLText.escape(title))</title>"
        let plotBottom = height - bottom, plotRight = width - right
        for t in yScale.ticks() {
            let py = y(t)
            guard py.isFinite else { continue }
            svg += "<line class=\"grid\" x1=\"\(c(left))\" y1=\"\(c(py))\" x2=\"\(c(plotRight))\" y2=\"\(c(py))\"/>"
            svg += "<text class=\"tick\" x=\"\(c(left - 6))\" y=\"\(c(py + 4))\" text-anchor=\"end\">\(HTMLText.escape(yTick(t)))</text>"
        }
        for t in xScale.ticks(count: 8) {
            let px = x(t)
            guard px.isFinite else { continue }
            svg += "<line class=\"grid\" x1=\"\(c(px))\" y1=\"\(c(top))\" x2=\"\(c(px))\" y2=\"\(c(plotBottom))\"/>"
            svg += "<text class=\"tick\" x=\"\(c(px))\" y=\"\(c(plotBottom + 16))\" text-anchor=\"middle\">\(HTMLText.escape(xTick(t)))</text>"
        }
        svg += "<line class=\"axis\" x1=\"\(c(left))\" y1=\"\(c(plotBottom))\" x2=\"\(c(plotRight))\" y2=\"\(c(plotBottom))\"/>"
        svg += "<line class=\"axis\" x1=\"\(c(left))\" y1=\"\(c(top))\" x2=\"\(c(left))\" y2=\"\(c(plotBottom))\"/>"
        svg += "<text class=\"axis-title\" x=\"\(c((left + plotRight) / 2))\" y=\"\(c(height - 8))\" text-anchor=\"middle\">\(HTMLText.escape(xTitle))</text>"
        svg += "<text class=\"axis-title\" transform=\"translate(14 \(c((top + plotBottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(HTMLText.escape(yTitle))</text>"
        return svg
    }

    public var close: String { "</svg>" }
}
