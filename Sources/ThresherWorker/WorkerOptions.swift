import Foundation
import Logging
import ThresherNet
import ThresherWire

/// How a `WorkerAgent` connects, how many trials it runs and how it talks about them.
///
/// Every value has a usable default except the coordinator's URL and the cluster token. The
/// defaults are the documented ones (docs/worker.md): one slot per core with one BLAS thread
/// each, a Report at most every 100 ms per trial with up to 1,000 records, 1 MiB checkpoint chunks.
public struct WorkerOptions: Sendable {
    /// Where the coordinator listens (`ipc://…`, `tcp://host:port`, `tls+tcp://…`).
    public var coordinatorURL: String
    public var token: ClusterToken
    /// The name sent in Hello; one live session per id on the coordinator.
    public var workerID: String
    /// Trials run at once.
    public var slots: Int
    /// BLAS/OpenMP threads each trial gets (`TrialLaunch.threads`).
    public var threadsPerSlot: Int
    /// Trial folders are created as `<baseFolder>/trial-<trial id>`.
    public var baseFolder: String
    /// The `thresher` executable prepended to engine assignments (`"engine": true`).
    public var thresherExecutable: String
    /// Working folder of the trial programs; nil keeps the worker's own.
    public var workingDirectory: String?
    /// Environment the trial programs inherit (before the contract's variables).
    public var environment: [String: String]
    /// Capabilities announced in Hello.
    public var capabilities: [String]
    /// Overrides the heartbeat interval the coordinator announces in Welcome (tests); nil uses Welcome's.
    public var heartbeatInterval: Duration?
    /// SIGTERM → SIGKILL grace when the worker stops a trial.
    public var stopGrace: Duration
    /// A trial's pending metrics are sent at most this often (and only when there are any).
    public var reportInterval: Duration
    /// Records per Report at most; a longer backlog goes out as several numbered Reports.
    public var maxBatchRecords: Int
    /// Bytes of checkpoint per CheckpointChunk.
    public var chunkBytes: Int
    /// How often each trial's files and process are looked at (`TrialLaunch.pollInterval`).
    public var pollInterval: Duration
    /// Timeout of one request round trip.
    public var requestTimeout: Duration
    /// Backoff between retries of a failed request: starts at `retryMin`, doubles up to `retryMax`.
    public var retryMin: Duration
    public var retryMax: Duration
    /// How long to wait before asking again when slots are free but nothing could be asked (errors).
    public var idlePoll: Duration
    public var transport: TransportOptions
    public var logger: Logger

    public init(
        coordinatorURL: String, token: ClusterToken,
        workerID: String = WorkerOptions.defaultWorkerID(),
        slots: Int = ProcessInfo.processInfo.activeProcessorCount,
        threadsPerSlot: Int = 1, baseFolder: String = "thresher-trials",
        thresherExecutable: String = WorkerOptions.ownExecutable(),
        workingDirectory: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        capabilities: [String] = ["engine", "command"],
        heartbeatInterval: Duration? = nil, stopGrace: Duration = .seconds(10),
        reportInterval: Duration = .milliseconds(100), maxBatchRecords: Int = 1_000,
        chunkBytes: Int = 1 << 20, pollInterval: Duration = .milliseconds(100),
        requestTimeout: Duration = .seconds(10), retryMin: Duration = .milliseconds(50),
        retryMax: Duration = .seconds(2), idlePoll: Duration = .milliseconds(50),
        transport: TransportOptions = TransportOptions(), logger: Logger = Logger(label: "thresher.worker")
    ) {
        self.coordinatorURL = coordinatorURL
        self.token = token
        self.workerID = workerID
        self.slots = max(1, min(slots, Int(UInt16.max)))
        self.threadsPerSlot = max(1, threadsPerSlot)
        self.baseFolder = baseFolder
        self.thresherExecutable = thresherExecutable
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.capabilities = capabilities
        self.heartbeatInterval = heartbeatInterval
        self.stopGrace = stopGrace
        self.reportInterval = reportInterval
        self.maxBatchRecords = max(1, maxBatchRecords)
        self.chunkBytes = max(1, chunkBytes)
        self.pollInterval = pollInterval
        self.requestTimeout = requestTimeout
        self.retryMin = retryMin
        self.retryMax = max(retryMin, retryMax)
        self.idlePoll = idlePoll
        self.transport = transport
        self.logger = logger
    }

