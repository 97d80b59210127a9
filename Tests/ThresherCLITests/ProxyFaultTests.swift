import Foundation
import XCTest

/// Network faults between real workers and a real coordinator, injected by `FaultProxy`: delay and
/// jitter on every chunk, and every connection cut (and held) mid-sweep. Each test ends with the
/// invariant checker, and since no lease is lost here, with every step stored exactly once.
final class ProxyFaultTests: XCTestCase {
    func testSweepThroughDelayAndJitterCompletesWithEveryValueOnce() throws {
        let cluster = try NetworkFaultCluster(for: self, ranks: 6, steps: 6, pause: 0.05, leaseTimeout: 6, proxySeed: 11)
        cluster.proxy.delay(milliseconds: 50, jitter: 40)
        try cluster.startCoordinator()
        try cluster.startWorker("w1")
        try cluster.startWorker("w2")
        let status = cluster.waitUntilFinished(timeout: 240)
        XCTAssertEqual(status?["state"] as? String, "finished", cluster.allLogs())
        try checkEveryValueOnce(cluster)
        XCTAssertGreaterThan(cluster.proxy.forwardedBytes, 0, "nothing went through the proxy")
    }

    func testCutAndStalledConnectionsLoseAndDuplicateNothing() throws {
        let cluster = try NetworkFaultCluster(for: self, ranks: 6, steps: 16, pause: 0.1, leaseTimeout: 6, proxySeed: 12)
        cluster.proxy.delay(milliseconds: 5, jitter: 5)
        try cluster.startCoordinator()
        try cluster.startWorker("w1")
        try cluster.startWorker("w2")
        // Every second: alternately cut every connection, or hold all bytes for a second (shorter
        // than the lease) and then cut — so Reports are lost on the wire after being sent, and
        // Acks are lost after the coordinator stored the Report.
        var round = 0
        var cutsWhileRunning = 0
        let status = cluster.waitUntilFinished(timeout: 240, every: 1) {
            round += 1
            guard round <= 12 else { return }
            if round % 2 == 0 {
                cluster.proxy.stall(true)
                Thread.sleep(forTimeInterval: 1)
                cutsWhileRunning += cluster.proxy.cutAll()
                cluster.proxy.stall(false)
            } else {
                cutsWhileRunning += cluster.proxy.cutAll()
            }
        }
        XCTAssertEqual(status?["state"] as? String, "finished", cluster.allLogs())
        XCTAssertGreaterThan(cutsWhileRunning, 4, "too few connections were cut to test anything")
        XCTAssertGreaterThan(cluster.proxy.accepted, 2, "the workers never reconnected")
        try checkEveryValueOnce(cluster)
    }

    /// Checkpoints of 2.5 MB go up in three 1 MiB chunks over a slow link (40 ± 30 ms per chunk of
    /// bytes) while every connection is cut every 0.7 s: uploads resume from the coordinator's
    /// `nextOffset` on the new connection, and every stored checkpoint matches its digest.
    func testMultiChunkUploadsSurviveCutConnections() throws {
        let cluster = try NetworkFaultCluster(for: self, ranks: 3, steps: 5, pause: 0.2, leaseTimeout: 8,
                                              maxBytes: 40_000_000, checkpointBytes: 2_500_000, proxySeed: 13)
        cluster.proxy.delay(milliseconds: 40, jitter: 30)
        try cluster.startCoordinator()
        try cluster.startWorker("w1")
        try cluster.startWorker("w2")
        var cuts = 0
        let status = cluster.waitUntilFinished(timeout: 300, every: 0.7) { cuts += cluster.proxy.cutAll() }
        XCTAssertEqual(status?["state"] as? String, "finished", cluster.allLogs())
        XCTAssertGreaterThan(cuts, 4, "too few connections were cut to test anything")
        let report = try cluster.checkInvariants()
        print("multi-chunk uploads through cuts: \(report); \(cuts) connections cut")
        XCTAssertEqual(report.trialStates[.completed], cluster.ranks, cluster.allLogs())
        XCTAssertGreaterThan(report.checkpointsVerified, 0, "no checkpoint was stored")
        XCTAssertEqual(report.checkpointsVerified, report.checkpointsStored)
        let fetch = try ThresherProcess.run(["fetch", "net", "--state", cluster.state, "--best", "1", "--out", cluster.folder + "/best"])
        XCTAssertEqual(fetch.status, 0, fetch.stderr)
    }

    /// The invariants hold, every trial completed, and nothing was redone (no lease was lost, so
    /// every step is stored exactly once); the best checkpoints fetch intact.
    private func checkEveryValueOnce(_ cluster: NetworkFaultCluster, file: StaticString = #filePath, line: UInt = #line) throws {
        let report = try cluster.checkInvariants(file: file, line: line)
        print("network faults: \(report); proxy: \(cluster.proxy.accepted) connections, \(cluster.proxy.cuts) cut")
        XCTAssertEqual(report.trialStates[.completed], cluster.ranks, cluster.allLogs(), file: file, line: line)
        // Nothing ran twice: no lease was lost (every outage was shorter than the lease timeout).
        XCTAssertEqual(report.assignments, cluster.ranks, "a trial was assigned again", file: file, line: line)
        XCTAssertEqual(report.redoneSteps, 0, file: file, line: line)
        XCTAssertEqual(report.distinctSteps, cluster.ranks * cluster.steps, file: file, line: line)
        let fetch = try ThresherProcess.run(["fetch", "net", "--state", cluster.state, "--best", "2", "--out", cluster.folder + "/best"])
        XCTAssertEqual(fetch.status, 0, fetch.stderr, file: file, line: line)
    }
}
