import Foundation

/// Maps data values onto a pixel range, linearly or logarithmically, with tick values for an axis.
///
/// Guarantees: `position` returns a finite number for every finite input (a degenerate domain —
/// one value, or none — is widened, never divided by); a log scale is only made from positive
/// bounds (`fitting` falls back to linear otherwise); non-finite inputs map to NaN so path
/// builders drop them.
public struct AxisScale: Sendable, Equatable {
    public let lower: Double
    public let upper: Double
    public let isLog: Bool
    /// Pixel positions of `lower` and `upper` (upper may be the smaller one, as for y axes).
    public let start: Double
    public let end: Double

    /// A scale over the finite values in `values`. `log` asks for a log scale; it is used only when
    /// every value is positive. Empty input gives the domain 0…1.
    public static func fitting(_ values: [Double], log: Bool = false, range: (Double, Double)) -> AxisScale {
        let finite = values.filter(\.isFinite)
        guard var lo = finite.min(), var hi = finite.max() else {
            return AxisScale(lower: 0, upper: 1, isLog: false, start: range.0, end: range.1)
        }
        let useLog = log && lo > 0
        if useLog {
            if lo == hi { lo /= 10; hi *= 10 }
        } else if lo == hi {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad; hi += pad
        }
        // Guards against a span too wide for a Double (e.g. -1e308…1e308).
        if !(hi - lo).isFinite { lo = max(lo, -1e300); hi = min(hi, 1e300) }
        return AxisScale(lower: lo, upper: hi, isLog: useLog, start: range.0, end: range.1)
    }

    /// Whether `values` call for a log axis: all positive, spanning two decades or more (a grid of
    /// 0.001, 0.01, 0.1 reads on a log axis; on a linear one two of its three values merge).
    public static func spansDecades(_ values: [Double]) -> Bool {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max(), lo > 0 else { return false }
        return hi / lo >= 100
    }

    public func position(_ value: Double) -> Double {
        guard value.isFinite, !isLog || value > 0 else { return .nan }
        let t: Double
        if isLog {
            t = (Foundation.log10(value) - Foundation.log10(lower)) / (Foundation.log10(upper) - Foundation.log10(lower))
        } else {
            t = (value - lower) / (upper - lower)
        }
        let p = start + t * (end - start)
        return p.isFinite ? p : .nan
    }

    /// About `count` round tick values inside the domain (powers of ten for a log scale).
    public func ticks(count: Int = 5) -> [Double] {
        if isLog {
            let first = Int(Foundation.log10(lower).rounded(.up)), last = Int(Foundation.log10(upper).rounded(.down))
            guard first <= last else { return [lower, upper] }
            let stride = max(1, (last - first + 1) / max(count, 1))
            return Swift.stride(from: first, through: last, by: stride).map { Foundation.pow(10, Double($0)) }
        }
        let span = upper - lower
        guard span > 0, span.isFinite else { return [lower] }
        let raw = span / Double(max(count, 1))
        let magnitude = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        guard step > 0, step.isFinite else { return [lower, upper] }
        var ticks: [Double] = []
        var tick = Foundation.ceil(lower / step) * step
        while tick <= upper + step * 1e-9, ticks.count < 50 {
            ticks.append(abs(tick) < step * 1e-9 ? 0 : tick)
            tick += step
        }
        return ticks
    }
}
