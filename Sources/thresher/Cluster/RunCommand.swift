import ArgumentParser
import Foundation
import Logging
import ThresherCoordinator
import ThresherNet
import ThresherReport
import ThresherStore
import ThresherWire

/// `thresher run FILE`: the embedded default — a coordinator in this process and N local worker
/// processes over ipc://, state under ./thresher-runs/, a progress line while it runs, and at the
/// end the best trial, its metric and its checkpoint on disk.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a sweep on this machine: coordinator, local workers, and the best checkpoint at the end.",
        discussion: """
        State goes to --state (default thresher-runs/NAME): rerunning the same file there continues \
        the sweep. With --set, the overridden file is the sweep (default state thresher-runs/NAME-set-DIGEST): \
        the same command continues it, and a state folder holding the sweep with other text is refused. Workers are `thresher worker` processes (one trial slot each) talking to the \
        coordinator over ipc:// with a token kept in the state folder. At the end the --best checkpoints \
        are written to STATE/best/ as safetensors files with JSON sidecars, and the sweep's report (as \
        `thresher report` writes it) to STATE/report.html.
        """
    )

    @Argument(help: "The sweep file (W&B format, with a thresher.engine block or a command).")
    var file: String

    @Option(help: "Local worker processes (one trial each).")
    var workers: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "State folder (default: thresher-runs/<sweep file name>, with -set-<digest> when --set is given).")
    var state: String?

    @OptionGroup var overrides: SweepOverrideOptions

    @Option(help: "How many of the best checkpoints to write to STATE/best at the end.")
    var best: Int = 1

    @Option(help: "Seconds without a heartbeat before a worker's trials go back to the queue.")
    var leaseTimeout: Double = 15

    @Flag(help: "JSON lines on stdout instead of the table: trial and progress events, then one finished event.")
    var json = false

    @Option(help: ArgumentHelp(MetricsFlag.help, valueName: "HOST:PORT"))
    var metricsListen: String?

    func validate() throws {
        guard (1...256).contains(workers) else { throw ValidationError("--workers must be 1...256, got \(workers)") }
        guard best >= 0 else { throw ValidationError("--best must be 0 or more") }
    }

    func run() async throws {
        do {
            try await runSweep()
        } catch let error as CLIError {
            StandardError.write(["error: \(error)"])
            throw ExitCode(2)
        } catch let error as CoordinatorError {
            StandardError.write(["error: \(error)"])
            throw ExitCode(2)
        } catch let error as BlobStoreError {
            StandardError.write(["error: \(error)"])
            throw ExitCode(2)
        }
    }

    private func runSweep() async throws {
        // Every problem (of the file or of a --set) at its place, exit 2, before anything starts.
        let startTime = Date()
        let metricsAddress = try MetricsFlag.parse(metricsListen)
        let effective = try SweepFileLoader.load(file, overrides: overrides.values)
        let spec = effective.parsed.spec
        try Self.checkEngineFiles(spec.thresher.engine, sweepFile: file)
        let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let defaultState = EffectiveSweepSubmission.defaultStateFolder(file: file, overrides: overrides.values)
        let folder = URL(fileURLWithPath: state ?? defaultState).standardizedFileURL.path
        // 0700: the state, the local token and the ipc:// socket in it are the owner's alone.
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let url = Self.ipcURL(folder: folder)
        let (token, tokenPath) = try TokenPolicy.coordinatorToken(tokenFile: nil, listen: [url], stateDirectory: folder)
        var options = CoordinatorOptions(leaseTimeout: leaseTimeout)
        // The coordinator logs to a file: lines on the terminal would cut through the live table.
        let log = try FileLogHandler.Sink(path: folder + "/coordinator.log")
        options.logger = Logger(label: "thresher.coordinator") { FileLogHandler(label: $0, sink: log) }
        let coordinator = try Coordinator(stateDirectory: folder, options: options)
        let sweepID: Int64
        do {
            sweepID = try await EffectiveSweepSubmission.submit(effective, file: file, stateFolder: folder, to: coordinator)
        } catch {
            try? await coordinator.close()
            throw error
        }
        var serverOptions = ClusterServerOptions()
        serverOptions.logger = Logger(label: "thresher.net") { FileLogHandler(label: $0, sink: log) }
        let server = try CoordinatorServer(coordinator: coordinator, options: options, listen: [url], token: token,
                                           serverOptions: serverOptions)
        let metrics: MetricsEndpoint?
        do { metrics = try MetricsFlag.start(metricsAddress, server: server, startTime: startTime) } catch {
            server.close()
            try? await coordinator.close()
            throw error
        }
        defer { metrics?.close() }
        let pool = try LocalWorkerPool(count: workers, url: url, tokenFile: tokenPath, folder: folder)
        StandardError.write(["sweep \(sweepID) (\(name)) in \(folder); \(workers) local worker\(workers == 1 ? "" : "s"); log \(log.path)"])

        let display = ProgressDisplay(json: json)
        let interrupted = InterruptFlag()
        // Read twice a second: the board reads only the reports stored since its last look.
        let board = LiveBoard(sweep: sweepID)
        var (last, rows) = try board.refresh(from: coordinator.sweepStore)
        while !last.finished && !interrupted.isSet {
            display.show(last, rows: rows)
            if pool.allExited { break }
            try? await Task.sleep(for: .milliseconds(500))
            (last, rows) = try board.refresh(from: coordinator.sweepStore)
        }
        display.finish(last, rows: rows)
        pool.stop()
        metrics?.close()
        server.close()
        if interrupted.isSet {
            try await coordinator.close()
            let sets = overrides.values.map { " --set '\($0)'" }.joined()
            if json { print(ProgressDisplay.json(["event": "interrupted", "sweep": sweepID])) }
            StandardError.write(["interrupted: rerun `thresher run \(file)\(sets)` to continue the sweep"])
            throw ExitCode(130)
        }
        guard last.finished else {
            try await coordinator.close()
            throw CLIError("every local worker exited before the sweep finished; see \(folder)/workers/*.log")
        }
        let fetched = best > 0 ? try await coordinator.fetchBest(sweep: sweepID, count: best, into: folder + "/best") : []
        let report = Self.writeReport(store: coordinator.sweepStore, sweep: sweepID, to: folder + "/report.html")
        try await coordinator.close()
        if json { return print(Self.finishedEvent(last, fetched: fetched, folder: folder, report: report)) }
        print(Self.summary(last, fetched: fetched) + (report.map { "\nreport: \($0)" } ?? ""))
    }

    /// The sweep's `thresher report` page beside its state, or nil (said on stderr) when it cannot
    /// be written: the sweep's result stands without it.
    static func writeReport(store: SweepStore, sweep: Int64, to path: String) -> String? {
        do {
            let report = try SweepReportReader.read(store: store, sweep: sweep, now: Date())
            try ReportCommand.writeAtomically(Data(ReportPage(report: report).html().utf8), to: path)
            return path
        } catch {
            StandardError.write(["warning: the report was not written (\(error)); `thresher report` can write it later"])
            return nil
        }
    }

    /// The engine block's data and embeddings must exist here (the workers are local): a missing
    /// file is one clear error now, not 81 trials failing three times each.
    static func checkEngineFiles(_ engine: ParamMap?, sweepFile: String) throws {
        guard let engine else { return }
        let base = URL(fileURLWithPath: sweepFile).standardizedFileURL.deletingLastPathComponent()
        for key in ["data", "embeddings"] {
            guard case .string(let path)? = engine[key] else { continue }
            let resolved = path.hasPrefix("/") ? path : base.appendingPathComponent(path).standardizedFileURL.path
            guard FileManager.default.fileExists(atPath: resolved) else {
                throw CLIError("\(sweepFile): thresher.engine.\(key) is \(path), and \(resolved) does not exist "
                    + "(name yours with --set thresher.engine.\(key)=PATH)")
            }
        }
    }

    /// An ipc:// URL inside the state folder, or under /tmp when that path is too long for a Unix
    /// socket (108 bytes on Linux).
    static func ipcURL(folder: String) -> String {
        let path = folder + "/coordinator.ipc"
        return path.utf8.count < 100 ? "ipc://" + path : "ipc:///tmp/thresher-\(getpid()).ipc"
    }

    /// The last JSON line of `--json`: the sweep's end, its best trial and the checkpoints written.
    static func finishedEvent(_ p: SweepProgress, fetched: [FetchedCheckpoint], folder: String, report: String?) -> String {
        var event: [String: Any] = ["event": "finished", "sweep": p.sweepID, "name": p.name, "state": p.state.rawValue,
                                    "counts": Dictionary(uniqueKeysWithValues: p.counts.map { ($0.key.rawValue, $0.value) }),
                                    "metric": p.metric, "state_folder": folder]
        if let report { event["report"] = report }
        if let best = p.best { event["best"] = ["trial": best.trial, "step": best.step, "value": best.value] }
        event["checkpoints"] = fetched.map { f -> [String: Any] in
            var entry: [String: Any] = ["rank": f.rank, "path": f.path, "trial": f.trialID, "step": f.step]
            if let metric = f.metric { entry["metric"] = metric }
            return entry
        }
        return ProgressDisplay.json(event)
    }

    static func summary(_ p: SweepProgress, fetched: [FetchedCheckpoint]) -> String {
        var lines = ["sweep \(p.name): \(ProgressDisplay.counts(p))"]
        if let best = p.best {
            lines.append("best: trial \(best.trial), \(p.metric) \(best.value) at step \(best.step)")
        } else {
            lines.append("best: no trial reported \(p.metric)")
        }
        for f in fetched {
            lines.append("checkpoint \(f.rank): \(f.path) (trial \(f.trialID), step \(f.step)\(f.metric.map { ", \(p.metric) \($0)" } ?? ""))")
        }
        if fetched.isEmpty && p.best != nil { lines.append("checkpoint: none stored (see thresher.retention)") }
        return lines.joined(separator: "\n")
    }
}
