/// Bounds a curve's size for drawing: at most `limit` points, keeping each bucket's minimum and
/// maximum value (in their original order), so spikes and dips survive while flat stretches thin out.
///
/// Guarantees: the first and last points are kept; order is preserved; a curve already within
/// the limit is returned unchanged; only finite values are considered.
public struct CurveDownsampler: Sendable {
    public let limit: Int

    public init(limit: Int = 500) { self.limit = max(4, limit) }

    public func reduce(_ points: [CurvePoint]) -> [CurvePoint] {
        let finite = points.filter { $0.value.isFinite }
        guard finite.count > limit else { return finite }
        // Two points per bucket, plus the first and last kept apart.
        let buckets = (limit - 2) / 2
        let inner = Array(finite.dropFirst().dropLast())
        var kept: [CurvePoint] = [finite[0]]
        for b in 0..<buckets {
            let from = b * inner.count / buckets, to = (b + 1) * inner.count / buckets
            guard from < to else { continue }
            let slice = inner[from..<to]
            guard let low = slice.indices.min(by: { inner[$0].value < inner[$1].value }),
                  let high = slice.indices.max(by: { inner[$0].value < inner[$1].value }) else { continue }
            for i in Set([low, high]).sorted() { kept.append(inner[i]) }
        }
        kept.append(finite[finite.count - 1])
        return kept
    }
}