    /// `<host name>-<pid>`: unique per process on a host, readable in `status`.
    public static func defaultWorkerID() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// This process's own executable as an absolute path (`/proc/self/exe` on Linux), so an engine
    /// trial runs the same build of `thresher` as the worker.
    public static func ownExecutable() -> String {
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"), resolved.hasPrefix("/") {
            return resolved
        }
        let argv0 = CommandLine.arguments.first ?? "thresher"
        if argv0.hasPrefix("/") { return argv0 }
        if argv0.contains("/") { return FileManager.default.currentDirectoryPath + "/" + argv0 }
        return argv0
    }
}

/// The `Assign.run` map, checked: what the worker needs to start a trial.
///
/// The convention (shared with the coordinator, docs/worker.md): `argv` list of strings,
/// `engine` bool (true: argv omits the executable, the worker prepends its `thresher`),
/// `metric` string, `goal` "minimize" | "maximize", `seed` int (a u64 as its i64 bit pattern),
/// `sweep_name` string; optional `first_seq` int ≥ 1 (default 1), the first Report seq of this
/// attempt — a trial reassigned after a lost lease continues past the seqs its predecessor used.
/// The other keys are required; a missing or ill-typed one fails the assignment, never the worker.
public struct RunSpec: Sendable, Equatable {
    public var argv: [String]
    public var engine: Bool
    public var metric: String
    public var goal: String
    public var seed: UInt64
    public var sweepName: String
    /// The seq of this attempt's first Report.
    public var firstSeq: UInt64

    /// Parses `run`; the error text becomes `Failed.reason` after "bad assignment: ".
    public init(run: ParamMap) throws(RunSpecError) {
        guard case .list(let items)? = run["argv"] else { throw RunSpecError(Self.describe("argv", run["argv"], "a list of strings")) }
        var argv: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw RunSpecError("argv holds \(item), not a string") }
            argv.append(s)
        }
        guard case .bool(let engine)? = run["engine"] else { throw RunSpecError(Self.describe("engine", run["engine"], "a bool")) }
        // Even an engine run needs its subcommand: `thresher` alone only prints usage.
        if argv.isEmpty { throw RunSpecError("argv is empty") }
        guard case .string(let metric)? = run["metric"] else { throw RunSpecError(Self.describe("metric", run["metric"], "a string")) }
        guard case .string(let goal)? = run["goal"], goal == "minimize" || goal == "maximize" else {
            throw RunSpecError(Self.describe("goal", run["goal"], "\"minimize\" or \"maximize\""))
        }
        // The coordinator sends a u64 seed as its i64 bit pattern, so a negative value is a large seed.
        guard case .int(let seed)? = run["seed"] else { throw RunSpecError(Self.describe("seed", run["seed"], "an int")) }
        guard case .string(let sweepName)? = run["sweep_name"] else {
            throw RunSpecError(Self.describe("sweep_name", run["sweep_name"], "a string"))
        }
        var firstSeq: UInt64 = 1
        if let value = run["first_seq"] {
            guard case .int(let first) = value, first >= 1 else { throw RunSpecError(Self.describe("first_seq", value, "an int ≥ 1")) }
            firstSeq = UInt64(first)
        }
        self.firstSeq = firstSeq
        self.argv = argv
        self.engine = engine
        self.metric = metric
        self.goal = goal
        self.seed = UInt64(bitPattern: seed)
        self.sweepName = sweepName
    }

    /// The program's full argv: the configured `thresher` first for engine runs.
    public func programArgv(thresherExecutable: String) -> [String] {
        engine ? [thresherExecutable] + argv : argv
    }

    private static func describe(_ key: String, _ value: ParamValue?, _ expected: String) -> String {
        guard let value else { return "run.\(key) is missing (expected \(expected))" }
        return "run.\(key) is \(value), expected \(expected)"
    }
}

/// Why an `Assign.run` map cannot be used.
public struct RunSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
