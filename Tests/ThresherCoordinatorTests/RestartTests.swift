import Foundation
import XCTest
import ThresherCoordinator
import ThresherNet
import ThresherStore
import ThresherWire

/// A coordinator restarted on the same state directory continues the sweep it was running.
final class RestartTests: XCTestCase {
    static let sweep = """
        name: restart
        method: random
        run_cap: 6
        command: [python3, train.py, "${args}"]
        metric: {name: loss, goal: minimize}
        parameters:
          lr: {distribution: log_uniform_values, min: 0.0001, max: 0.1}
          width: {values: [16, 32, 64]}
        thresher:
          seed: 11
        """

    /// What one trial produced: its parameters and final metric, by searcher index.
    struct Result: Equatable { var params: ParamMap; var loss: Double }

    /// A deterministic fake worker's loss for a trial.
    static func loss(_ params: ParamMap, step: Int64) -> Double {
        var lr = 0.0, width = 0.0
        if case .double(let v) = params["lr"] { lr = v }
        if case .int(let v) = params["width"] { width = Double(v) }
        return abs(log10(lr) + 2.5) + width / 100 + 1 / Double(step)
    }

    static func index(_ assign: Assign) -> Int? {
        if case .int(let seed) = assign.run["seed"] { Int(seed - 11) } else { nil }
    }

    /// Runs one trial from its `first_seq` to step 3 (seq n carries step n) and reports Done.
    static func run(_ worker: FakeWorker, _ assign: Assign, upTo last: Int64 = 3) async throws {
        guard case .int(let first) = assign.run["first_seq"] else { throw TestFailure("no first_seq") }
        for step in first ... last {
            _ = try worker.ack(try await worker.report(assign, seq: UInt64(step), [metric("loss", step, loss(assign.params, step: step))]))
        }
        if last == 3 { _ = try await worker.done(assign, step: 3, final: [metric("loss", 3, loss(assign.params, step: 3))]) }
    }

    func testRestartedCoordinatorContinuesTheSweepAsIfUninterrupted() async throws {
        // Uninterrupted run.
        let dirA = try temporaryDirectory(self)
        let a = try TestCoordinator(stateDirectory: dirA, clock: TestClock(), socket: dirA + "/a.sock")
        let sweepA = try await a.coordinator.submit(sweepFileText: Self.sweep, fileName: "r.yaml", baseDirectory: dirA)
        let workerA = try a.worker("w")
        var expected: [Int: Result] = [:]
        while case .assign(let assign) = try await workerA.request() {
            guard let index = Self.index(assign) else { return XCTFail("no seed in run map") }
            try await Self.run(workerA, assign)
            expected[index] = Result(params: assign.params, loss: Self.loss(assign.params, step: 3))
        }
        workerA.close()
        XCTAssertEqual(expected.count, 6)
        XCTAssertEqual(try a.coordinator.sweepStore.sweep(sweepA).state, .finished)
        try await a.stop()

        // Interrupted: three trials done, a fourth half-way, then the coordinator goes away.
        let dirB = try temporaryDirectory(self)
        let clock = TestClock()
        let b1 = try TestCoordinator(stateDirectory: dirB, clock: clock, socket: dirB + "/b1.sock")
        let sweepB = try await b1.coordinator.submit(sweepFileText: Self.sweep, fileName: "r.yaml", baseDirectory: dirB)
        let before = try b1.worker("w")
        var seen: [Int: Result] = [:]
        var handedOut: [Int] = []
        for _ in 0 ..< 3 {
            let assign = try await before.assignment()
            guard let index = Self.index(assign) else { return XCTFail("no seed in run map") }
            handedOut.append(index)
            try await Self.run(before, assign)
            seen[index] = Result(params: assign.params, loss: Self.loss(assign.params, step: 3))
        }
        let inFlight = try await before.assignment()
        guard let inFlightIndex = Self.index(inFlight) else { return XCTFail("no seed in run map") }
        handedOut.append(inFlightIndex)
        try await Self.run(before, inFlight, upTo: 1)
        before.close()
        try await b1.stop()

        // Restart on the same state directory. The in-flight trial's lease runs out and it is
        // handed out again (same index, same parameters); the rest of the sweep follows.
        let b2 = try TestCoordinator(stateDirectory: dirB, clock: clock, socket: dirB + "/b2.sock")
        clock.advance(16)
        let reaped = try await b2.coordinator.tick()
        XCTAssertEqual(reaped.count, 1)
        let after = try b2.worker("w2")
        while case .assign(let assign) = try await after.request() {
            guard let index = Self.index(assign) else { return XCTFail("no seed in run map") }
            if index != inFlightIndex { handedOut.append(index) } else { XCTAssertEqual(assign.params, inFlight.params) }
            try await Self.run(after, assign)
            seen[index] = Result(params: assign.params, loss: Self.loss(assign.params, step: 3))
        }
        after.close()
        XCTAssertEqual(handedOut.count, 6)
        XCTAssertEqual(Set(handedOut).count, 6, "no trial index handed out twice: \(handedOut)")
        XCTAssertEqual(seen, expected)
        let storeB = b2.coordinator.sweepStore
        XCTAssertEqual(try storeB.sweep(sweepB).state, .finished)
        XCTAssertEqual(try storeB.trials(sweep: sweepB).count, 6)
        // Every value reported was stored exactly once, under the seqs the attempts used.
        for trial in try storeB.trials(sweep: sweepB) {
            XCTAssertEqual(try storeB.metrics(trial: trial.id).map(\.seq), [1, 2, 3], "trial \(trial.id)")
        }
        try await b2.stop()
    }

