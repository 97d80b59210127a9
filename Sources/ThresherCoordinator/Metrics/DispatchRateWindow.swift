import Foundation

/// Assignments counted in one-second buckets over the last `seconds` whole seconds, so the
/// dispatch rate is a fixed-size read: no list of timestamps grows with the load.
///
/// Guarantees: `rate(at:)` is the number of events recorded in the `seconds` whole seconds before
/// the current one, divided by `seconds` (the current, partial second is left out so the rate
/// does not dip at each second's start). Events recorded at a time earlier than the newest bucket
/// (a clock stepped back) count in the newest bucket. Recording is O(1).
struct DispatchRateWindow: Sendable, Equatable {
    static let seconds = 10
    private var counts = [Int](repeating: 0, count: seconds + 1)
    /// The whole second (since 1970) of each bucket.
    private var secondOf = [Int64](repeating: .min, count: seconds + 1)
    private var newest: Int64 = .min

    mutating func record(at time: Date) {
        let second = max(Self.second(time), newest)
        newest = second
        let slot = Self.slot(second)
        if secondOf[slot] != second {
            secondOf[slot] = second
            counts[slot] = 0
        }
        counts[slot] += 1
    }

    /// Events per second over the `seconds` whole seconds before `time`'s second.
    func rate(at time: Date) -> Double {
        let now = Self.second(time)
        var total = 0
        for slot in counts.indices where secondOf[slot] >= now - Int64(Self.seconds) && secondOf[slot] < now {
            total += counts[slot]
        }
        return Double(total) / Double(Self.seconds)
    }

    private static func second(_ time: Date) -> Int64 {
        let t = time.timeIntervalSince1970.rounded(.down)
        return t.isFinite && abs(t) < 1e15 ? Int64(t) : 0
    }

    private static func slot(_ second: Int64) -> Int {
        Int(((second % Int64(seconds + 1)) + Int64(seconds + 1)) % Int64(seconds + 1))
    }
}
