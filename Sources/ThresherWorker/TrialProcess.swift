#if canImport(Glibc)
import Glibc
#endif
import Logging

/// One running trial program: the child process, its metrics file and its checkpoint folder.
///
/// Guarantees:
/// - The program leads its own process group; stopping it (and its end, however it comes) kills
///   everything left in that group, so a trial never leaves helpers behind.
/// - `events` yields every complete metrics line exactly once, in file order; a checkpoint that
///   was in place before a line was written is yielded before that line (the folder is scanned
///   *after* each read of the metrics file). Each new or replaced checkpoint file is reported
///   once; files present before launch are not reported unless replaced.
/// - `wait()` returns only after the process is reaped, the files are read to their end and
///   `events` is finished; every later call returns the same `TrialExit`.
/// - `stop(grace:)` is idempotent: SIGTERM once, SIGKILL when the (earliest) grace runs out.
/// - All state is isolated to this actor; output pipes are drained by `LogCapture` threads.
/// It polls (every `TrialLaunch.pollInterval`, 100 ms by default) rather than using inotify or
/// SIGCHLD: a poll costs a read and a directory listing, works on every file system (NFS
/// included), and needs no process-wide signal handler that other code could fight over.
public actor TrialProcess {
    /// Process id of the program, which is also its process group id.
    public nonisolated let pid: pid_t
    public nonisolated let folder: TrialFolder
    /// The trial's events; finished when the trial has ended. Unbounded: the consumer should keep up.
    public nonisolated let events: AsyncStream<TrialEvent>

    private let launch: TrialLaunch
    private let continuation: AsyncStream<TrialEvent>.Continuation
    private let logger: Logger
    private let stdoutCapture: LogCapture
    private let stderrCapture: LogCapture

    private var metricsFD: Int32
    private var parser: MetricLineParser
    private var pending: [UInt8] = []
    /// True while skipping the rest of a line that was already refused as too long.
    private var discardingLongLine = false
    /// The checkpoint files already reported (or present at launch), so each is reported once.
    private var knownCheckpoints: [Int: TrialFolder.FileIdentity]
    private var malformed = 0

    /// Set when someone else in this process reaped the program: its pid may already belong to
    /// an unrelated process, so it is never signalled again.
    private var reapedElsewhere = false
    /// Set once `finish` has reaped the program; from then on its pid is not ours to ask about.
    private var reaped = false
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    private var stopRequested = false
    private var killDeadline: ContinuousClock.Instant?
    private var sentKill = false
    private var result: TrialExit?
    private var waiters: [CheckedContinuation<TrialExit, Never>] = []

    /// Prepares `folder` (see `TrialFolder.create()`), starts `launch.argv` and begins following it.
    public static func start(
        _ launch: TrialLaunch, in folder: TrialFolder, logger: Logger = Logger(label: "thresher.worker.trial")
    ) throws(TrialProcessError) -> TrialProcess {
        guard let name = launch.argv.first else { throw .emptyCommand }
        // A program a killed worker left running here would write into this launch's files.
        if let leftover = LeftoverProgram.read(from: folder.programRecord), leftover.end() {
            logger.warning("trial \(folder.trialID): ended program \(leftover.pid), left running in its folder by an earlier worker")
        }
        do { try folder.create() } catch { throw .folder(error) }
        // Taken before the spawn: a fast program's first checkpoint must not pass for an old one.
        let existingCheckpoints = folder.checkpointFiles()
        let environment = launch.environment(folder: folder)
        let executable = try Spawn.resolve(name, environment: environment)
        let metricsFD = open(folder.metricsFile, O_RDONLY | O_CLOEXEC)
        guard metricsFD >= 0 else { throw .folder(.io(path: folder.metricsFile, errno: errno)) }
        var pipes: [(read: Int32, write: Int32)] = []
        do {
            pipes.append(try Spawn.pipe())
            pipes.append(try Spawn.pipe())
        } catch {
            for pipe in pipes { close(pipe.read); close(pipe.write) }
            close(metricsFD)
            throw error
        }
        let pid: pid_t
        do {
            pid = try Spawn.start(
                executable: executable, argv: launch.argv,
                environment: environment.map { "\($0.key)=\($0.value)" }.sorted(),
                directory: launch.workingDirectory, stdout: pipes[0].write, stderr: pipes[1].write)
        } catch {
            for pipe in pipes { close(pipe.read); close(pipe.write) }
            close(metricsFD)
            throw error
        }
        LeftoverProgram.launched(pid: pid)?.write(to: folder.programRecord)
        // The child has its copies; the parent's write ends must go, or the pipes never reach end of file.
        close(pipes[0].write)
        close(pipes[1].write)
        let process = TrialProcess(
            pid: pid, folder: folder, launch: launch, logger: logger, metricsFD: metricsFD,
            existingCheckpoints: existingCheckpoints, stdout: LogCapture(fd: pipes[0].read, path: folder.stdoutLog, limitBytes: launch.logLimitBytes),
            stderr: LogCapture(fd: pipes[1].read, path: folder.stderrLog, limitBytes: launch.logLimitBytes))
        logger.debug("trial started", metadata: ["trial": "\(folder.trialID)", "pid": "\(pid)", "argv": "\(launch.argv)"])
        Task { await process.follow() }
        return process
    }

    private init(
        pid: pid_t, folder: TrialFolder, launch: TrialLaunch, logger: Logger, metricsFD: Int32,
        existingCheckpoints: [Int: TrialFolder.FileIdentity], stdout: LogCapture, stderr: LogCapture
    ) {
        self.pid = pid
        self.folder = folder
        self.launch = launch
        self.logger = logger
        self.metricsFD = metricsFD
        self.parser = MetricLineParser(maxLineBytes: launch.maxMetricsLineBytes)
        self.knownCheckpoints = existingCheckpoints
        self.stdoutCapture = stdout
        self.stderrCapture = stderr
        (events, continuation) = AsyncStream.makeStream(of: TrialEvent.self, bufferingPolicy: .unbounded)
    }

    // MARK: - Public control

    /// Waits for the trial to end (see the type's guarantees). Not cancellable: use `stop`.
    public func wait() async -> TrialExit {
        if let result { return result }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// Asks the program to stop: SIGTERM to its group now, SIGKILL once `grace` (default
    /// `TrialLaunch.stopGrace`) has passed. Returns when it has exited. A second call never sends
    /// SIGTERM again; it can only bring the SIGKILL closer. A program that had already exited on
    /// its own keeps its own ending (`.completed` or `.failed`).
    @discardableResult
    public func stop(grace: Duration? = nil) async -> TrialExit {
        if result == nil, !leaderHasExited() {
            let deadline = ContinuousClock.now + max(.zero, grace ?? launch.stopGrace)
            if !stopRequested {
                stopRequested = true
                signalGroup(SIGTERM)
                logger.debug("trial stopping", metadata: ["trial": "\(folder.trialID)"])
            }
            if killDeadline.map({ deadline < $0 }) ?? true { killDeadline = deadline }
            enforceKillDeadline()
        }
        return await wait()
    }

    /// Metrics lines refused so far.
    public var malformedLineCount: Int { malformed }

    /// The last `count` lines the program wrote to stderr (or stdout).
    public func stderrTail(_ count: Int = 20) -> [String] { stderrCapture.lastLines(count) }
    public func stdoutTail(_ count: Int = 20) -> [String] { stdoutCapture.lastLines(count) }

    // MARK: - Following

    private func follow() async {
        while true {
            // Look for the exit first, then read: whatever was written before the exit is read below.
            let exited = leaderHasExited()
            poll()
            if exited { break }
            enforceKillDeadline()
            try? await Task.sleep(for: launch.pollInterval)
        }
        await finish()
    }

    /// Reads new metrics lines, then lists the checkpoint folder, then yields checkpoints before lines.
    private func poll() {
        var lines: [TrialEvent] = []
        let fd = metricsFD
        while true {
            let count = readBuffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            split(readBuffer[0..<count], into: &lines)
        }
        let files = folder.checkpointFiles()
        for step in files.keys.sorted() where knownCheckpoints[step] != files[step] {
            knownCheckpoints[step] = files[step]
            if let checkpoint = folder.checkpoint(step: step) { continuation.yield(.checkpoint(checkpoint)) }
        }
        for event in lines { continuation.yield(event) }
    }

    /// Cuts complete lines out of `chunk` (keeping a partial one for later) and parses them.
    private func split(_ chunk: ArraySlice<UInt8>, into events: inout [TrialEvent]) {
        var start = chunk.startIndex
        while start < chunk.endIndex {
            let newline = chunk[start...].firstIndex(of: UInt8(ascii: "\n"))
            let end = newline ?? chunk.endIndex
            if !discardingLongLine {
                pending.append(contentsOf: chunk[start..<end])
                if pending.count > parser.maxLineBytes {
                    // Refuse now and stop buffering: a line without end must not grow memory without end.
                    pending.removeAll()
                    discardingLongLine = true
                    events.append(refused(parser.skipTooLong()))
                }
            }
            guard let newline else { return }
            if discardingLongLine {
                discardingLongLine = false
            } else {
                do {
                    if let line = try parser.parse(pending) { events.append(.metrics(line)) }
                } catch {
                    events.append(refused(error))
                }
                pending.removeAll(keepingCapacity: true)
            }
            start = chunk.index(after: newline)
        }
    }

    private func refused(_ error: MetricLineError) -> TrialEvent {
        malformed += 1
        // Enough to notice and diagnose, without letting a garbage-spewing program flood the log.
        if malformed <= 10 || malformed.isMultiple(of: 1000) {
            logger.warning("\(error) (\(malformed) refused so far)", metadata: ["trial": "\(folder.trialID)"])
        }
        return .malformedLine(error)
    }

    /// True once the leader has exited; it stays a zombie (unreaped) so its pid, and with it the
    /// group id, cannot be reused while the worker may still signal the group.
    private func leaderHasExited() -> Bool {
        if reaped || reapedElsewhere { return true }
        var info = siginfo_t()
        while true {
            let code = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
            if code == 0 { return info.si_signo == SIGCHLD }  // Linux leaves si_signo 0 when nothing is waitable.
            if errno == EINTR { continue }
            reapedElsewhere = true  // ECHILD: nothing left to wait for, and nothing safe to signal.
            return true
        }
    }

    private func signalGroup(_ signal: Int32) {
        guard !reapedElsewhere else { return }
        // The group reaches the program's children; the pid itself reaches a program that left its group.
        killpg(pid, signal)
        kill(pid, signal)
    }

    private func enforceKillDeadline() {
        guard stopRequested, !sentKill, let killDeadline, ContinuousClock.now >= killDeadline else { return }
        sentKill = true
        signalGroup(SIGKILL)
        logger.info("trial outlived its stop grace; killed", metadata: ["trial": "\(folder.trialID)"])
    }

    private func finish() async {
        // Whatever the program left running in its group goes with it; only then is the leader reaped.
        var termination = TerminationStatus.unknown
        if !reapedElsewhere {
            killpg(pid, SIGKILL)
            var status: Int32 = 0
            var reapedPID: pid_t
            repeat { reapedPID = waitpid(pid, &status, 0) } while reapedPID < 0 && errno == EINTR
            if reapedPID == pid { termination = Spawn.termination(status) }
        }
        reaped = true
        poll()
        if discardingLongLine || !pending.isEmpty {
            continuation.yield(refused(parser.incompleteFinalLine()))
            pending.removeAll()
        }
        close(metricsFD)
        metricsFD = -1
        // The pipes end when the last holder exits; a process that escaped the group may hold them
        // open, so the tail is taken after a bounded wait rather than at end of file.
        var waited = 0
        while !(stdoutCapture.isFinished && stderrCapture.isFinished), waited < 250 {
            try? await Task.sleep(for: .milliseconds(20))
            waited += 1
        }
        let exit = outcome(termination)
        logger.debug("trial ended", metadata: ["trial": "\(folder.trialID)", "status": "\(termination)", "exit": "\(exit)"])
        result = exit
        continuation.finish()
        for waiter in waiters { waiter.resume(returning: exit) }
        waiters.removeAll()
    }

    private func outcome(_ termination: TerminationStatus) -> TrialExit {
        if stopRequested { return .stopped(killed: sentKill) }
        if termination == .exited(0) { return .completed }
        let tail = stderrCapture.lastLines(launch.failureTailLines)
        let reason = tail.isEmpty ? "the program ended with \(termination) and wrote nothing to stderr" : tail.joined(separator: "\n")
        return .failed(reason: reason, status: termination)
    }
}
