import Foundation

/// The `thresher worker` child processes of `thresher run`: started with this executable, logs in
/// STATE/workers/w<i>.log, stopped with SIGTERM (their trials with them) when the sweep ends, and
/// started with `--exit-with-parent`, so they stop by themselves if `thresher run` is killed.
final class LocalWorkerPool: @unchecked Sendable {
    // @unchecked: `processes` is written once in init; Process is thread-safe for these calls.
    private let processes: [Process]

    init(count: Int, url: String, tokenFile: String, folder: String) throws {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        let logs = folder + "/workers"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        var started: [Process] = []
        for i in 0..<count {
            let process = Process()
            process.executableURL = executable
            process.arguments = ["worker", "--connect", url, "--token-file", tokenFile, "--slots", "1",
                                 "--folder", "\(logs)/w\(i)", "--id", "local-\(getpid())-\(i)", "--exit-with-parent"]
            let log = "\(logs)/w\(i).log"
            // A worker whose log cannot be written would print through the live table instead.
            guard FileManager.default.createFile(atPath: log, contents: nil),
                  let handle = FileHandle(forWritingAtPath: log) else {
                for p in started { p.terminate() }
                throw CLIError("cannot write the local worker's log \(log)")
            }
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            do { try process.run() } catch {
                for p in started { p.terminate() }
                throw CLIError("cannot start a local worker (\(executable.path) worker): \(error.localizedDescription)")
            }
            started.append(process)
        }
        processes = started
    }

    var allExited: Bool { processes.allSatisfy { !$0.isRunning } }

    /// SIGTERM to every worker (each stops its trials within their grace), then waits for them —
    /// at most `patience`: a worker still alive then is killed (SIGKILL) and says so, so `thresher
    /// run` always ends. (A worker stops itself within its grace plus 10 s, see `WorkerCommand`.)
    func stop(patience: TimeInterval = 30) {
        for p in processes where p.isRunning { p.terminate() }
        let deadline = Date().addingTimeInterval(patience)
        while processes.contains(where: \.isRunning), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        for (i, p) in processes.enumerated() where p.isRunning {
            StandardError.write(["local worker w\(i) (pid \(p.processIdentifier)) did not stop within \(Int(patience)) s of SIGTERM; killed"])
            kill(p.processIdentifier, SIGKILL)
        }
        for p in processes { p.waitUntilExit() }
    }
}

/// Set by SIGINT/SIGTERM while `thresher run` waits, so it can stop its workers and say how to continue.
final class InterruptFlag: @unchecked Sendable {
    // @unchecked: `flagged` flips once on the main queue; readers tolerate seeing it a poll late.
    private var flagged = false
    private var sources: [DispatchSourceSignal] = []

    init() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .main)
            source.setEventHandler { [weak self] in self?.flagged = true }
            source.resume()
            sources.append(source)
        }
    }

    var isSet: Bool { flagged }
}
