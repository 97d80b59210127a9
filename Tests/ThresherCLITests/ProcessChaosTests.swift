import Foundation
import ThresherStore
import ThresherSweep
import XCTest

/// The slow variant (THRESHER_FAULTS_LONG=1): a 24-trial hyperband sweep on three workers while
/// workers and the coordinator are SIGKILLed at seeded random moments (THRESHER_FAULTS_SEED,
/// default 7) and started again; then every invariant. Figures in docs/reliability.md.
final class ProcessChaosTests: XCTestCase {
    func testSeededRandomKillsOfWorkersAndCoordinatorKeepEveryInvariant() throws {
        let environment = ProcessInfo.processInfo.environment
        guard environment["THRESHER_FAULTS_LONG"] == "1" else {
            throw XCTSkip("set THRESHER_FAULTS_LONG=1 for the random process-fault run (a few minutes)")
        }
        let seed = UInt64(environment["THRESHER_FAULTS_SEED"] ?? "") ?? 7
        var rng = SeededGenerator(seed: seed)
        let budget = 400_000
        let ranks = Array(0 ..< 24).shuffled(using: &rng)
        let cluster = try FaultCluster(self, sweep: FaultCluster.sweepText(
            ranks: ranks, steps: 16, pause: 0.12, checkpointBytes: 20_000,
            retention: "{keep_top_k: 3, keep_top_k_per_trial: 1, keep_latest_per_trial: true, max_bytes: \(budget)}"))
        cluster.leaseTimeout = 4
        var coordinator = try cluster.startCoordinator()
        var workers: [Process] = []
        var started = 0
        func startWorker() throws {
            started += 1
            workers.append(try cluster.startWorker("w\(started)"))
        }
        for _ in 0 ..< 3 { try startWorker() }
        let observer = StorageObserver(stateDirectory: cluster.state, budget: budget)
        var faults: [String: Int] = [:]
        let deadline = Date().addingTimeInterval(300)
        var finished = false
        while !finished && Date() < deadline {
            Thread.sleep(forTimeInterval: Double.random(in: 1 ... 3, using: &rng))
            switch Int.random(in: 0 ..< 10, using: &rng) {
            case 0 ..< 5:
                // A worker dies; another (new id) takes its place.
                let victim = workers.remove(at: Int.random(in: 0 ..< workers.count, using: &rng))
                cluster.kill(victim)
                try startWorker()
                faults["worker SIGKILL", default: 0] += 1
            case 5 ..< 7:
                cluster.kill(coordinator)
                Thread.sleep(forTimeInterval: 0.3)
                coordinator = try cluster.startCoordinator()
                faults["coordinator SIGKILL", default: 0] += 1
            default:
                break
            }
            finished = cluster.waitForFinish(timeout: 0.1)
        }
        if !finished { finished = cluster.waitForFinish(timeout: 120) }
        let seen = observer.stop()
        cluster.stopAll()
        XCTAssertTrue(finished, cluster.logs())
        let report = try FaultInvariants.check(state: cluster.state, budget: budget, storage: seen, expectedBest: ["rank": 0])
        print("random process faults (seed \(seed)): \(faults.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")); \(report)")
        XCTAssertEqual(report.trialStates[.failed] ?? 0, 0, "no trial ran out of attempts")
        XCTAssertEqual(report.orphanBlobs, 0, "each restart deletes the blobs a crash left unaccounted for")
    }
}
