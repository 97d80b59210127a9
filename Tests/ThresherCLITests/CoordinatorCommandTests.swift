import Foundation
import ThresherStore
import XCTest

/// `thresher coordinator --max-attempts`: refused below 1, and carried by every trial the
/// coordinator enqueues.
final class CoordinatorCommandTests: XCTestCase {
    func testMaxAttemptsBelowOneIsRefused() throws {
        let output = try ThresherProcess.run(["coordinator", "--listen", "ipc:///tmp/unused.ipc", "--state", "/tmp/unused-state",
                                              "--max-attempts", "0"])
        XCTAssertNotEqual(output.status, 0)
        XCTAssertTrue(output.stderr.contains("--max-attempts must be at least 1"), output.stderr)
    }

    func testMaxAttemptsReachesTheEnqueuedTrials() throws {
        let cluster = try FaultCluster(self, sweep: FaultCluster.sweepText(ranks: [0, 1], steps: 2, pause: 0.01, checkpointBytes: 16,
                                                                           retention: "{keep_top_k: 1}", hyperband: false))
        let coordinator = try ThresherProcess.spawn(
            ["coordinator", "--listen", cluster.url, "--state", cluster.state, "--token-file", cluster.token,
             "--sweep", cluster.sweepFile, "--max-attempts", "7"],
            in: cluster.folder, log: cluster.folder + "/coordinator.log", for: self)
        try cluster.startWorker("w1")
        XCTAssertTrue(cluster.waitForFinish(timeout: 120), cluster.logs())
        XCTAssertTrue(coordinator.isRunning)
        let store = try SweepStore(readingAt: cluster.state + "/thresher.sqlite")
        defer { try? store.close() }
        let trials = try store.sweeps().flatMap { try store.trials(sweep: $0.id) }
        XCTAssertEqual(trials.count, 2)
        XCTAssertEqual(trials.map(\.maxAttempts), [7, 7])
    }
}
