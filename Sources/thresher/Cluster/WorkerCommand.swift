import ArgumentParser
import Foundation
import Logging
import ThresherNet
import ThresherWorker

/// `thresher worker`: run trials for a coordinator until interrupted (SIGTERM/SIGINT stop the
/// running trials within their grace first).
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run trials for a coordinator: one trial per slot, metrics streamed back, checkpoints uploaded on request.",
        discussion: """
        The token comes from --token-file or THRESHER_TOKEN_FILE / THRESHER_TOKEN. Trial folders \
        (metrics, checkpoints, logs) live under --folder. OpenBLAS runs one thread per slot unless \
        --threads says otherwise. docs/worker.md describes the loop; docs/trial-programs.md what a \
        trial program sees.
        """
    )

    @Option(help: "The coordinator's URL (tcp://HOST:7700, tls+tcp://…, ipc:///path).")
    var connect: String

    @OptionGroup var tls: TLSFlags

    @Option(help: "Cluster token file.")
    var tokenFile: String?

    @Option(help: "Trial slots (default: the number of cores).")
    var slots: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "BLAS threads per trial.")
    var threads: Int = 1

    @Option(help: "Folder for trial folders.")
    var folder: String = "thresher-trials"

    @Option(help: "Worker id (default: host-pid); a second active worker with the same id is refused.")
    var id: String?

    @Flag(help: "Stop (ending the running trials) once the process that started this worker has exited; thresher run sets it, so a killed run leaves no worker behind.")
    var exitWithParent = false

    func validate() throws {
        guard (1...1024).contains(slots) else { throw ValidationError("--slots must be 1...1024, got \(slots)") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be 1...256, got \(threads)") }
    }

    func run() async throws {
        let token: ClusterToken
        let tlsConfiguration: TLSConfiguration?
        do {
            guard let explicit = try TokenPolicy.explicit(tokenFile: tokenFile) else {
                throw CLIError("no cluster token: pass --token-file (the coordinator's, e.g. STATE/cluster.token for a local one) or set THRESHER_TOKEN_FILE")
            }
            token = explicit
            tlsConfiguration = try tls.client(connecting: connect)
        } catch let error as CLIError {
            StandardError.write(["error: \(error)"])
            throw ExitCode(2)
        } catch {
            StandardError.write(["error: \(error)"])
            throw ExitCode(2)
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var logger = Logger(label: "thresher.worker")
        logger.logLevel = .info
        let options = WorkerOptions(coordinatorURL: connect, token: token, workerID: id ?? WorkerOptions.defaultWorkerID(),
                                    slots: slots, threadsPerSlot: threads, baseFolder: folder,
                                    transport: TransportOptions(tls: tlsConfiguration), logger: logger)
        let agent: WorkerAgent
        do { agent = try WorkerAgent(options: options) } catch {
            // e.g. a --tls-* file that cannot be read: NNG reads them when the dialer is made.
            StandardError.write(["error: cannot connect to \(connect): \(error)"])
            throw ExitCode(2)
        }
        let interrupted = InterruptFlag()
        let parent = getppid()
        let running = Task { await agent.run() }
        while !interrupted.isSet {
            // An orphan is adopted by init (or a subreaper): its parent pid changes.
            if exitWithParent && getppid() != parent {
                logger.warning("the process that started this worker (pid \(parent)) has exited; stopping")
                break
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        await agent.drain()
        running.cancel()
        // The agent stops its trials within their grace; if it is still not done 10 s after that
        // (a network call that never returns — NNG 1.5.2 has hung here), the process ends anyway,
        // from a Dispatch thread, since Swift's own threads may be the ones waiting.
        let stopped = DispatchSemaphore(value: 0)
        let limit = options.stopGrace + .seconds(10)
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(limit.components.seconds * 1000))) {
            guard stopped.wait(timeout: .now()) == .timedOut else { return }
            FileHandle.standardError.write(Data("worker: shutdown did not finish within \(limit); exiting\n".utf8))
            _exit(3)
        }
        _ = await running.value
        stopped.signal()
    }
}
