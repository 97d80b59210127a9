import Foundation
import XCTest
@testable import ThresherStore
import ThresherWire

final class TrialLifecycleTests: XCTestCase {
    func testAssignmentOrderIsPriorityThenSweepFIFOThenTrialIndex() throws {
        let (store, _) = try makeSweepStore()
        let early = try store.createSweep(name: "early", spec: "", seed: 0, priority: 0, now: at(0))
        let late = try store.createSweep(name: "late", spec: "", seed: 0, priority: 0, now: at(1))
        let urgent = try store.createSweep(name: "urgent", spec: "", seed: 0, priority: 5, now: at(2))
        var expected: [Int64] = []
        for sweep in [late, early, urgent] {
            for i in 0 ..< 2 { _ = try store.enqueue(sweep: sweep.id, params: ["i": i], now: at(3)) }
        }
        for sweep in [urgent, early, late] { expected += try store.trials(sweep: sweep.id).map(\.id) }
        var order: [Int64] = []
        while let next = try store.assignNext(worker: "w", now: at(10), leaseDuration: 30) { order.append(next.trial.id) }
        XCTAssertEqual(order, expected)
    }

    func testOnlyActiveSweepsHandOutTrials() throws {
        let (store, _) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "", seed: 0, now: at(0))
        _ = try store.enqueue(sweep: sweep.id, params: ["lr": 0.1], now: at(0))
        try store.setSweepState(sweep.id, to: .paused, now: at(1))
        XCTAssertNil(try store.assignNext(worker: "w", now: at(2), leaseDuration: 10))
        try store.setSweepState(sweep.id, to: .active, now: at(3))
        XCTAssertNotNil(try store.assignNext(worker: "w", now: at(4), leaseDuration: 10))
        try store.setSweepState(sweep.id, to: .finished, now: at(5))
        XCTAssertThrowsStoreError(.invalidSweepTransition(sweep: sweep.id, from: .finished, to: .active),
                                  try store.setSweepState(sweep.id, to: .active, now: at(6)))
    }

    func testParamsAreCanonicalJSON() throws {
        let (store, _) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "", seed: 0, now: at(0))
        let trial = try store.enqueue(sweep: sweep.id, params: ["z": "a/b", "a": "x"], now: at(0))
        XCTAssertEqual(trial.params, #"{"a":"x","z":"a/b"}"#)
        XCTAssertEqual(trial.indexInSweep, 0)
        XCTAssertEqual(try store.enqueue(sweep: sweep.id, params: [Int](), now: at(0)).indexInSweep, 1)
        XCTAssertThrowsStoreError(.sweepNotFound(99), try store.enqueue(sweep: 99, params: [Int](), now: at(0)))
        XCTAssertThrowsStoreError(.invalidArgument("maxAttempts must be at least 1, got 0"),
                                  try store.enqueue(sweep: sweep.id, params: [Int](), maxAttempts: 0, now: at(0)))
    }

    func testHappyPathAndItsEvents() throws {
        let (store, _) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "", seed: 0, now: at(0))
        let trial = try store.enqueue(sweep: sweep.id, params: ["lr": 0.1], now: at(0))
        let lease = try XCTUnwrap(try store.assignNext(worker: "w1", now: at(1), leaseDuration: 30)).lease
        XCTAssertEqual(lease.epoch, 1)
        XCTAssertEqual(lease.expiry, at(31))
        try store.markRunning(trial: trial.id, epoch: lease.epoch, now: at(2))
        let renewed = try store.renew(trial: trial.id, epoch: lease.epoch, now: at(20), leaseDuration: 30)
        XCTAssertEqual(renewed.expiry, at(50))
        XCTAssertEqual(renewed.id, lease.id)
        try store.complete(trial: trial.id, epoch: lease.epoch, now: at(40))
        try store.complete(trial: trial.id, epoch: lease.epoch, now: at(41))  // resend of Done: no-op
        let done = try store.trial(trial.id)
        XCTAssertEqual(done.state, .completed)
        XCTAssertEqual(done.startedAt, at(2))
        XCTAssertEqual(done.endedAt, at(40))
        XCTAssertNil(done.leaseExpiry)
        XCTAssertEqual(try store.events(trial: trial.id).map(\.kind), ["trial.enqueued", "trial.assigned", "trial.running", "trial.completed"])
        XCTAssertEqual(try store.trialCounts(sweep: sweep.id), [.completed: 1])
    }

    func testInvalidTransitionsNameTrialStateAndAttempt() throws {
        let (store, _) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "", seed: 0, now: at(0))
        let trial = try store.enqueue(sweep: sweep.id, params: [Int](), now: at(0))
        let lease = try store.assign(trial: trial.id, worker: "w", now: at(1), leaseDuration: 30).lease
        XCTAssertThrowsStoreError(.invalidTransition(trial: trial.id, from: .assigned, attempted: "assign"),
                                  try store.assign(trial: trial.id, worker: "w", now: at(1), leaseDuration: 30))
        XCTAssertThrowsStoreError(.invalidTransition(trial: trial.id, from: .assigned, attempted: "complete"),
                                  try store.complete(trial: trial.id, epoch: lease.epoch, now: at(2)))
        try store.markRunning(trial: trial.id, epoch: lease.epoch, now: at(2))
        XCTAssertThrowsStoreError(.invalidTransition(trial: trial.id, from: .running, attempted: "start running"),
                                  try store.markRunning(trial: trial.id, epoch: lease.epoch, now: at(3)))
        try store.cancel(trial: trial.id, reason: "user", now: at(4))
        XCTAssertThrowsStoreError(.invalidTransition(trial: trial.id, from: .cancelled, attempted: "cancel"),
                                  try store.cancel(trial: trial.id, reason: "again", now: at(5)))
        XCTAssertThrowsStoreError(.invalidTransition(trial: trial.id, from: .cancelled, attempted: "stop"),
                                  try store.stop(trial: trial.id, explanation: StopExplanation(rule: "median", message: ""), now: at(5)))
        XCTAssertThrowsStoreError(.invalidTransition(trial: trial.id, from: .cancelled, attempted: "fail"),
                                  try store.fail(trial: trial.id, epoch: lease.epoch, error: "x", now: at(5)))
        XCTAssertThrowsStoreError(.trialNotFound(12345), try store.cancel(trial: 12345, reason: "", now: at(5)))
        XCTAssertEqual(try store.trial(trial.id).lastError, "user")
        XCTAssertEqual(
            StoreError.invalidTransition(trial: 7, from: .completed, attempted: "stop").description, "trial 7 is completed; cannot stop")
    }

    func testExpiredLeaseRequeuesTheTrialToResumeFromItsLatestStoredCheckpoint() throws {
        let (store, _) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "", seed: 0, now: at(0))
        let trial = try store.enqueue(sweep: sweep.id, params: [Int](), maxAttempts: 3, now: at(0))
        let first = try store.assign(trial: trial.id, worker: "w1", now: at(0), leaseDuration: 10).lease
        try store.markRunning(trial: trial.id, epoch: first.epoch, now: at(1))
        for step: Int64 in [100, 200] {
            let c = try store.recordCheckpoint(trial: trial.id, epoch: first.epoch, step: step, metric: 0.5, bytes: 10, now: at(2))
            try store.setCheckpointState(c.id, to: .uploading, digest: SHA256.hex(of: [UInt8(step % 256)]), now: at(3))
            try store.setCheckpointState(c.id, to: .stored, now: at(4))
        }
        XCTAssertEqual(try store.expireLeases(now: at(9.999)), [], "valid while now < expiry")
        XCTAssertEqual(try store.expireLeases(now: at(10)), [trial.id])
        let requeued = try store.trial(trial.id)
        XCTAssertEqual(requeued.state, .pending)
        XCTAssertEqual(requeued.attempts, 1)
        XCTAssertNil(requeued.leaseExpiry)
        let latest = try store.checkpoints(trial: trial.id).last
        XCTAssertEqual(requeued.resumeCheckpointId, latest?.id)
        XCTAssertEqual(requeued.lastError, "lease 1 of worker w1 expired")

        let second = try XCTUnwrap(try store.assignNext(worker: "w2", now: at(11), leaseDuration: 10))
        XCTAssertEqual(second.lease.epoch, 2)
        XCTAssertEqual(second.trial.resumeCheckpointId, latest?.id)
        // The first worker comes back late: fenced off everywhere.
        XCTAssertThrowsStoreError(.staleLease(trial: trial.id, presentedEpoch: 1, currentEpoch: 2),
                                  try store.complete(trial: trial.id, epoch: 1, now: at(12)))
        XCTAssertThrowsStoreError(.staleLease(trial: trial.id, presentedEpoch: 1, currentEpoch: 2),
                                  try store.renew(trial: trial.id, epoch: 1, now: at(12), leaseDuration: 10))
        XCTAssertEqual(try store.appendReport(trial: trial.id, seq: 50, epoch: 1, points: [], now: at(12)), .staleLease(currentEpoch: 2))
        XCTAssertThrowsStoreError(.staleLease(trial: trial.id, presentedEpoch: 1, currentEpoch: 2),
                                  try store.recordCheckpoint(trial: trial.id, epoch: 1, step: 300, metric: nil, bytes: 1, now: at(12)))
    }

    func testAnExpiredButNotYetReapedLeaseIsAlreadyRefused() throws {
        let (store, _) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "", seed: 0, now: at(0))
        let trial = try store.enqueue(sweep: sweep.id, params: [Int](), now: at(0))
        let lease = try store.assign(trial: trial.id, worker: "w", now: at(0), leaseDuration: 10).lease
        XCTAssertThrowsStoreError(.staleLease(trial: trial.id, presentedEpoch: 1, currentEpoch: 1),
                                  try store.renew(trial: trial.id, epoch: lease.epoch, now: at(10), leaseDuration: 10))
        XCTAssertEqual(try store.appendReport(trial: trial.id, seq: 0, epoch: 1, points: [], now: at(10)), .staleLease(currentEpoch: 1))
    }

    func testATrialThatKeepsFailingIsFailedWithItsLastErrorAndNeverRetried() throws {
        let (store, _) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "", seed: 0, now: at(0))
        let trial = try store.enqueue(sweep: sweep.id, params: [Int](), maxAttempts: 3, now: at(0))
        var now: TimeInterval = 1
        // Attempt 1 fails by report, attempt 2 by lease expiry, attempt 3 by report.
        var lease = try XCTUnwrap(try store.assignNext(worker: "w", now: at(now), leaseDuration: 5)).lease
        XCTAssertEqual(try store.fail(trial: trial.id, epoch: lease.epoch, error: "CUDA out of memory", now: at(now + 1)), .pending)
        now += 10
        lease = try XCTUnwrap(try store.assignNext(worker: "w", now: at(now), leaseDuration: 5)).lease
        XCTAssertEqual(try store.expireLeases(now: at(now + 5)), [trial.id])
        now += 10
        lease = try XCTUnwrap(try store.assignNext(worker: "w", now: at(now), leaseDuration: 5)).lease
        XCTAssertEqual(lease.epoch, 3)
        XCTAssertEqual(try store.fail(trial: trial.id, epoch: lease.epoch, error: "segfault", now: at(now + 1)), .failed)
        let failed = try store.trial(trial.id)
        XCTAssertEqual(failed.state, .failed)
        XCTAssertEqual(failed.attempts, 3)
        XCTAssertEqual(failed.lastError, "segfault")
        XCTAssertEqual(failed.endedAt, at(now + 1))
        XCTAssertNil(try store.assignNext(worker: "w", now: at(now + 2), leaseDuration: 5))
        XCTAssertEqual(try store.events(trial: trial.id).filter { $0.kind == "trial.failed_attempt" || $0.kind == "trial.lease_expired" }.count, 3)
    }

    func testStopStoresItsExplanation() throws {
        let (store, _) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "", seed: 0, now: at(0))
        let trial = try store.enqueue(sweep: sweep.id, params: [Int](), now: at(0))
        let lease = try store.assign(trial: trial.id, worker: "w", now: at(0), leaseDuration: 10).lease
        try store.markRunning(trial: trial.id, epoch: lease.epoch, now: at(1))
        let why = StopExplanation(rule: "asha", band: 0, rung: 2, step: 400, threshold: 0.61, value: 0.55, rank: 7, of: 9,
                                  message: "rung 2: 0.55 below the top-1/3 threshold 0.61 (rank 7 of 9)")
        try store.stop(trial: trial.id, explanation: why, now: at(2))
        let stopped = try store.trial(trial.id)
        XCTAssertEqual(stopped.state, .stopped)
        XCTAssertEqual(stopped.decodedStopExplanation, why)
        let event = try XCTUnwrap(try store.events(trial: trial.id).last)
        XCTAssertEqual(event.kind, "trial.stopped")
        XCTAssertTrue(event.detail.contains("rank"), event.detail)
        // The stopped worker's late report is refused, not stored.
        XCTAssertEqual(try store.appendReport(trial: trial.id, seq: 0, epoch: lease.epoch, points: [], now: at(3)), .staleLease(currentEpoch: 1))
    }

    func testCancelAPendingTrialAndCountByState() throws {
        let (store, _) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "", seed: 0, now: at(0))
        let trials = try (0 ..< 4).map { try store.enqueue(sweep: sweep.id, params: ["i": $0], now: at(0)) }
        try store.cancel(trial: trials[0].id, reason: "duplicate params", now: at(1))
        _ = try store.assignNext(worker: "w", now: at(1), leaseDuration: 10)
        XCTAssertEqual(try store.trialCounts(sweep: sweep.id), [.cancelled: 1, .assigned: 1, .pending: 2])
        XCTAssertEqual(try store.trials(sweep: sweep.id, states: [.pending]).map(\.id), [trials[2].id, trials[3].id])
        XCTAssertEqual(try store.trials(sweep: sweep.id).count, 4)
    }
}
