import ArgumentParser
import Foundation

/// `thresher bench cluster`: the coordinator under load from simulated worker slots, and the
/// 81-trial no-op grid against Ray Tune and Optuna.
struct ClusterBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Measure a real coordinator: trials/s, metric points/s, Report→Ack latency, peak RSS; and the 81-trial grid vs Ray Tune and Optuna.",
        discussion: """
        For 1, 16 and 256 simulated worker slots (in this process, real NNG sockets over ipc://) \
        against a `thresher coordinator` child process (real SQLite, synchronous FULL): trials \
        dispatched/s (RequestTrial → Assign → one Report of 4 points → Done), metric points \
        ingested/s (Reports of 1,000 points), p50/p99 Report → Ack in ms (the coordinator acks only \
        after the rows are committed, so this is an upper bound on report → durable), and the \
        coordinator's peak RSS (VmHWM). Then the 81-trial no-op grid: `thresher run --workers 2` \
        with real worker processes, and Benchmarks/grid81_peer.py under Ray Tune and Optuna where \
        they import. Run from the repository root. --quick: short windows, no grid comparison.
        """
    )

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Flag(help: "A few seconds (CI smoke test): short windows and no 81-trial grid comparison.")
    var quick = false

    @Option(help: "Seconds per measured window.")
    var seconds: Double = 3

    @Option(name: .customLong("slots"), help: "Simulated slot counts to measure (repeatable; default 1, 16, 256).")
    var slotCounts: [Int] = []

    @Flag(help: "Skip the 81-trial grid comparison.")
    var noGrid = false

    @Option(help: "Metric points each trial of the 81-trial grid reports.")
    var gridPoints: Int = 5

    func validate() throws {
        guard seconds > 0, seconds <= 600, seconds.isFinite else { throw ValidationError("--seconds must be in (0, 600]") }
        guard slotCounts.allSatisfy({ (1...4096).contains($0) }) else { throw ValidationError("--slots must be 1...4096") }
        guard (1...1000).contains(gridPoints) else { throw ValidationError("--grid-points must be 1...1000") }
    }

    func run() async throws {
        var plan = quick ? ClusterBenchmark.Plan.quick : ClusterBenchmark.Plan()
        if !quick { plan.window = .milliseconds(Int64(seconds * 1000)) }
        if !slotCounts.isEmpty { plan.slotCounts = slotCounts }
        let progress: (String) -> Void = { StandardError.write([$0]) }
        do {
            let figures = try await ClusterBenchmark(plan: plan).run(progress: progress)
            let grid = quick || noGrid ? nil : try Grid81Comparison.run(points: gridPoints, progress: progress)
            let report = ClusterBenchReport(figures: figures, grid: grid, plan: plan)
            print(json ? try report.json() : report.table())
            let unexpected = figures.reduce(0) { $0 + $1.dispatch.unexpectedReplies + $1.ingest.unexpectedReplies }
            if unexpected > 0 { throw ExitCode(1) }
        } catch let error as CLIError {
            StandardError.write(["error: \(error)"])
            throw ExitCode(2)
        }
    }
}
