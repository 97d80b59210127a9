import Foundation
import Logging
import ThresherNet
import ThresherWire

/// A worker: connects to the coordinator, keeps `slots` trials running, reports their metrics and
/// acts on the coordinator's verdicts (docs/worker.md).
///
/// Guarantees:
/// - Each trial's metrics go out in Reports numbered 1, 2, … in the order the program wrote them;
///   a Report is kept until an Ack covers its seq and is resent, unchanged and in order, after any
///   failed exchange (timeout, coordinator restart, unexpected reply). The coordinator is
///   idempotent on (trial, seq), so nothing is lost and nothing is stored twice.
/// - Nothing the coordinator sends can crash the agent: an unexpected reply or an `Error` is
///   logged and the request retried with backoff; a bad `Assign` is answered with
///   `Failed("bad assignment: …")` and the agent goes on.
/// - A trial ended by a `stop` verdict, a stale lease or the agent's own cancellation sends no
///   Done or Failed (only its pending Reports, for a stop verdict); a trial that ended by itself
///   sends exactly one Done or Failed, after all its Reports were acknowledged.
/// - Checkpoints are deleted only once the coordinator had its chance to ask for them (see `prune`).
/// - `run()` returns after cancellation (every trial program stopped and reaped) or after
///   `drain()` once every running trial has ended and been reported.
public actor WorkerAgent {
    public nonisolated let options: WorkerOptions
    let client: ClusterClient
    let logger: Logger
    /// Trials this worker holds, by trial id: running, or finishing their reports and uploads.
    var trials: [UInt64: AgentTrial] = [:]
    var drivers: [UInt64: Task<Void, Never>] = [:]
    var draining = false
    var heartbeatEvery: Duration = .seconds(5)
    private var welcome: Welcome?
    private var started = false

    public init(options: WorkerOptions) throws(NetError) {
        self.options = options
        self.logger = options.logger
        self.client = try ClusterClient(
            connect: options.coordinatorURL, token: options.token,
            identity: WorkerIdentity(workerID: options.workerID, slots: UInt16(options.slots), capabilities: options.capabilities),
            transport: options.transport)
    }

    /// The trials held now, with their lease epoch and last reported step.
    public var heldTrials: [HeldTrial] {
        trials.values.filter { !$0.forgotten }.sorted { $0.trialID < $1.trialID }
            .map { HeldTrial(trialID: $0.trialID, leaseEpoch: $0.leaseEpoch, step: $0.lastStep) }
    }

    /// The Welcome of the first handshake, once connected.
    public var session: Welcome? { welcome }

    /// Stops asking for trials; `run()` returns once the running ones have ended and been reported.
    public func drain() {
        draining = true
    }

    /// Runs the worker until the calling task is cancelled or, after `drain()`, no trial is left.
    /// Call it once per agent; a second call returns at once.
    public func run() async {
        // One loop per agent: a second one would ask for work for the same slots.
        guard !started else {
            logger.error("WorkerAgent.run() called twice; the second call returns at once")
            return
        }
        started = true
        guard let welcome = await connect() else {
            await shutdown()
            return
        }
        self.welcome = welcome
        heartbeatEvery = options.heartbeatInterval ?? .milliseconds(max(100, Int(welcome.heartbeatIntervalMs)))
        logger.info("connected to \(options.coordinatorURL) as \(options.workerID) (session \(welcome.sessionID))")
        let heartbeat = Task { await self.heartbeatLoop() }
        await assignLoop()
        heartbeat.cancel()
        await shutdown()
        client.close()
    }

    // MARK: - Connecting and asking for work

    /// Handshakes until it works: the coordinator may not be up yet. Nil only when cancelled.
    private func connect() async -> Welcome? {
        var delay = options.retryMin
        while !Task.isCancelled {
            do {
                return try await client.handshake(timeout: options.requestTimeout)
            } catch {
                logger.warning("handshake with \(options.coordinatorURL) failed: \(error); retrying in \(delay)")
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, options.retryMax)
        }
        return nil
    }

    private func assignLoop() async {
        var delay = options.retryMin
        while !Task.isCancelled {
            let free = options.slots - trials.count
            if draining {
                if trials.isEmpty { return }
                try? await Task.sleep(for: options.idlePoll)
                continue
            }
            guard free > 0 else {
                try? await Task.sleep(for: options.idlePoll)
                continue
            }
            let reply: Message
            do {
                reply = try await client.send(.requestTrial(RequestTrial(freeSlots: UInt16(free))), timeout: options.requestTimeout)
            } catch {
                logger.warning("RequestTrial failed: \(error); retrying in \(delay)")
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, options.retryMax)
                continue
            }
            switch reply {
            case .assign(let assign):
                delay = options.retryMin
                await accept(assign)
            case .noWork(let noWork):
                delay = options.retryMin
                try? await Task.sleep(for: .milliseconds(max(1, Int(noWork.retryAfterMs))))
            case .error(let error):
                logger.warning("RequestTrial answered with \(error.code): \(error.detail); retrying in \(delay)")
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, options.retryMax)
            default:
                logger.warning("RequestTrial answered with \(reply.type), expected Assign or NoWork; retrying in \(delay)")
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, options.retryMax)
            }
        }
    }

    /// Starts the assigned trial, or answers Failed when the assignment cannot be run.
    private func accept(_ assign: Assign) async {
        if let held = trials[assign.trialID] {
            // A repeated Assign (our RequestTrial resent after a lost reply) must not start it twice.
            logger.warning("trial \(assign.trialID) assigned again (epoch \(assign.leaseEpoch), held with \(held.leaseEpoch)); ignored")
            return
        }
        let spec: RunSpec
        let folder: TrialFolder
        do {
            spec = try RunSpec(run: assign.run)
            folder = try TrialFolder(base: options.baseFolder, trialID: "trial-\(assign.trialID)")
        } catch let error as RunSpecError {
            return await reportUnstartable(assign, reason: "bad assignment: \(error)")
        } catch {
            return await reportUnstartable(assign, reason: "bad assignment: \(error)")
        }
        let keepAlive = ResumeDownload.KeepAlive(
            trial: HeldTrial(trialID: assign.trialID, leaseEpoch: assign.leaseEpoch, step: -1), every: heartbeatEvery,
            verdicts: { verdicts in await self.apply(verdicts) })
        var resume: String?
        if let point = assign.resumeFrom {
            // Hashing a large local checkpoint takes seconds: off the actor (heartbeats of the other
            // trials go on), with the new trial's own lease kept alive meanwhile — it is not in
            // `trials` yet, so the heartbeat loop does not name it.
            let beating = Task { [client, options] in await ResumeDownload.beat(keepAlive, client: client, timeout: options.requestTimeout) }
            resume = await Task.detached { [logger] in Self.resumePath(point, folder: folder, logger: logger) }.value
            beating.cancel()
        }
        if resume == nil, let point = assign.resumeFrom {
            // The trial ran elsewhere before: bring the coordinator's copy over (digest-checked).
            do {
                resume = try await ResumeDownload(client: client, timeout: options.requestTimeout, keepAlive: keepAlive)
                    .fetch(point, into: folder)
                logger.info("trial \(assign.trialID): downloaded the coordinator's step-\(point.step) checkpoint (\(point.byteCount) bytes)")
            } catch {
                logger.warning("trial \(assign.trialID): cannot download the step-\(point.step) checkpoint (\(error)); starting from the beginning")
            }
        }
        let launch = TrialLaunch(
            argv: spec.programArgv(thresherExecutable: options.thresherExecutable), sweepID: String(assign.sweepID),
            seed: spec.seed, resumeFrom: resume, threads: options.threadsPerSlot, baseEnvironment: options.environment,
            workingDirectory: options.workingDirectory, stopGrace: options.stopGrace, pollInterval: options.pollInterval)
        let process: TrialProcess
        do {
            // TrialFolder creates only the trial's own level; the base may not exist yet.
            try FileManager.default.createDirectory(atPath: options.baseFolder, withIntermediateDirectories: true)
            process = try TrialProcess.start(launch, in: folder, logger: logger)
        } catch {
            return await reportUnstartable(assign, reason: "cannot start the trial program: \(error)")
        }
        logger.info("trial \(assign.trialID) started (sweep \(spec.sweepName), pid \(process.pid)\(resume.map { ", resuming from \($0)" } ?? ""))")
        let trial = AgentTrial(assign: assign, firstSeq: spec.firstSeq, process: process, folder: folder)
        trials[assign.trialID] = trial
        drivers[assign.trialID] = Task { await self.drive(trial) }
    }

    private func reportUnstartable(_ assign: Assign, reason: String) async {
        logger.error("trial \(assign.trialID): \(reason)")
        let failed = Failed(trialID: assign.trialID, leaseEpoch: assign.leaseEpoch, reason: reason, exitCode: nil)
        _ = await exchange(.failed(failed), trial: nil, what: "Failed") { if case .ack(let a) = $0 { a } else { nil } }
    }

    /// The local checkpoint to resume from: the trial folder's own `step-<step>.safetensors`, only
    /// when its SHA-256 and size are the coordinator's. Nil otherwise: the caller downloads it.
    static func resumePath(_ point: ResumePoint?, folder: TrialFolder, logger: Logger) -> String? {
        guard let point, point.step >= 0, point.step <= Int64(MetricLineParser.maxStep),
              let checkpoint = folder.checkpoint(step: Int(point.step)) else {
            return nil
        }
        guard let file = try? CheckpointFile(folder: folder, step: checkpoint.step), file.size == point.byteCount, file.digest == point.digest else {
            logger.warning("trial \(folder.trialID): local step-\(point.step) differs from the coordinator's; using the coordinator's copy")
            return nil
        }
        return checkpoint.path
    }

    // MARK: - Heartbeats and verdicts

    private func heartbeatLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: heartbeatEvery)
            if Task.isCancelled { return }
            let held = heldTrials
            do {
                let reply = try await client.send(.heartbeat(Heartbeat(trials: held)), timeout: options.requestTimeout)
                switch reply {
                case .ack(let ack): apply(ack.verdicts)
                case .error(let error): logger.warning("Heartbeat answered with \(error.code): \(error.detail)")
                default: logger.warning("Heartbeat answered with \(reply.type), expected Ack")
                }
            } catch {
                if Task.isCancelled { return }  // the agent is stopping; not a coordinator problem
                // The next beat is the retry: a late heartbeat is still a heartbeat.
                logger.warning("Heartbeat failed: \(error)")
            }
        }
    }

    /// Acts on verdicts from any Ack. Verdicts for trials this worker does not hold are ignored.
    func apply(_ verdicts: [TrialVerdict]) {
        for verdict in verdicts {
            guard let trial = trials[verdict.trialID], !trial.forgotten else {
                if verdict.verdict != .proceed { logger.debug("verdict for trial \(verdict.trialID), which this worker does not hold") }
                continue
            }
            switch verdict.verdict {
            case .proceed:
                break
            case .stop(let reason):
                guard !trial.stopRequested else { continue }
                trial.stopRequested = true
                logger.info("trial \(trial.trialID): stop verdict (\(reason))")
                let process = trial.process, grace = options.stopGrace
                Task { await process.stop(grace: grace) }
            case .upload(let step):
                requestUpload(trial, step: step)
            }
        }
    }

    /// Drops a trial whose lease the coordinator no longer honours: its program is stopped and
    /// nothing more is sent about it (another worker may hold it now).
    func lose(_ trial: AgentTrial, _ error: ErrorReply) {
        guard !trial.forgotten else { return }
        trial.forgotten = true
        logger.warning("trial \(trial.trialID): coordinator answered \(error.code) (\(error.detail)); stopping and forgetting it")
        let process = trial.process, grace = options.stopGrace
        Task { await process.stop(grace: grace) }
    }

    // MARK: - Exchanges

    enum Outcome<T> {
        case reply(T)
        /// The coordinator answered staleLease or unknownTrial: the trial is not this worker's any more.
        case lost(ErrorReply)
        /// Cancelled, or the trial was forgotten meanwhile.
        case gaveUp
    }

    /// Sends `message` until `accept` takes the reply: transport errors, `Error` replies other than
    /// a lost lease, and unexpected reply types are logged and retried with backoff.
    func exchange<T>(_ message: Message, trial: AgentTrial?, what: String, _ accept: (Message) -> T?) async -> Outcome<T> {
        var delay = options.retryMin
        var failures = 0
        while !Task.isCancelled, !(trial?.forgotten ?? false) {
            do {
                let reply = try await client.send(message, timeout: options.requestTimeout)
                if let value = accept(reply) { return .reply(value) }
                if case .error(let error) = reply {
                    // Every exchange is about one trial: retrying a lost lease would never succeed.
                    if error.code == .staleLease || error.code == .unknownTrial { return .lost(error) }
                    logger.warning("\(what) answered with \(error.code): \(error.detail); retrying in \(delay)")
                } else {
                    logger.warning("\(what) answered with an unexpected \(reply.type); retrying in \(delay)")
                }
            } catch {
                failures += 1
                // The first failure and then every tenth: a coordinator restart must not flood the log.
                if failures == 1 || failures.isMultiple(of: 10) {
                    logger.warning("\(what) failed (\(failures) times): \(error); retrying")
                }
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, options.retryMax)
        }
        return .gaveUp
    }

    // MARK: - Shutting down

    /// After cancellation: stops every program (SIGTERM, SIGKILL after the grace) and waits for
    /// the drivers, which send nothing more — the coordinator requeues the trials when the lease ends.
    private func shutdown() async {
        for trial in trials.values { trial.shuttingDown = true }
        let processes = trials.values.map(\.process)
        let grace = options.stopGrace
        await withTaskGroup(of: Void.self) { group in
            for process in processes { group.addTask { await process.stop(grace: grace) } }
        }
        let running = Array(drivers.values)
        for driver in running { driver.cancel() }
        // Uploaders are tasks of their own: a driver waiting for one would wait for ever otherwise.
        for trial in trials.values { trial.uploader?.cancel() }
        for driver in running { await driver.value }
    }
}