    /// Regression (coordinator SIGKILL fault test): a lease that ran out while the coordinator was
    /// down was reaped at once by the restarted coordinator, though its worker could not have
    /// renewed it; its trial was redone elsewhere. A restart now gives each held lease a full
    /// timeout; a worker that never comes back is still reaped after it.
    func testRestartGivesHeldLeasesAFullTimeoutBeforeReapingThem() async throws {
        let dir = try temporaryDirectory(self)
        let clock = TestClock()
        let first = try TestCoordinator(stateDirectory: dir, clock: clock, socket: dir + "/a.sock")
        _ = try await first.coordinator.submit(sweepFileText: Self.sweep, fileName: "r.yaml", baseDirectory: dir)
        let worker = try first.worker("w")
        let assign = try await worker.assignment()
        worker.close()
        try await first.stop()

        clock.advance(14)    // down for most of the 15 s lease
        let second = try TestCoordinator(stateDirectory: dir, clock: clock, socket: dir + "/b.sock")
        clock.advance(10)    // past the original expiry, within a timeout of the restart
        let early = try await second.coordinator.tick()
        XCTAssertEqual(early, [], "the lease outlived the outage")
        XCTAssertEqual(try second.coordinator.sweepStore.trial(Int64(assign.trialID)).leaseEpoch, Int64(assign.leaseEpoch))
        clock.advance(6)
        let reaped = try await second.coordinator.tick()
        XCTAssertEqual(reaped, [Int64(assign.trialID)], "a worker that does not come back is reaped one timeout after the restart")
        try await second.stop()
    }

    /// Files a crash left behind that no checkpoint accounts for — a blob whose eviction committed
    /// before its file was deleted, a part file of an upload nobody waits for — are deleted on
    /// start; a stored checkpoint's blob and a waiting upload's part file are kept.
    func testRestartDeletesFilesNoCheckpointAccountsFor() async throws {
        let dir = try temporaryDirectory(self)
        let clock = TestClock()
        let first = try TestCoordinator(stateDirectory: dir, clock: clock, socket: dir + "/a.sock")
        let sweep = CheckpointUploadTests.sweep.replacingOccurrences(of: "keep_top_k: 1", with: "keep_top_k: 2")
            .replacingOccurrences(of: "keep_top_k_per_trial: 1", with: "keep_top_k_per_trial: 2")
        _ = try await first.coordinator.submit(sweepFileText: sweep, fileName: "ckpt.yaml", baseDirectory: dir)
        let worker = try first.worker("w")
        let assign = try await worker.assignment()
        _ = try await worker.report(assign, seq: 0, [metric(ReservedMetric.checkpointBytes, 1, 100), metric("val_loss", 1, 0.5),
                                                     metric(ReservedMetric.checkpointBytes, 2, 100), metric("val_loss", 2, 0.4)])
        let kept = CheckpointUploadTests.file(100, seed: 1)
        _ = try await worker.send(CheckpointUploadTests.chunk(assign, step: 1, kept, offset: 0, count: 100))
        _ = try await worker.send(CheckpointUploadTests.chunk(assign, step: 2, CheckpointUploadTests.file(100, seed: 2), offset: 0, count: 40))
        worker.close()
        try await first.stop()
        // What a crash leaves: an unreferenced blob and a part file of an upload that no row waits for.
        let blobs = try BlobStore(stateDirectory: dir)
        let stray = CheckpointUploadTests.file(50, seed: 3)
        _ = try blobs.append(upload: "stray", offset: 0, bytes: stray)
        try blobs.finalize(upload: "stray", expectedDigest: CheckpointUploadTests.digest(stray).hex)
        _ = try blobs.append(upload: "t99_s1_0123456789abcdef", offset: 0, bytes: [1, 2, 3])
        let waiting = blobs.pendingUploads()
        XCTAssertEqual(waiting.count, 2)

        let second = try TestCoordinator(stateDirectory: dir, clock: clock, socket: dir + "/b.sock")
        XCTAssertEqual(blobs.allDigests(), [CheckpointUploadTests.digest(kept).hex], "the stored checkpoint's blob stays, the stray one goes")
        XCTAssertEqual(blobs.pendingUploads().count, 1, "the upload of step 2 still waits: \(blobs.pendingUploads())")
        XCTAssertTrue(blobs.pendingUploads()[0].hasPrefix("t\(assign.trialID)_s2_"))
        try await second.stop()
    }
}
