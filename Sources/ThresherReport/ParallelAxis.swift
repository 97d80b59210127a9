/// One vertical axis of the parallel-coordinates plot: a parameter (or the metric) and how its
/// values are placed.
///
/// Guarantees: numeric axes place every finite number inside the axis (degenerate ranges widened
/// by `AxisScale`) and, with at most `valueTickLimit` distinct values (a grid), tick exactly those
/// values; categorical axes space their distinct values evenly, in first-seen order; a value the
/// axis cannot place gives NaN (drawn as a gap).
public struct ParallelAxis: Sendable, Equatable {
    /// How values are placed: by value (linear or log) or as evenly spaced labels.
    public enum Kind: Sendable, Equatable {
        case linear
        case log
        case categorical([String])
    }

    public let name: String
    public let kind: Kind
    /// Numeric axes: the domain (top is the higher value).
    let scale: AxisScale
    /// Numeric axes with few distinct values: those values, ascending (their ticks).
    let distinctValues: [Double]?

    /// A grid's handful of values are better ticks than round numbers between them.
    public static let valueTickLimit = 6

    /// The axis for `values` (nil entries: trials without this parameter). Numbers only → numeric,
    /// log when `logHint` or the values span two decades or more (all positive); otherwise categorical.
    public init(name: String, values: [ReportValue?], logHint: Bool, range: (top: Double, bottom: Double)) {
        self.name = name
        let present = values.compactMap { $0 }
        let numbers = present.compactMap { if case .number(let v) = $0 { v } else { nil } }
        if numbers.count == present.count, !present.isEmpty, numbers.contains(where: \.isFinite) {
            let log = (logHint || AxisScale.spansDecades(numbers)) && numbers.filter(\.isFinite).allSatisfy { $0 > 0 }
            kind = log ? .log : .linear
            scale = AxisScale.fitting(numbers, log: log, range: (range.bottom, range.top))
            let distinct = Set(numbers.filter(\.isFinite)).sorted()
            distinctValues = distinct.count <= Self.valueTickLimit ? distinct : nil
        } else {
            var labels: [String] = []
            for v in present where !labels.contains(v.text) { labels.append(v.text) }
            kind = .categorical(labels)
            scale = AxisScale.fitting([], range: (range.bottom, range.top))
            distinctValues = nil
        }
    }

    /// The y position of `value` on this axis, NaN when it has none.
    public func position(_ value: ReportValue?) -> Double {
        guard let value else { return .nan }
        switch kind {
        case .linear, .log:
            guard case .number(let v) = value else { return .nan }
            return scale.position(v)
        case .categorical(let labels):
            guard let i = labels.firstIndex(of: value.text) else { return .nan }
            if labels.count == 1 { return (scale.start + scale.end) / 2 }
            return scale.start + (scale.end - scale.start) * Double(i) / Double(labels.count - 1)
        }
    }

    /// Tick labels and their positions.
    public func ticks() -> [(label: String, y: Double)] {
        switch kind {
        case .linear, .log:
            let values = distinctValues ?? scale.ticks(count: 4)
            return values.map { (ReportNumber.text($0), scale.position($0)) }.filter { $0.1.isFinite }
        case .categorical(let labels):
            return labels.map { ($0, position(.text($0))) }
        }
    }
}
