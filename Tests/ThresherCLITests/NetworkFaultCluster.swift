import Foundation
import XCTest

/// A real cluster for network-fault tests: a `thresher coordinator` process on a TCP port (loopback,
/// or a host in a network namespace), `thresher worker` processes that dial it through a
/// `FaultProxy` (or directly), one shared token, and a sweep `net` of the deterministic,
/// checkpointing, resumable trial `Fixtures/fault_trial.py` (ranks 0…n-1; rank 0 is best at every
/// step), checked at the end by `FaultInvariants`.
///
/// Guarantees: every process it starts is SIGKILLed (if still running) and reaped at the test's
/// teardown, and the proxy is stopped; the temporary folder is removed unless
/// `THRESHER_KEEP_TEST_FOLDERS` is set. Coordinator and workers can be killed and restarted on the
/// same state and folders.
final class NetworkFaultCluster {
    let folder: String
    let coordinatorPort: UInt16
    /// Where the coordinator listens (and the proxy forwards to), and its namespace if any.
    let coordinatorHost: String
    let coordinatorNamespace: String?
    var coordinatorURL: String { "tcp://\(coordinatorHost):\(coordinatorPort)" }
    let proxy: FaultProxy
    let ranks: Int
    let steps: Int
    let maxBytes: Int
    var state: String { folder + "/state" }
    var token: String { folder + "/cluster.token" }
    private(set) var coordinator: Process?
    private(set) var workers: [String: Process] = [:]
    private var everyProcess: [Process] = []
    private let testCase: XCTestCase
    private let leaseTimeout: Double
    private let maxAttempts: Int

    /// Writes the program, the sweep (a grid over `ranks` ranks, `steps` steps of `pause` s each,
    /// checkpoints of `checkpointBytes`, no early stopping) and a token into a fresh folder and starts the proxy; nothing runs yet. The
    /// coordinator will listen on `coordinatorHost` (inside `coordinatorNamespace` when given).
    init(for testCase: XCTestCase, ranks: Int, steps: Int, pause: Double, leaseTimeout: Double = 3,
         maxBytes: Int = 200_000, checkpointBytes: Int = 2048, maxAttempts: Int = 3, proxySeed: UInt64 = 1,
         coordinatorHost: String = "127.0.0.1", coordinatorNamespace: String? = nil) throws {
        self.coordinatorHost = coordinatorHost
        self.coordinatorNamespace = coordinatorNamespace
        self.testCase = testCase
        self.ranks = ranks
        self.steps = steps
        self.maxBytes = maxBytes
        self.leaseTimeout = leaseTimeout
        self.maxAttempts = maxAttempts
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-net-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        coordinatorPort = try Self.freePort()
        proxy = try FaultProxy(upstreamHost: coordinatorHost, upstreamPort: coordinatorPort, seed: proxySeed)
        try FileManager.default.copyItem(atPath: DeterministicTrialProgram.faultTrialPath, toPath: folder + "/fault_trial.py")
        let retention = "{keep_top_k: 2, keep_top_k_per_trial: 1, keep_latest_per_trial: true, max_bytes: \(maxBytes)}"
        try FaultCluster.sweepText(ranks: Array(0..<ranks), steps: steps, pause: pause, checkpointBytes: checkpointBytes,
                                   retention: retention, hyperband: false)
            .write(toFile: folder + "/net.yaml", atomically: true, encoding: .utf8)
        let made = try ThresherProcess.run(["token", "new", "--out", token])
        guard made.status == 0 else { throw XCTSkip("thresher token new failed: \(made.stderr)") }
        let folder = self.folder, proxy = self.proxy
        testCase.addTeardownBlock { [self] in
            for process in everyProcess where process.isRunning { kill(process.processIdentifier, SIGKILL) }
            for process in everyProcess { process.waitUntilExit() }
            proxy.stop()
            if ProcessInfo.processInfo.environment["THRESHER_KEEP_TEST_FOLDERS"] == nil {
                try? FileManager.default.removeItem(atPath: folder)
            }
        }
    }

