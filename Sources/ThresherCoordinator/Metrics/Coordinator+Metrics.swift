import Foundation
import ThresherStore

/// What the metrics endpoint reads from the coordinator actor itself: its counters and the
/// in-memory figures no store query gives. One short actor call per scrape.
public struct CoordinatorMetricsSnapshot: Sendable {
    public var statistics: CoordinatorStatistics
    /// Assignments per second over the last `DispatchRateWindow.seconds` whole seconds.
    public var dispatchRatePerSecond: Double
    /// The search size of each running sweep whose searcher has one (a grid), by sweep id.
    public var plannedTrials: [Int64: Int]
}

extension Coordinator {
    /// The counters and in-memory figures for one scrape; reads nothing from the store.
    public func metricsSnapshot() -> CoordinatorMetricsSnapshot {
        var planned: [Int64: Int] = [:]
        for (id, runtime) in sweeps {
            if let total = runtime.searcher.totalCount { planned[id] = total }
        }
        return CoordinatorMetricsSnapshot(statistics: counters, dispatchRatePerSecond: dispatchWindow.rate(at: options.clock()),
                                          plannedTrials: planned)
    }
}
