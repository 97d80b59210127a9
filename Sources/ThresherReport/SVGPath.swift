/// Builds an SVG path's `d` attribute from points, one polyline or several.
///
/// Guarantees: a point with a non-finite coordinate is never written; it ends the current segment
/// instead (the next finite point starts a new one with `M`), so a NaN in the data is a gap, not a
/// broken path.
public struct SVGPath {
    public private(set) var d = ""
    private var penDown = false

    public init() {}

    /// Adds a point: a line from the previous one, or a move when the segment has just started.
    public mutating func add(_ x: Double, _ y: Double) {
        guard x.isFinite, y.isFinite else { penDown = false; return }
        if !d.isEmpty { d += " " }
        d += (penDown ? "L" : "M") + ReportNumber.coordinate(x) + " " + ReportNumber.coordinate(y)
        penDown = true
    }

    /// Starts a new segment: the next point is a move.
    public mutating func lift() { penDown = false }

    public var isEmpty: Bool { d.isEmpty }

    /// A polyline through `points`.
    public static func line(_ points: [(Double, Double)]) -> SVGPath {
        var path = SVGPath()
        for (x, y) in points { path.add(x, y) }
        return path
    }
}
