import ThresherWire

/// The values one grid parameter takes, in W&B's order, duplicates dropped.
public enum GridAxis: Sendable, Hashable {
    /// `value:` — in every trial, not part of the product.
    case constant(ParamValue)
    /// `values:` as written, minus later duplicates (by `CanonicalParams`), or a q_uniform's
    /// numpy-style `arange`.
    case values([ParamValue])
    /// int_uniform: min, min+1, … max (`count` values), generated on demand.
    case integers(min: Int64, count: Int)

    /// Values in the product; 0 for a constant (which is not in the product).
    public var count: Int {
        switch self {
        case .constant: return 0
        case let .values(values): return values.count
        case let .integers(_, count): return count
        }
    }

    /// The value at `position` (0 ..< count); the constant itself for `.constant`.
    public func value(at position: Int) -> ParamValue {
        switch self {
        case let .constant(value): return value
        case let .values(values): return values[position]
        case let .integers(min, _): return .int(min + Int64(position))
        }
    }

    /// The axis of one leaf, or why a grid cannot enumerate it.
    static func make(for leaf: SearchSpace.Leaf) throws(SearcherError) -> GridAxis {
        switch leaf.kind {
        case let .constant(value):
            return .constant(value)
        case let .categorical(values, probabilities):
            if probabilities != nil {
                throw .notEnumerable(path: leaf.dottedPath, kind: "categorical with probabilities")
            }
            if values.isEmpty { throw .emptyValues(path: leaf.dottedPath) }
            return .values(distinct(values))
        case let .distribution(.intUniform(min, max)):
            guard max >= min else { throw .emptyValues(path: leaf.dottedPath) }
            let (span, overflow) = max.subtractingReportingOverflow(min)
            guard !overflow, span < Int64(Int.max) else { throw .gridTooLarge }
            return .integers(min: min, count: Int(span) + 1)
        case let .distribution(.qUniform(min, max, q)):
            let values = try arange(min, max, q, path: leaf.dottedPath)
            if values.isEmpty { throw .emptyValues(path: leaf.dottedPath) }
            return .values(distinct(values))
        case let .distribution(other):
            throw .notEnumerable(path: leaf.dottedPath, kind: "distribution \(other.wandbName)")
        case .nested:
            throw .notEnumerable(path: leaf.dottedPath, kind: "a nested block")
        }
    }

    /// numpy's `arange(min, max, q).tolist()`: n = ⌈(max − min) / q⌉ values, value i =
    /// min + i·δ with δ = (min + q) − min, so `arange(0, 1, 0.1)` holds 0.30000000000000004 and
    /// never reaches max. Integers when min, max and q are all integral (numpy then works in
    /// ints; `SweepSpec` keeps them as doubles, so integral doubles stand for ints).
    static func arange(_ min: Double, _ max: Double, _ q: Double, path: String) throws(SearcherError) -> [ParamValue] {
        guard q > 0, q.isFinite, min.isFinite, max.isFinite else {
            throw .notEnumerable(path: path, kind: "q_uniform with q = \(q)")
        }
        let length = ((max - min) / q).rounded(.up)
        guard length > 0 else { return [] }
        guard length <= Double(1 << 24) else { throw .gridTooLarge }
        let n = Int(length)
        if let lo = Int64(exactly: min), let step = Int64(exactly: q), Int64(exactly: max) != nil {
            return (0..<n).map { .int(lo + Int64($0) * step) }
        }
        let delta = (min + q) - min
        return (0..<n).map { .double(min + Double($0) * delta) }
    }

    /// Values with later duplicates removed, by canonical key, first occurrence kept.
    static func distinct(_ values: [ParamValue]) -> [ParamValue] {
        var seen = Set<CanonicalParams>()
        return values.filter { seen.insert(CanonicalParams(value: $0)).inserted }
    }
}
