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
/// Each slot count gets its own coordinator, so one measurement's rows do not slow the next; the
/// peak RSS reported is the largest VmHWM over those processes.
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
        /// From the coordinator's shutdown line, over both windows (and warm-ups).
        var meanBatch: Double?
        var commitMs: Double?
        var processingUsPerRequest: Double?
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
            let coordinator = try await CoordinatorChild(sweepText: Self.sweepText, label: "s\(slots)")
            defer { coordinator.stop() }
            let dispatch = try await SimulatedSlots(url: coordinator.url, token: coordinator.token, slots: slots,
                                                    shape: NoOpTrialShape(reports: 1, pointsPerReport: plan.dispatchPoints),
                                                    label: "d\(slots)")
                .measure(warmup: plan.warmup, window: plan.window, coordinatorCPU: { coordinator.cpuSeconds })
            let ingest = try await SimulatedSlots(url: coordinator.url, token: coordinator.token, slots: slots,
                                                  shape: NoOpTrialShape(reports: plan.ingestReports, pointsPerReport: plan.ingestPoints),
                                                  label: "i\(slots)")
                .measure(warmup: plan.warmup, window: plan.window, coordinatorCPU: { coordinator.cpuSeconds })
            let rss = coordinator.peakRSSMegabytes
            let batches = CoordinatorChild.batchFigures(log: coordinator.stop())
            figures.append(SlotFigures(slots: slots, dispatch: dispatch, ingest: ingest, rssMegabytes: rss,
                                       meanBatch: batches?.meanBatch, commitMs: batches?.commitMs,
                                       processingUsPerRequest: batches?.processingUs))
        }
        return figures
    }
}
