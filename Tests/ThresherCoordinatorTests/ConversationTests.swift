import Foundation
import XCTest
import ThresherCoordinator
import ThresherNet
import ThresherStore
import ThresherWire

/// Assignment order, the engine's run map, and retries of failed trials.
final class ConversationTests: XCTestCase {
    static let engineSweep = """
        name: digits
        method: grid
        metric: {name: val_accuracy, goal: maximize}
        parameters:
          lr: {values: [0.1]}
        thresher:
          seed: 5
          engine:
            model: mlp
            data: data/digits.csv
            epochs: 2
        """

    func testEngineSweepRunMapOmitsTheExecutableAndResolvesPaths() async throws {
        let dir = try temporaryDirectory(self)
        let cluster = try TestCoordinator(stateDirectory: dir, clock: TestClock(), socket: dir + "/c.sock")
        _ = try await cluster.coordinator.submit(sweepFileText: Self.engineSweep, fileName: "d.yaml", baseDirectory: "/sweeps/digits")
        let worker = try cluster.worker("w")
        defer { worker.close() }
        let assign = try await worker.assignment()
        XCTAssertEqual(assign.run["engine"], .bool(true))
        XCTAssertEqual(assign.run["goal"], .string("maximize"))
        XCTAssertEqual(assign.run["metric"], .string("val_accuracy"))
        XCTAssertEqual(assign.run["seed"], .int(5))
        XCTAssertEqual(assign.run["sweep_name"], .string("digits"))
        let argv = assign.run.argv
        XCTAssertEqual(argv.first, "train")
        XCTAssertFalse(argv.contains("thresher"))
        XCTAssertTrue(argv.contains("/sweeps/digits/data/digits.csv"), "\(argv)")
        XCTAssertTrue(argv.contains("--seed") && argv.contains("5"), "\(argv)")
        try await cluster.stop()
    }

    func testHigherPrioritySweepsRunFirstThenFIFO() async throws {
        let dir = try temporaryDirectory(self)
        let cluster = try TestCoordinator(stateDirectory: dir, clock: TestClock(), socket: dir + "/c.sock")
        let first = try await cluster.coordinator.submit(sweepFileText: GridSweepTests.gridSweep, fileName: "a.yaml", baseDirectory: dir, name: "a")
        let second = try await cluster.coordinator.submit(sweepFileText: GridSweepTests.gridSweep, fileName: "b.yaml", baseDirectory: dir, name: "b")
        let urgent = try await cluster.coordinator.submit(sweepFileText: GridSweepTests.gridSweep, fileName: "c.yaml", baseDirectory: dir,
                                                          name: "c", priority: 5)
        let worker = try cluster.worker("w", slots: 12)
        defer { worker.close() }
        var order: [UInt64] = []
        for _ in 0 ..< 12 { order.append(try await worker.assignment().sweepID) }
        XCTAssertEqual(order, Array(repeating: UInt64(urgent), count: 9) + Array(repeating: UInt64(first), count: 3))
        XCTAssertFalse(order.contains(UInt64(second)))
        try await cluster.stop()
    }

    func testFailedTrialIsRetriedUntilMaxAttemptsThenFails() async throws {
        let dir = try temporaryDirectory(self)
        let cluster = try TestCoordinator(stateDirectory: dir, clock: TestClock(), socket: dir + "/c.sock")
        _ = try await cluster.coordinator.submit(sweepFileText: GridSweepTests.gridSweep, fileName: "g.yaml", baseDirectory: dir)
        let worker = try cluster.worker("w")
        defer { worker.close() }
        var epochs: [UInt64] = []
        var trialID: UInt64?
        for attempt in 0 ..< 3 {
            let assign = try await worker.assignment()
            if let trialID { XCTAssertEqual(assign.trialID, trialID, "attempt \(attempt) retries the same trial") }
            trialID = assign.trialID
            epochs.append(assign.leaseEpoch)
            let reply = try await worker.send(.failed(Failed(trialID: assign.trialID, leaseEpoch: assign.leaseEpoch, reason: "CUDA? no", exitCode: 3)))
            _ = try worker.ack(reply)
        }
        XCTAssertEqual(epochs, [1, 2, 3])
        let trial = try cluster.coordinator.sweepStore.trial(Int64(trialID ?? 0))
        XCTAssertEqual(trial.state, .failed)
        XCTAssertEqual(trial.lastError, "CUDA? no (exit 3)")
        // The sweep moves on to its next trial.
        let next = try await worker.assignment()
        XCTAssertNotEqual(next.trialID, trialID)
        try await cluster.stop()
    }

    func testServerTimerReapsExpiredLeases() async throws {
        let dir = try temporaryDirectory(self)
        let clock = TestClock()
        let cluster = try TestCoordinator(stateDirectory: dir, clock: clock, socket: dir + "/c.sock", tickInterval: .milliseconds(20))
        _ = try await cluster.coordinator.submit(sweepFileText: GridSweepTests.gridSweep, fileName: "g.yaml", baseDirectory: dir)
        let worker = try cluster.worker("w")
        defer { worker.close() }
        let assign = try await worker.assignment()
        clock.advance(16)
        // Wait for the timer's tick (bounded, so a broken timer fails instead of hanging).
        var state = TrialState.assigned
        for _ in 0 ..< 500 where state != .pending {
            try await Task.sleep(for: .milliseconds(10))
            state = try cluster.coordinator.sweepStore.trial(Int64(assign.trialID)).state
        }
        XCTAssertEqual(state, .pending)
        try await cluster.stop()
    }
}
