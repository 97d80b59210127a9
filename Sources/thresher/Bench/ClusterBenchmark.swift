import Foundation

/// `thresher bench cluster`'s load part: for each slot count, a fresh real coordinator process and
/// two measured windows of simulated slots against it.
///
/// - **dispatch**: each trial sends one Report of `dispatchPoints` records, then Done. Gives
///   trials/s and the Report → Ack latency (the coordinator acknowledges only after the rows are
///   committed, so this round trip is an upper bound on "report leaves the worker → rows durable").
/// - **ingest**: each trial sends `ingestReports` Reports of `ingestPoints` records. Gives metric
///   points/s.
///
/// Each phase of each slot count gets its own coordinator, so one measurement's rows do not slow
/// the next and its shutdown line (group-commit figures) describes that phase alone; the peak RSS
/// reported is the largest VmHWM over those processes.
struct ClusterBenchmark {
    struct Plan {
        var slotCounts: [Int] = [1, 16, 256]
        var warmup: Duration = .milliseconds(500)
        var window: Duration = .seconds(3)
        var dispatchPoints = 4
        var ingestReports = 4
        var ingestPoints = 1000

        static let quick = Plan(slotCounts: [1, 16, 256], warmup: .milliseconds(200), window: .milliseconds(700))
    }

    /// Figures for one slot count.
    struct SlotFigures {
        var slots: Int
        var dispatch: SlotWindowResult
        var ingest: SlotWindowResult
        var rssMegabytes: Double?
        /// From each phase's coordinator shutdown line (warm-up included).
        var dispatchBatches: CoordinatorChild.BatchFigures?
        var ingestBatches: CoordinatorChild.BatchFigures?
    }

    let plan: Plan

    /// The sweep every bench coordinator serves: unbounded random search (it never runs out), a
    /// command that is never run (the slots are simulated), no early stopping.
    static let sweepText = """
        name: bench-cluster
        method: random
        command: [/bin/true]
        metric: {name: loss, goal: minimize}
        parameters:
          a: {min: 0.0, max: 1.0}
          b: {min: 0.0, max: 1.0}
          c: {values: [1, 2, 3]}
          d: {values: [1, 2, 3]}
        thresher:
          seed: 7
        """

    func run(progress: (String) -> Void) async throws -> [SlotFigures] {
        var figures: [SlotFigures] = []
        for slots in plan.slotCounts {
            progress("cluster bench: \(slots) slot\(slots == 1 ? "" : "s") …")
            let dispatch = try await phase(slots: slots, label: "d\(slots)", shape: NoOpTrialShape(reports: 1, pointsPerReport: plan.dispatchPoints))
            let ingest = try await phase(slots: slots, label: "i\(slots)",
                                         shape: NoOpTrialShape(reports: plan.ingestReports, pointsPerReport: plan.ingestPoints))
            figures.append(SlotFigures(slots: slots, dispatch: dispatch.window, ingest: ingest.window,
                                       rssMegabytes: [dispatch.rss, ingest.rss].compactMap { $0 }.max(),
                                       dispatchBatches: dispatch.batches, ingestBatches: ingest.batches))
        }
        return figures
    }

    /// One measured window against a fresh coordinator, so its shutdown line describes this phase only.
    private func phase(slots: Int, label: String, shape: NoOpTrialShape) async throws
        -> (window: SlotWindowResult, rss: Double?, batches: CoordinatorChild.BatchFigures?) {
        let coordinator = try await CoordinatorChild(sweepText: Self.sweepText, label: label)
        defer { coordinator.stop() }
        let window = try await SimulatedSlots(url: coordinator.url, token: coordinator.token, slots: slots, shape: shape, label: label)
            .measure(warmup: plan.warmup, window: plan.window, coordinatorCPU: { coordinator.cpuSeconds })
        let rss = coordinator.peakRSSMegabytes
        return (window, rss, CoordinatorChild.batchFigures(log: coordinator.stop()))
    }
}
