import Foundation
import XCTest

/// The soak: many short checkpointing trials on a real coordinator and real workers while a seeded
/// schedule injects a fault every few seconds (worker and coordinator SIGKILL with restart, every
/// connection cut, stalls, delay bursts, and — where network namespaces are permitted — packet-loss
/// bursts on a worker host in its own namespace, with the coordinator in another). Runs only when `THRESHER_SOAK_SECONDS` is set (the
/// seconds of faults; the trial count scales with it: about 1,000 for 600 s); `scripts/soak SECONDS`
/// runs it. `THRESHER_SOAK_SEED` picks the fault sequence (default 1).
///
/// At the end it prints faults by kind, trials completed, metrics stored, duplicates, lost values,
/// checkpoints lost and peak storage against the budget, and asserts the zeros.
final class SoakTests: XCTestCase {
    static let workerCount = 4
    static let budget = 60_000

    func testSoak() throws {
        guard let text = ProcessInfo.processInfo.environment["THRESHER_SOAK_SECONDS"], let seconds = Double(text), seconds > 0 else {
            throw XCTSkip("soak: set THRESHER_SOAK_SECONDS (e.g. 60) to run it, or use scripts/soak SECONDS")
        }
        let seed = UInt64(ProcessInfo.processInfo.environment["THRESHER_SOAK_SEED"] ?? "") ?? 1
        // ~1.7 trials per second of faults, a multiple of 10 so that x = 0.3 is on the grid.
        let trialCount = max(50, Int(seconds * 1.7) / 10 * 10)
        let xs = (0..<trialCount).map { Double($0) / Double(trialCount) }
        // Where namespaces are permitted: the coordinator on host 1, the last worker on host 2 (dialing
        // it directly, so packet loss can hit it), the others through the proxy from here.
        let hosts = try? NetnsHosts(count: 2, for: self)
        if hosts == nil { print("soak: network namespaces not permitted here; no packet-loss faults") }
        try hosts?.reachFromHere()
        let cluster = try NetworkFaultCluster(for: self, xs: xs, steps: 10, pause: 0.15, leaseTimeout: 3,
                                              maxBytes: Self.budget, proxySeed: seed,
                                              coordinatorHost: hosts?.address(1) ?? "127.0.0.1", coordinatorNamespace: hosts?.name(1))
        try cluster.startCoordinator()
        let ids = (1...Self.workerCount).map { "w\($0)" }
        let lossHostWorker = hosts == nil ? nil : ids.last
        func startWorker(_ id: String) throws {
            if let hosts, id == lossHostWorker {
                try cluster.startWorker(id, url: cluster.coordinatorURL, namespace: hosts.name(2))
            } else {
                try cluster.startWorker(id)
            }
        }
        for id in ids { try startWorker(id) }
        let observer = StoragePeakObserver(state: cluster.state)
        defer { observer.stop() }

        var schedule = SoakFaultSchedule(seed: seed, packetLoss: hosts != nil)
        var injected: [SoakFaultSchedule.Kind: Int] = [:]
        var droppedPackets = 0
        let start = Date()
        var finished = false
        while Date().timeIntervalSince(start) < seconds && !finished {
            Thread.sleep(forTimeInterval: schedule.nextPause())
            let kind = schedule.nextKind()
            injected[kind, default: 0] += 1
            switch kind {
            case .workerKill:
                let id = ids[schedule.index(below: ids.count)]
                if let process = cluster.workers[id] { cluster.kill9(process) }
                Thread.sleep(forTimeInterval: schedule.duration(0.2, 1.5))
                try startWorker(id)
            case .coordinatorKill:
                if let process = cluster.coordinator { cluster.kill9(process) }
                Thread.sleep(forTimeInterval: schedule.duration(0.2, 1.5))
                try cluster.startCoordinator()
            case .connectionCut:
                cluster.proxy.cutAll()
            case .stall:
                cluster.proxy.stall(true)
                Thread.sleep(forTimeInterval: schedule.duration(0.5, 2))
                cluster.proxy.stall(false)
            case .delayBurst:
                cluster.proxy.delay(milliseconds: 100, jitter: 80)
                Thread.sleep(forTimeInterval: schedule.duration(1, 4))
                cluster.proxy.delay(milliseconds: 0)
            case .packetLoss:
                guard let hosts else { break }
                try hosts.loss(2, probability: schedule.duration(0.1, 0.3))
                Thread.sleep(forTimeInterval: schedule.duration(2, 6))
                droppedPackets += hosts.droppedPackets(2)
                try hosts.heal(2)
            }
            finished = cluster.status()?["state"] as? String == "finished"
        }
        let faultSeconds = Date().timeIntervalSince(start)
        // No more faults: the sweep must now finish on its own.
        let status = cluster.waitUntilFinished(timeout: max(300, seconds))
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(status?["state"] as? String, "finished", "the sweep did not finish\n" + cluster.allLogs())

        let trials = status?["trials"] as? [[String: Any]] ?? []
        var attempts: [Int: Int] = [:]
        for trial in trials { if let id = trial["trial"] as? Int { attempts[id] = trial["attempts"] as? Int ?? 1 } }
        let ledger = MetricLedger(rows: try cluster.exportedRows(), steps: cluster.steps, attempts: attempts)
        let checkpoints = CheckpointAudit(cluster: cluster)
        let peak = observer.stop()
        let expectedBest = xs.min { abs($0 - 0.3) < abs($1 - 0.3) }

        var report = ["soak: seed \(seed), \(Int(faultSeconds)) s of faults, \(Int(elapsed)) s in all, \(Self.workerCount) workers, \(trialCount) trials of \(cluster.steps) steps"]
        report.append("faults injected: \(injected.values.reduce(0, +))")
        for kind in SoakFaultSchedule.Kind.allCases { report.append("  \(kind.rawValue): \(injected[kind] ?? 0)") }
        report.append("proxy: \(cluster.proxy.accepted) connections accepted, \(cluster.proxy.cuts) cut")
        if hosts != nil { report.append("netns: \(droppedPackets) packets dropped on worker host 2 (w\(Self.workerCount))") }
        report.append("trials completed: \(ledger.completedTrials) of \(trialCount) (\(trials.filter { ($0["attempts"] as? Int ?? 0) > 0 }.count) ran more than once)")
        report.append("metrics stored: \(ledger.storedValues) values (\(ledger.redone) redone after a resume, each identical)")
        report.append("duplicates: \(ledger.duplicates)")
        report.append("lost: \(ledger.lost)")
        report.append("checkpoint announcements missing: \(ledger.unannounced)")
        report.append("wrong values: \(ledger.wrongValues)")
        report.append("checkpoints lost: \(checkpoints.lost) (of \(checkpoints.checked) kept checkpoints fetched and verified)")
        report.append("peak storage: \(peak) of \(Self.budget) bytes budget over \(observer.observations) observations")
        report.append("best trial: x = \(ledger.bestX.map { String($0) } ?? "none") (fault-free: \(expectedBest.map { String($0) } ?? "none"))")
        print(report.joined(separator: "\n"))

        let problems = (ledger.problems.prefix(30) + checkpoints.problems).joined(separator: "\n")
        XCTAssertEqual(ledger.completedTrials, trialCount, problems)
        XCTAssertEqual(ledger.duplicates, 0, problems)
        XCTAssertEqual(ledger.lost, 0, problems)
        XCTAssertEqual(ledger.unannounced, 0, problems)
        XCTAssertEqual(ledger.wrongValues, 0, problems)
        XCTAssertEqual(checkpoints.lost, 0, problems)
        XCTAssertLessThanOrEqual(peak, Self.budget)
        XCTAssertEqual(ledger.bestX, expectedBest)
        XCTAssertGreaterThan(injected.values.reduce(0, +), 0, "no fault was injected")
    }
}

