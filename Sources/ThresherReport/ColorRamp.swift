/// Colours for a metric value: a perceptually ordered ramp from worst (pale yellow) to best (deep
/// blue), so "darker is better" whatever the goal.
///
/// Guarantees: always returns a valid `#rrggbb`; a value outside the domain, a degenerate domain
/// or a non-finite value clamps to the nearest end (non-finite: the worst end).
public struct ColorRamp: Sendable {
    /// Viridis-like stops, worst → best.
    static let stops: [(Double, Double, Double)] = [
        (253, 231, 37), (94, 201, 98), (33, 145, 140), (59, 82, 139), (68, 1, 84),
    ]

    public let worst: Double
    public let best: Double

    public init(worst: Double, best: Double) { self.worst = worst; self.best = best }

    /// The ramp over `values` for the goal: the best value gets the darkest colour.
    public init(values: [Double], goal: ReportGoal) {
        let finite = values.filter(\.isFinite)
        let lo = finite.min() ?? 0, hi = finite.max() ?? 1
        if goal == .minimize { self.init(worst: hi, best: lo) } else { self.init(worst: lo, best: hi) }
    }

    /// 0 at the worst value, 1 at the best.
    public func fraction(_ value: Double) -> Double {
        guard value.isFinite else { return 0 }
        let span = best - worst
        guard span != 0, span.isFinite else { return 1 }
        return min(1, max(0, (value - worst) / span))
    }

    public func color(_ value: Double) -> String { Self.color(atFraction: fraction(value)) }

    public static func color(atFraction t: Double) -> String {
        let t = t.isFinite ? min(1, max(0, t)) : 0
        let scaled = t * Double(stops.count - 1)
        let i = min(stops.count - 2, Int(scaled))
        let f = scaled - Double(i)
        let a = stops[i], b = stops[i + 1]
        func mix(_ x: Double, _ y: Double) -> Int { Int((x + (y - x) * f).rounded()) }
        return hex(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    private static func hex(_ r: Int, _ g: Int, _ b: Int) -> String {
        let digits = Array("0123456789abcdef")
        var out = "#"
        for c in [r, g, b] { let v = min(255, max(0, c)); out.append(digits[v / 16]); out.append(digits[v % 16]) }
        return out
    }
}
