/// An ascending multiset of losses with the order statistics the policies need.
struct SortedSample: Sendable, Hashable {
    private(set) var values: [Double] = []

    var count: Int { values.count }
    var isEmpty: Bool { values.isEmpty }
    subscript(index: Int) -> Double { values[index] }

    mutating func insert(_ value: Double) {
        values.insert(value, at: countNotAbove(value))
    }

    /// How many values are strictly below `value`.
    func countBelow(_ value: Double) -> Int { partition { $0 < value } }

    /// How many values are ≤ `value`.
    func countNotAbove(_ value: Double) -> Int { partition { $0 <= value } }

    /// 1 + the number of strictly better (lower) values: ties share the better rank.
    func rank(of value: Double) -> Int { countBelow(value) + 1 }

    /// The linearly interpolated q-quantile (numpy's default `linear` method): with h = (n−1)·q,
    /// v[⌊h⌋] + (h − ⌊h⌋)·(v[⌊h⌋+1] − v[⌊h⌋]). Nil when empty.
    func linearQuantile(_ q: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let position = Double(values.count - 1) * min(max(q, 0), 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, values.count - 1)
        return values[lower] + (position - Double(lower)) * (values[upper] - values[lower])
    }

    /// The middle value, or the mean of the two middle values. Nil when empty.
    func median() -> Double? {
        guard !values.isEmpty else { return nil }
        let middle = values.count / 2
        return values.count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2
    }

    /// First index whose value fails `belongsBefore` (values are sorted, so the predicate holds on a prefix).
    private func partition(_ belongsBefore: (Double) -> Bool) -> Int {
        var low = 0, high = values.count
        while low < high {
            let mid = (low + high) / 2
            if belongsBefore(values[mid]) { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
