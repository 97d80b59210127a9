import Foundation
import XCTest

/// The soak: many short checkpointing trials on a real coordinator and real workers while a seeded
/// schedule injects a fault every few seconds (worker and coordinator SIGKILL with restart, every
/// connection cut, stalls shorter and longer than the lease, refused connections, delay bursts, and — where network namespaces are permitted —
/// packet-loss bursts on a worker host in its own namespace, with the coordinator in another).
/// Runs only when `THRESHER_SOAK_SECONDS` is set (the seconds of faults; the trial count scales
/// with it: about 1,000 for 600 s); `scripts/soak SECONDS` runs it. `THRESHER_SOAK_SEED` picks the
/// fault sequence (default 1).
///
/// At the end it prints faults by kind, trials completed, metrics stored, duplicates, lost values,
/// checkpoints lost and peak storage against the budget, and asserts the zeros.
final class SoakTests: XCTestCase {
    static let workerCount = 4
    // Six 2 KB checkpoints: four running trials' latest copies and the top 2 fill it, so uploads are
    // refused or displace others while faults hit.
    static let budget = 12_288
    // A fault that can cost leases comes every few seconds, far more often than on any real network;
    // with the default 3 a trial now and then used up its runs on injected faults and was failed,
    // as designed. The soak is about what is stored, so trials get enough runs to finish.
    static let maxAttempts = 20

    func testSoak() throws {
        guard let text = ProcessInfo.processInfo.environment["THRESHER_SOAK_SECONDS"], let seconds = Double(text), seconds > 0 else {
            throw XCTSkip("soak: set THRESHER_SOAK_SECONDS (e.g. 60) to run it, or use scripts/soak SECONDS")
        }
        let seed = UInt64(ProcessInfo.processInfo.environment["THRESHER_SOAK_SEED"] ?? "") ?? 1
        // ~1.7 trials per second of faults: about 1,000 in 10 minutes.
        let trialCount = max(50, Int(seconds * 1.7))
        let leaseTimeout = 3.0
        // Where namespaces are permitted: the coordinator on host 1, the last worker on host 2 (dialing
        // it directly, so packet loss can hit it), the others through the proxy from here.
        let hosts = try? NetnsHosts(count: 2, for: self)
        if hosts == nil { print("soak: network namespaces not permitted here; no packet-loss faults") }
        try hosts?.reachFromHere()
        let cluster = try NetworkFaultCluster(for: self, ranks: trialCount, steps: 10, pause: 0.15, leaseTimeout: leaseTimeout,
                                              maxBytes: Self.budget, maxAttempts: Self.maxAttempts, proxySeed: seed,
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
        let observer = StorageObserver(stateDirectory: cluster.state, budget: Self.budget)
        defer { _ = observer.stop() }

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
            case .partition:
                cluster.proxy.stall(true)
                Thread.sleep(forTimeInterval: schedule.duration(leaseTimeout + 1, leaseTimeout + 3))
                cluster.proxy.stall(false)
            case .refuse:
                cluster.proxy.refuse(true)
                cluster.proxy.cutAll()
                Thread.sleep(forTimeInterval: schedule.duration(1, 3))
                cluster.proxy.refuse(false)
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

        let storage = observer.stop()
        let invariants = try FaultInvariants.check(state: cluster.state, sweepName: "net", budget: Self.budget, storage: storage,
                                                   expectedBest: ["rank": 0], recordFailures: false)
        let unannounced = try CheckpointAnnouncements.missing(state: cluster.state, sweepName: "net")
        let lost = invariants.violations.filter { $0.contains("lost steps") }
        let checkpointsLost = invariants.violations.filter { $0.contains("stored checkpoint") }
        let completed = invariants.trialStates[.completed] ?? 0

        var report = ["soak: seed \(seed), \(Int(faultSeconds)) s of faults, \(Int(elapsed)) s in all, \(Self.workerCount) workers, \(trialCount) trials of \(cluster.steps) steps"]
        report.append("faults injected: \(injected.values.reduce(0, +))")
        for kind in SoakFaultSchedule.Kind.allCases { report.append("  \(kind.rawValue): \(injected[kind] ?? 0)") }
        report.append("proxy: \(cluster.proxy.accepted) connections accepted, \(cluster.proxy.cuts) cut")
        if hosts != nil { report.append("netns: \(droppedPackets) packets dropped on worker host 2 (w\(Self.workerCount))") }
        let states = invariants.trialStates.filter { $0.key != .completed }.map { "\($0.value) \($0.key.rawValue)" }.sorted()
        report.append("trials completed: \(completed) of \(trialCount)\(states.isEmpty ? "" : " (" + states.joined(separator: ", ") + ")"); \(invariants.assignments) assignments (\(invariants.assignments - invariants.trials) after a lost lease)")
        report.append("metrics stored: \(invariants.pointsStored) values of loss (\(invariants.distinctSteps) steps, \(invariants.redoneSteps) redone after a resume, each identical)")
        report.append("duplicates: \(invariants.duplicates)")
        report.append("lost: \(lost.count) trials with lost steps")
        report.append("checkpoint announcements missing: \(unannounced.count)")
        report.append("checkpoints lost: \(checkpointsLost.count) (\(invariants.checkpointsVerified) of \(invariants.checkpointsStored) kept checkpoints verified against their digests)")
        report.append("peak storage: \(storage.peakBytes) of \(Self.budget) bytes budget over \(storage.observations) observations (\(storage.unsettled) given up: the folder kept changing)")
        report.append("best trial: \(invariants.bestTrialParams.map { "rank \(Int($0["rank"] ?? -1))" } ?? "none") (fault-free: rank 0)")
        report.append("invariant violations: \(invariants.violations.count)")
        print(report.joined(separator: "\n"))

        for violation in invariants.violations.prefix(30) { XCTFail("invariant: \(violation)") }
        XCTAssertEqual(completed, trialCount, cluster.allLogs().suffix(20_000).description)
        XCTAssertEqual(invariants.duplicates, 0)
        XCTAssertEqual(lost, [])
        XCTAssertEqual(checkpointsLost, [])
        XCTAssertEqual(unannounced, [])
        XCTAssertLessThanOrEqual(storage.peakBytes, Self.budget)
        XCTAssertGreaterThan(injected.values.reduce(0, +), 0, "no fault was injected")
    }
}
