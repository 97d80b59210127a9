import ArgumentParser
import Foundation
import Logging
import ThresherCoordinator
import ThresherNet
import ThresherStore
import ThresherSweep

/// `thresher coordinator`: serve sweeps to workers until interrupted.
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Serve sweeps to workers: trials, early stopping, checkpoint retention (state in one folder).",
        discussion: """
        State (SQLite database and checkpoint blobs) lives in --state; restarting on the same folder \
        continues every sweep. --sweep submits a sweep file at start unless a sweep of that name with \
        the same text is already there. Without --token-file or THRESHER_TOKEN(_FILE) only ipc:// and \
        loopback tcp:// listeners are allowed, with a token kept in STATE/cluster.token for local workers.
        """
    )

    @Option(name: .customLong("listen"), help: "URL to listen on (repeatable): tcp://0.0.0.0:7700, tls+tcp://…, ipc:///path.")
    var listen: [String] = []

    @Option(help: "State folder (created if missing).")
    var state: String

    @Option(help: "Cluster token file (mode 0600).")
    var tokenFile: String?

    @Option(name: .customLong("sweep"), help: "A sweep file to submit at start (repeatable).")
    var sweeps: [String] = []

    @Option(help: "Seconds without a heartbeat before a worker's trials go back to the queue.")
    var leaseTimeout: Double = 15

    @Option(help: ArgumentHelp(MetricsFlag.help, valueName: "HOST:PORT"))
    var metricsListen: String?

    @Option(help: "Runs a trial gets before it is marked failed: each failure or lost lease uses one (applies to trials enqueued from now on).")
    var maxAttempts: Int = 3

    func validate() throws {
        guard !listen.isEmpty else { throw ValidationError("give at least one --listen URL") }
        guard leaseTimeout > 0, leaseTimeout.isFinite else { throw ValidationError("--lease-timeout must be positive") }
        guard maxAttempts >= 1 else { throw ValidationError("--max-attempts must be at least 1") }
    }

    @OptionGroup var tls: TLSFlags

    func run() async throws {
        let startTime = Date()
        do {
            let metricsAddress = try MetricsFlag.parse(metricsListen)
            // 0700, as Coordinator makes it: the state is the owner's alone.
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            let tlsConfiguration = try tls.server(listening: listen)
            let (token, tokenSource) = try TokenPolicy.coordinatorToken(tokenFile: tokenFile, listen: listen, stateDirectory: state)
            var options = CoordinatorOptions(leaseTimeout: leaseTimeout, maxAttempts: maxAttempts)
            options.logger = Logger(label: "thresher.coordinator")
            let coordinator = try Coordinator(stateDirectory: state, options: options)
            for file in sweeps {
                let id = try await SweepSubmission.submit(file: file, to: coordinator)
                StandardError.write(["sweep \(id): \(file)"])
            }
            let server = try CoordinatorServer(coordinator: coordinator, options: options, listen: listen, token: token,
                                               serverOptions: ClusterServerOptions(transport: TransportOptions(tls: tlsConfiguration)))
            let metrics: MetricsEndpoint?
            do { metrics = try MetricsFlag.start(metricsAddress, server: server, startTime: startTime) } catch {
                server.close()
                try? await coordinator.close()
                throw error
            }
            StandardError.write(["coordinator listening on \(listen.joined(separator: ", ")); state \(state); token from \(tokenSource)"])
            await SignalWait.untilInterrupted()
            metrics?.close()
            server.close()
            let statistics = await coordinator.statistics
            try await coordinator.close()
            StandardError.write(["coordinator stopped; \(statistics.batchSummary); \(server.durability.summary)",
                                 "coordinator network: \(server.cluster.statistics.summary)"])
        } catch let error as CLIError {
            StandardError.write(["error: \(error)"])
            throw ExitCode(2)
        } catch let error as NetError {
            // A listen URL that cannot be bound, or a --tls-* file NNG cannot read.
            StandardError.write(["error: cannot listen on \(listen.joined(separator: ", ")): \(error)"])
            throw ExitCode(2)
        }
    }
}

/// Submitting a sweep file to an in-process coordinator, once: a sweep of the same name and text
/// already in the store is not submitted again (restarting `thresher coordinator --sweep F` or
/// `thresher run F` continues the sweep instead of starting a copy).
enum SweepSubmission {
    static func submit(file: String, to coordinator: Coordinator) async throws -> Int64 {
        // The parser refuses a larger text anyway; checking first keeps a huge file out of memory.
        if let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber,
           size.int64Value > Int64(SweepFileParser.maxFileBytes) {
            throw CLIError("\(file) is \(size.int64Value) bytes; a sweep file may have at most \(SweepFileParser.maxFileBytes) (1 MiB)")
        }
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw CLIError("cannot read the sweep file \(file)")
        }
        let url = URL(fileURLWithPath: file).standardizedFileURL
        let name = url.deletingPathExtension().lastPathComponent
        let existing = try await coordinator.existingSweep(named: name, text: text)
        if let existing { return existing }
        do {
            return try await coordinator.submit(sweepFileText: text, fileName: url.lastPathComponent,
                                                baseDirectory: url.deletingLastPathComponent().path, name: name)
        } catch let error as CoordinatorError {
            throw CLIError("\(file): \(error)")
        }
    }
}

/// Waits for SIGINT or SIGTERM (the signals are then handled here instead of killing the process).
enum SignalWait {
    static func untilInterrupted() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = ResumeOnce(continuation)
            var sources: [DispatchSourceSignal] = []
            for signalNumber in [SIGINT, SIGTERM] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .main)
                source.setEventHandler { once.resume() }
                source.resume()
                sources.append(source)
            }
            once.keep(sources)
        }
    }

    private final class ResumeOnce: @unchecked Sendable {
        // @unchecked: `done` and `sources` are touched only on the main queue or before any signal.
        private var continuation: CheckedContinuation<Void, Never>?
        private var sources: [DispatchSourceSignal] = []
        init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = continuation }
        func keep(_ sources: [DispatchSourceSignal]) { self.sources = sources }
        func resume() {
            continuation?.resume()
            continuation = nil
        }
    }
}
