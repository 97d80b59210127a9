import Foundation

/// Everything needed to start one run of a trial program, besides its folder.
///
/// Guarantees: `environment(folder:)` is exactly the documented contract — the worker's
/// environment minus every `THRESHER_*` variable it happened to carry (so a stale
/// `THRESHER_RESUME_FROM` can never leak into a fresh trial) and minus the BLAS thread
/// variables, plus the contract's own variables.
public struct TrialLaunch: Sendable {
    /// The program and its arguments (from `CommandTemplate.expand` or the engine's `thresher train` line). No shell.
    public var argv: [String]
    public var sweepID: String
    public var seed: UInt64
    /// The checkpoint to continue from (`THRESHER_RESUME_FROM`), or nil for a fresh start.
    public var resumeFrom: String?
    /// The slot's thread count, given to OpenBLAS, OpenMP and MKL (at least 1).
    public var threads: Int
    /// The environment the program inherits before the contract's variables are added.
    public var baseEnvironment: [String: String]
    /// The program's working folder; nil keeps the worker's own (where a sweep's `program` usually lives).
    public var workingDirectory: String?
    /// Time between SIGTERM and SIGKILL when the worker stops the trial.
    public var stopGrace: Duration
    /// How often the metrics file, the checkpoint folder and the process are looked at.
    public var pollInterval: Duration
    /// Each of stdout.log and stderr.log rotates at this size (one previous file is kept).
    public var logLimitBytes: Int
    /// Metrics lines longer than this are refused and counted.
    public var maxMetricsLineBytes: Int
    /// How many of stderr's last lines make a failure's reason.
    public var failureTailLines: Int

    public init(
        argv: [String], sweepID: String, seed: UInt64, resumeFrom: String? = nil, threads: Int = 1,
        baseEnvironment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String? = nil, stopGrace: Duration = .seconds(10),
        pollInterval: Duration = .milliseconds(100), logLimitBytes: Int = 1 << 20,
        maxMetricsLineBytes: Int = MetricLineParser.defaultMaxLineBytes, failureTailLines: Int = 20
    ) {
        self.argv = argv
        self.sweepID = sweepID
        self.seed = seed
        self.resumeFrom = resumeFrom
        self.threads = threads
        self.baseEnvironment = baseEnvironment
        self.workingDirectory = workingDirectory
        self.stopGrace = stopGrace
        self.pollInterval = pollInterval
        self.logLimitBytes = logLimitBytes
        self.maxMetricsLineBytes = maxMetricsLineBytes
        self.failureTailLines = failureTailLines
    }

    /// Variables the worker owns: removed from the base environment, then set by the contract.
    static let threadVariables = ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"]

    /// The program's environment as a dictionary.
    public func environment(folder: TrialFolder) -> [String: String] {
        var result = baseEnvironment.filter { key, _ in
            !key.hasPrefix("THRESHER_") && !Self.threadVariables.contains(key) && !key.isEmpty && !key.contains("=")
        }
        result["THRESHER_METRICS_FILE"] = folder.metricsFile
        result["THRESHER_CHECKPOINT_DIR"] = folder.checkpointDirectory
        result["THRESHER_TRIAL_ID"] = folder.trialID
        result["THRESHER_SWEEP_ID"] = sweepID
        result["THRESHER_SEED"] = String(seed)
        if let resumeFrom { result["THRESHER_RESUME_FROM"] = resumeFrom }
        for key in Self.threadVariables { result[key] = String(max(1, threads)) }
        return result
    }
}

/// How a finished process ended, as the kernel reported it.
public enum TerminationStatus: Sendable, Equatable, CustomStringConvertible {
    /// It called exit with this status (0–255).
    case exited(Int32)
    /// A signal (this number) ended it.
    case signaled(Int32)
    /// Someone else in the worker's process reaped it first, so its status is gone.
    case unknown

    public var description: String {
        switch self {
        case .exited(let code): "exit status \(code)"
        case .signaled(let signal): "killed by signal \(signal)\(Self.signalName(signal).map { " (\($0))" } ?? "")"
        case .unknown: "unknown status (reaped elsewhere)"
        }
    }

    private static func signalName(_ signal: Int32) -> String? {
        let names: [Int32: String] = [1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS",
                                      8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 15: "SIGTERM"]
        return names[signal]
    }
}

/// How a trial run ended, from the worker's point of view.
public enum TrialExit: Sendable, Equatable {
    /// Exit status 0 without the worker having asked it to stop.
    case completed
    /// Non-zero exit, or a signal the worker did not send. `reason` is the last lines of stderr
    /// (or a sentence naming the status when stderr was empty).
    case failed(reason: String, status: TerminationStatus)
    /// The worker asked it to stop; `killed` is true when it outlived the grace and got SIGKILL.
    case stopped(killed: Bool)
}

/// What a running trial reports, in the order it happened.
public enum TrialEvent: Sendable, Equatable {
    /// A metrics line was parsed.
    case metrics(MetricLine)
    /// A new `step-<N>.safetensors` appeared. Delivered before the metrics line of the same step
    /// when the program follows the contract (checkpoint renamed into place before the line).
    case checkpoint(TrialCheckpoint)
    /// A metrics line was refused (and counted); the trial goes on.
    case malformedLine(MetricLineError)
}