/// Samples the bytes a state folder holds in `blobs/` and `uploads/` every few milliseconds on its
/// own thread and keeps the largest; `stop()` ends it and returns that peak.
final class StoragePeakObserver: @unchecked Sendable {
    // @unchecked: `peak`, `observations` and `running` are guarded by `lock`.
    private let lock = NSLock()
    private var running = true
    private var peakBytes = 0
    private(set) var observations = 0

    init(state: String) {
        Thread.detachNewThread { [self] in
            while true {
                let held = RetentionChurnTests.files(under: state + "/blobs") + RetentionChurnTests.files(under: state + "/uploads")
                let bytes = held.reduce(0) { $0 + $1.bytes }
                lock.lock()
                peakBytes = max(peakBytes, bytes)
                observations += 1
                let go = running
                lock.unlock()
                if !go { return }
                Thread.sleep(forTimeInterval: 0.01)
            }
        }
    }

    @discardableResult
    func stop() -> Int {
        lock.lock(); defer { lock.unlock() }
        running = false
        return peakBytes
    }
}

/// The checkpoints the sweep keeps at the end, fetched (each checked against its SHA-256 by
/// `thresher fetch`): `lost` counts those that could not be fetched intact.
struct CheckpointAudit {
    var checked = 0
    var lost = 0
    var problems: [String] = []

    init(cluster: NetworkFaultCluster) {
        let out = cluster.folder + "/audit"
        guard let fetch = try? ThresherProcess.run(["fetch", "net", "--state", cluster.state, "--best", "2", "--out", out]) else {
            lost = 1; problems = ["fetch did not run"]; return
        }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []).filter { $0.hasSuffix(".safetensors") }
        checked = files.count
        if fetch.status != 0 || files.count != 2 {
            lost = max(1, 2 - files.count)
            problems.append("fetch --best 2: status \(fetch.status), \(files.count) files: \(fetch.stderr)")
        }
    }
}
