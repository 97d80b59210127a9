import Foundation
import XCTest

/// Partition and packet loss between hosts in network namespaces (iptables DROP inside the worker
/// host's namespace): the coordinator on host 1, workers on hosts 2 and 3. Skips with a message
/// where namespaces or iptables are not permitted.
final class NetnsFaultTests: XCTestCase {
    /// Host 2 is cut off longer than the lease: its trial goes back to the queue and finishes on
    /// host 3; after the heal, host 2's late reports under the old epoch are refused (it is told to
    /// drop the trial) and it carries on with new trials.
    func testPartitionedWorkerIsFencedAndItsTrialFinishesElsewhere() throws {
        let hosts = try NetnsHosts(count: 3, for: self)
        let cluster = try NetworkFaultCluster(for: self, ranks: 10, steps: 16, pause: 0.25, leaseTimeout: 3,
                                              coordinatorHost: hosts.address(1), coordinatorNamespace: hosts.name(1))
        let url = cluster.coordinatorURL
        try cluster.startCoordinator()
        try cluster.startWorker("h2", url: url, namespace: hosts.name(2))
        try cluster.startWorker("h3", url: url, namespace: hosts.name(3))

        // Wait until host 2 is well into a trial, then pull its cable.
        var victim: [String: Any]?
        let start = Date()
        while victim == nil && Date().timeIntervalSince(start) < 120 {
            Thread.sleep(forTimeInterval: 0.5)
            victim = Self.trials(cluster.status()).first {
                $0["worker"] as? String == "h2" && $0["state"] as? String == "running" && ($0["last_step"] as? Int ?? 0) >= 3
            }
        }
        guard let victim, let victimID = victim["trial"] as? Int else { return XCTFail("host 2 never ran a trial\n" + cluster.allLogs()) }
        try hosts.partition(2)
        let cutAt = Date()
        // Its trial must change hands: the lease runs out (3 s) and host 3 takes it.
        var moved = false
        while !moved && Date().timeIntervalSince(cutAt) < 60 {
            Thread.sleep(forTimeInterval: 0.5)
            let now = Self.trials(cluster.status()).first { $0["trial"] as? Int == victimID }
            moved = now?["worker"] as? String == "h3" || now?["state"] as? String == "completed"
        }
        XCTAssertTrue(moved, "trial \(victimID) never moved to host 3 while host 2 was cut off\n" + cluster.allLogs())
        // Stay cut a while longer than the lease, so host 2 piles up reports under its old epoch.
        Thread.sleep(forTimeInterval: max(0, 8 - Date().timeIntervalSince(cutAt)))
        let completedByHost2BeforeHeal = Set(Self.trials(cluster.status())
            .filter { $0["worker"] as? String == "h2" && $0["state"] as? String == "completed" }.compactMap { $0["trial"] as? Int })
        XCTAssertGreaterThan(hosts.droppedPackets(2), 0, "the partition dropped nothing")
        try hosts.heal(2)

        let status = cluster.waitUntilFinished(timeout: 240)
        XCTAssertEqual(status?["state"] as? String, "finished", cluster.allLogs())
        let trials = Self.trials(status)
        let after = trials.first { $0["trial"] as? Int == victimID }
        XCTAssertEqual(after?["state"] as? String, "completed", "\(String(describing: after))")
        XCTAssertEqual(after?["worker"] as? String, "h3", "\(String(describing: after))")
        XCTAssertTrue((after?["last_error"] as? String ?? "").contains("of worker h2 expired"), "\(String(describing: after))")
        // Fencing: host 2 was told its lease on the trial is gone and dropped it.
        let host2 = cluster.log("h2")
        let fenced = host2.split(separator: "\n").contains {
            $0.contains("trial \(victimID)") && ($0.contains("staleLease") || $0.contains("unknownTrial") || $0.contains("stop verdict"))
        }
        XCTAssertTrue(fenced, "host 2 never learned it lost trial \(victimID):\n\(host2.suffix(4_000))")
        // And it carried on with new work after the heal.
        let completedByHost2 = Set(trials.filter { $0["worker"] as? String == "h2" && $0["state"] as? String == "completed" }
            .compactMap { $0["trial"] as? Int })
        XCTAssertFalse(completedByHost2.subtracting(completedByHost2BeforeHeal).isEmpty,
                       "host 2 completed nothing after the heal (before: \(completedByHost2BeforeHeal), at the end: \(completedByHost2))\n" + cluster.allLogs())
        try checkInvariants(cluster)
    }

    /// 10 % of host 2's packets dropped both ways for the whole sweep: it completes, every value once.
    func testSweepCompletesThroughTenPercentPacketLoss() throws {
        let hosts = try NetnsHosts(count: 3, for: self)
        let cluster = try NetworkFaultCluster(for: self, ranks: 6, steps: 10, pause: 0.1, leaseTimeout: 10,
                                              coordinatorHost: hosts.address(1), coordinatorNamespace: hosts.name(1))
        let url = cluster.coordinatorURL
        try hosts.loss(2, probability: 0.1)
        try cluster.startCoordinator()
        try cluster.startWorker("h2", url: url, namespace: hosts.name(2))
        try cluster.startWorker("h3", url: url, namespace: hosts.name(3))
        let status = cluster.waitUntilFinished(timeout: 300)
        XCTAssertEqual(status?["state"] as? String, "finished", cluster.allLogs())
        let dropped = hosts.droppedPackets(2)
        print("packet loss: \(dropped) packets dropped on host 2")
        XCTAssertGreaterThan(dropped, 0, "the loss rule dropped nothing")
        try checkInvariants(cluster)
    }

    private static func trials(_ status: [String: Any]?) -> [[String: Any]] { status?["trials"] as? [[String: Any]] ?? [] }

    private func checkInvariants(_ cluster: NetworkFaultCluster, file: StaticString = #filePath, line: UInt = #line) throws {
        let report = try cluster.checkInvariants(file: file, line: line)
        print("netns faults: \(report)")
        XCTAssertEqual(report.trialStates[.completed], cluster.ranks, file: file, line: line)
        let fetch = try ThresherProcess.run(["fetch", "net", "--state", cluster.state, "--best", "2", "--out", cluster.folder + "/best"])
        XCTAssertEqual(fetch.status, 0, fetch.stderr, file: file, line: line)
    }
}
