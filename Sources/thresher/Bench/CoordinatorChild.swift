import Foundation
import ThresherNet

/// A real `thresher coordinator` child process for `thresher bench cluster`: its own state folder,
/// an ipc:// listener, a token file written for it, and one sweep file submitted at start.
///
/// Guarantees: `init` returns only once a handshake with the coordinator succeeded (or throws and
/// leaves no process behind); `peakRSSMegabytes` reads the child's own VmHWM from
/// /proc/PID/status; `stop()` sends SIGTERM and waits, and the state folder is removed.
final class CoordinatorChild: @unchecked Sendable {
    // @unchecked: every stored property is set once in init; Process is safe for these calls.
    let url: String
    let token: ClusterToken
    let folder: String
    private let process: Process

    /// Starts `thresher coordinator --listen ipc://FOLDER/c.ipc --state FOLDER/state --sweep SWEEP`.
    init(sweepText: String, label: String) async throws {
        let folder = NSTemporaryDirectory() + "thresher-bench-\(label)-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let secret = ClusterToken.random()
        let tokenFile = folder + "/cluster.token"
        guard FileManager.default.createFile(atPath: tokenFile, contents: Data((secret + "\n").utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw CLIError("cannot write a token file under \(folder)")
        }
        let sweepFile = folder + "/bench-\(label).yaml"
        try Data(sweepText.utf8).write(to: URL(fileURLWithPath: sweepFile))
        let url = "ipc://\(folder)/c.ipc"
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["coordinator", "--listen", url, "--state", folder + "/state", "--token-file", tokenFile,
                             "--sweep", sweepFile, "--lease-timeout", "\(Self.leaseTimeoutSeconds)"]
        let log = folder + "/coordinator.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: log)
        process.standardError = FileHandle(forWritingAtPath: log)
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw CLIError("cannot start \(Self.executable.path) coordinator: \(error.localizedDescription)")
        }
        self.url = url
        self.token = try ClusterToken(secret)
        self.folder = folder
        self.process = process
        do {
            // The child is still starting: redial quickly instead of NNG's default back-off.
            var transport = TransportOptions()
            transport.reconnectMin = .milliseconds(10)
            transport.reconnectMax = .milliseconds(100)
            let probe = try ClusterClient(connect: url, token: token, identity: WorkerIdentity(workerID: "bench-probe-\(label)", slots: 1),
                                          transport: transport)
            defer { probe.close() }
            try await probe.handshake(timeout: .seconds(20))
        } catch {
            let tail = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            stop()
            throw CLIError("the bench coordinator did not answer a handshake (\(error)); its log:\n\(tail)")
        }
    }

    /// Simulated slots do not heartbeat (a real worker renews its leases every few seconds), so the
    /// lease must outlast the slowest trial of an overloaded run instead of expiring mid-trial.
    static let leaseTimeoutSeconds = 3600

    /// This executable (the bench runs the coordinator it was built with).
    static var executable: URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    }

    var processID: Int32 { process.processIdentifier }

    /// The child's peak resident set (VmHWM) in MB (10^6 bytes), or nil if /proc cannot tell.
    var peakRSSMegabytes: Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kilobytes = Double(fields[1]) else { return nil }
            return kilobytes * 1024 / 1_000_000
        }
        return nil
    }

    /// CPU time (user + system) the child has used so far, in seconds, from /proc/PID/stat.
    var cpuSeconds: Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After "pid (comm) " the fields start at field 3 (state); utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ticks > 0 ? (user + system) / ticks : nil
    }

    /// SIGTERM, wait, remove the folder; returns the coordinator's log (its last line summarises
    /// group commit). Idempotent: later calls return nil.
    @discardableResult
    func stop() -> String? {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        let log = try? String(contentsOfFile: folder + "/coordinator.log", encoding: .utf8)
        try? FileManager.default.removeItem(atPath: folder)
        return log
    }

    /// The group-commit figures of the coordinator's shutdown line ("… mean batch X, mean commit
    /// Y ms, processing Z us/request"), or nil when the log has none.
    struct BatchFigures {
        var meanBatch: Double
        var commitMs: Double
        var processingUs: Double
        /// From the same line's "mean sync Y ms, batches per sync Z" (the WAL syncs after the commits).
        var syncMs: Double?
        var batchesPerSync: Double?
    }

    static func batchFigures(log: String?) -> BatchFigures? {
        guard let line = log?.split(separator: "\n").last(where: { $0.contains("mean batch") }) else { return nil }
        func number(after label: String) -> Double? {
            guard let range = line.range(of: label) else { return nil }
            return Double(line[range.upperBound...].prefix { $0.isNumber || $0 == "." })
        }
        guard let batch = number(after: "mean batch "), let commit = number(after: "mean commit "),
              let processing = number(after: "processing ") else { return nil }
        return BatchFigures(meanBatch: batch, commitMs: commit, processingUs: processing,
                            syncMs: number(after: "mean sync "), batchesPerSync: number(after: "batches per sync "))
    }
}
