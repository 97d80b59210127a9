import Foundation
import XCTest

/// Network faults between real workers and a real coordinator, injected by `FaultProxy`: delay and
/// jitter on every chunk, and every connection cut (and held) mid-sweep. Each test ends by checking
/// that every value the trials wrote is stored exactly once with the program's value, and that the
/// best trial is the one a fault-free run finds (x = 0.3, best at every step).
final class ProxyFaultTests: XCTestCase {
    static let xs = [0.0, 0.1, 0.2, 0.3, 0.5, 0.7]

    func testSweepThroughDelayAndJitterCompletesWithEveryValueOnce() throws {
        let cluster = try NetworkFaultCluster(for: self, xs: Self.xs, steps: 6, pause: 0.05, leaseTimeout: 6, proxySeed: 11)
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
        let cluster = try NetworkFaultCluster(for: self, xs: Self.xs, steps: 16, pause: 0.1, leaseTimeout: 6, proxySeed: 12)
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
        // Nothing ran twice: no lease was lost (the outages were shorter than the lease timeout).
        let trials = status?["trials"] as? [[String: Any]] ?? []
        XCTAssertEqual(trials.compactMap { $0["attempts"] as? Int }.filter { $0 > 1 }.count, 0, "\(trials)")
    }

    /// Every trial completed, each (trial, step, name) stored once with the program's value, the
    /// best trial is x = 0.3, and its checkpoints fetch intact.
    private func checkEveryValueOnce(_ cluster: NetworkFaultCluster, file: StaticString = #filePath, line: UInt = #line) throws {
        let ledger = MetricLedger(rows: try cluster.exportedRows(), steps: cluster.steps)
        print("network faults: \(ledger.summary); proxy: \(cluster.proxy.accepted) connections, \(cluster.proxy.cuts) cut")
        XCTAssertEqual(ledger.completedTrials, cluster.xs.count, ledger.problems.joined(separator: "\n") + cluster.allLogs(), file: file, line: line)
        XCTAssertEqual(ledger.duplicates, 0, ledger.problems.joined(separator: "\n"), file: file, line: line)
        XCTAssertEqual(ledger.lost, 0, ledger.problems.joined(separator: "\n"), file: file, line: line)
        XCTAssertEqual(ledger.unannounced, 0, ledger.problems.joined(separator: "\n"), file: file, line: line)
        XCTAssertEqual(ledger.wrongValues, 0, ledger.problems.joined(separator: "\n"), file: file, line: line)
        XCTAssertEqual(ledger.bestX, 0.3, file: file, line: line)
        let fetch = try ThresherProcess.run(["fetch", "net", "--state", cluster.state, "--best", "2", "--out", cluster.folder + "/best"])
        XCTAssertEqual(fetch.status, 0, fetch.stderr, file: file, line: line)
    }
}