    /// Starts (or restarts, on the same state) the coordinator on `coordinatorURL`, submitting the sweep.
    func startCoordinator() throws {
        let process = try start(["coordinator", "--listen", coordinatorURL, "--state", state,
                                  "--token-file", token, "--sweep", "net.yaml", "--lease-timeout", String(leaseTimeout),
                                  "--max-attempts", String(maxAttempts)],
                                 log: "coordinator.log", namespace: coordinatorNamespace)
        coordinator = process
    }

    /// Starts (or restarts) worker `id` with `slots` slots, dialing `url` (default: the proxy),
    /// inside `namespace` when given.
    @discardableResult
    func startWorker(_ id: String, slots: Int = 1, url: String? = nil, namespace: String? = nil) throws -> Process {
        let process = try start(["worker", "--connect", url ?? "tcp://127.0.0.1:\(proxy.port)", "--token-file", token,
                                 "--slots", String(slots), "--folder", folder + "/" + id, "--id", id],
                                log: id + ".log", namespace: namespace)
        workers[id] = process
        return process
    }

    /// SIGKILLs `process` and reaps it.
    func kill9(_ process: Process) {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// `ip netns exec` replaces itself with the program, so the process id is the program's own.
    private func start(_ arguments: [String], log: String, namespace: String?) throws -> Process {
        let process = Process()
        if let namespace {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            process.arguments = ["netns", "exec", namespace, try ThresherProcess.executable().path] + arguments
        } else {
            process.executableURL = try ThresherProcess.executable()
            process.arguments = arguments
        }
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        let path = folder + "/" + log
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        everyProcess.append(process)
        return process
    }

    /// The sweep's status document (`thresher status net --json`, read-only from the state), or nil
    /// while the store does not have it yet.
    func status() -> [String: Any]? {
        guard let output = try? ThresherProcess.run(["status", "net", "--state", state, "--json"]), output.status == 0 else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
    }

    /// Polls the status every `every` seconds (running `during` between polls) until the sweep has
    /// finished or `timeout` seconds passed; returns the last status.
    @discardableResult
    func waitUntilFinished(timeout: TimeInterval, every: TimeInterval = 1, during: () -> Void = {}) -> [String: Any]? {
        let deadline = Date().addingTimeInterval(timeout)
        var last: [String: Any]?
        while Date() < deadline {
            Thread.sleep(forTimeInterval: every)
            during()
            last = status() ?? last
            if last?["state"] as? String == "finished" { break }
        }
        return last
    }

    /// Checks the invariants (`FaultInvariants`, XCTest failures for each violation) and that every
    /// step of every completed trial carries its checkpoint announcement (the program writes a
    /// checkpoint at every step, so a missing one is a checkpoint the coordinator never heard of).
    @discardableResult
    func checkInvariants(storage: StorageObserver.Summary? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> InvariantReport {
        let report = try FaultInvariants.check(state: state, sweepName: "net", budget: maxBytes, storage: storage,
                                               expectedBest: ["rank": 0], file: file, line: line)
        let unannounced = try CheckpointAnnouncements.missing(state: state, sweepName: "net")
        XCTAssertEqual(unannounced, [], "steps of completed trials without their checkpoint announcement", file: file, line: line)
        return report
    }

    /// The text of a log in the folder (empty when missing).
    func log(_ name: String) -> String {
        (try? String(contentsOfFile: folder + "/" + name + ".log", encoding: .utf8)) ?? ""
    }

    /// Every log, for a failure message.
    func allLogs() -> String {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".log") }.sorted()
        return names.map { "--- \($0)\n" + (((try? String(contentsOfFile: folder + "/" + $0, encoding: .utf8)) ?? "").suffix(6_000)) }
            .joined(separator: "\n")
    }

    /// A TCP port nothing listens on right now (bound, read and released).
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { throw FaultProxy.ProxyError.system("bind", errno) }
        return UInt16(bigEndian: address.sin_port)
    }
}
