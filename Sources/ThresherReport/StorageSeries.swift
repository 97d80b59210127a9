import Foundation

/// Bytes of checkpoints held in the blob store over time, from the store's log of checkpoints
/// stored and evicted.
///
/// Guarantees: a checkpoint counts from its `stored` entry until its `evicted` entry; an eviction
/// of one never stored (an abandoned upload) changes nothing, and so does a repeated entry; the
/// series never goes below zero and has one point per change, in log order.
public enum StorageSeries {
    /// The bytes held just after one change.
    public struct Point: Sendable, Equatable {
        public var time: Date
        public var bytes: Int64
    }

    public static func points(_ changes: [StorageChange]) -> [Point] {
        var held: [Int64: Int64] = [:]
        var total: Int64 = 0
        var points: [Point] = []
        for change in changes {
            switch change.kind {
            case .stored:
                guard held[change.checkpoint] == nil else { continue }
                held[change.checkpoint] = change.bytes
                total += change.bytes
            case .evicted:
                guard let bytes = held.removeValue(forKey: change.checkpoint) else { continue }
                total -= bytes
            }
            points.append(Point(time: change.time, bytes: max(0, total)))
        }
        return points
    }
}
