import Foundation
import XCTest
@testable import ThresherStore
import ThresherWire

final class ReportsAndCheckpointsTests: XCTestCase {
    /// A store with one running trial; returns the trial id and its lease epoch.
    private func runningTrial(maxAttempts: Int = 3) throws -> (SweepStore, Int64, Int64) {
        let (store, _) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "", seed: 0, now: at(0))
        let trial = try store.enqueue(sweep: sweep.id, params: [Int](), maxAttempts: maxAttempts, now: at(0))
        let lease = try store.assign(trial: trial.id, worker: "w", now: at(0), leaseDuration: 1000).lease
        try store.markRunning(trial: trial.id, epoch: lease.epoch, now: at(1))
        return (store, trial.id, lease.epoch)
    }

    private func points(step: Int64, _ values: [Double]) -> [MetricPoint] {
        values.enumerated().map { MetricPoint(step: step, name: "m\($0.offset)", value: $0.element, time: at(Double(step))) }
    }

    func testReportsAreStoredWholeAndReadInSeqOrder() throws {
        let (store, trial, epoch) = try runningTrial()
        XCTAssertEqual(try store.appendReport(trial: trial, seq: 1, epoch: epoch, points: points(step: 20, [3, 4]), now: at(5)), .stored(points: 2))
        XCTAssertEqual(try store.appendReport(trial: trial, seq: 0, epoch: epoch, points: points(step: 10, [1, 2]), now: at(6)), .stored(points: 2))
        let stored = try store.metrics(trial: trial)
        XCTAssertEqual(stored.map(\.value), [1, 2, 3, 4])
        XCTAssertEqual(stored.map(\.seq), [0, 0, 1, 1])
        XCTAssertEqual(stored.first?.time, at(10))
        XCTAssertEqual(try store.metrics(trial: trial, name: "m1").map(\.value), [2, 4])
        XCTAssertEqual(try store.nextReportSeq(trial: trial), 2)
    }

    func testAResendIsADuplicateAndStoresNothing() throws {
        let (store, trial, epoch) = try runningTrial()
        _ = try store.appendReport(trial: trial, seq: 0, epoch: epoch, points: points(step: 1, [1]), now: at(5))
        XCTAssertEqual(try store.appendReport(trial: trial, seq: 0, epoch: epoch, points: points(step: 1, [1]), now: at(6)), .duplicate)
        XCTAssertEqual(try store.appendReport(trial: trial, seq: 0, epoch: epoch, points: points(step: 9, [7, 8]), now: at(6)), .duplicate,
                       "identity is (trial, seq); the content of a resend is not re-read")
        XCTAssertEqual(try store.metrics(trial: trial).count, 1)
    }

    func testSeqReusedByTheNextLeaseIsReportedNotSwallowed() throws {
        let (store, trial, epoch) = try runningTrial()
        _ = try store.appendReport(trial: trial, seq: 0, epoch: epoch, points: points(step: 1, [1]), now: at(5))
        XCTAssertEqual(try store.fail(trial: trial, epoch: epoch, error: "killed", now: at(6)), .pending)
        let next = try store.assign(trial: trial, worker: "w2", now: at(7), leaseDuration: 100).lease
        XCTAssertEqual(try store.appendReport(trial: trial, seq: 0, epoch: next.epoch, points: points(step: 1, [9]), now: at(8)),
                       .seqUsedByEarlierLease(epoch: epoch))
        let seq = try store.nextReportSeq(trial: trial)
        XCTAssertEqual(try store.appendReport(trial: trial, seq: seq, epoch: next.epoch, points: points(step: 1, [9]), now: at(8)), .stored(points: 1))
        XCTAssertEqual(try store.appendReport(trial: trial, seq: 0, epoch: epoch, points: [], now: at(9)), .duplicate,
                       "the old worker's resend of what was stored is still just a duplicate")
    }

    func testNaNAndInfinityRoundTrip() throws {
        let (store, trial, epoch) = try runningTrial()
        _ = try store.appendReport(trial: trial, seq: 0, epoch: epoch, points: points(step: 1, [.nan, .infinity, -0.5]), now: at(5))
        let values = try store.metrics(trial: trial).map(\.value)
        XCTAssertTrue(values[0].isNaN)
        XCTAssertEqual(values[1], .infinity)
        XCTAssertEqual(values[2], -0.5)
        XCTAssertThrowsStoreError(.invalidArgument("report seq must be non-negative, got -1"),
                                  try store.appendReport(trial: trial, seq: -1, epoch: epoch, points: [], now: at(5)))
        XCTAssertThrowsStoreError(.trialNotFound(999), try store.appendReport(trial: 999, seq: 0, epoch: 1, points: [], now: at(5)))
    }

    func testCheckpointLifecycle() throws {
        let (store, trial, epoch) = try runningTrial()
        let c = try store.recordCheckpoint(trial: trial, epoch: epoch, step: 100, metric: 0.3, bytes: 4096, now: at(2))
        XCTAssertEqual(c.state, .local)
        XCTAssertEqual(try store.recordCheckpoint(trial: trial, epoch: epoch, step: 100, metric: 0.9, bytes: 1, now: at(3)), c, "idempotent")
        XCTAssertThrowsStoreError(.invalidCheckpointTransition(checkpoint: c.id, from: .local, to: .stored),
                                  try store.setCheckpointState(c.id, to: .stored, now: at(3)))
        XCTAssertThrowsStoreError(.invalidArgument("checkpoint \(c.id): uploading needs a 64-hex SHA-256 digest"),
                                  try store.setCheckpointState(c.id, to: .uploading, digest: "../x", now: at(3)))
        let digest = SHA256.hex(of: [1, 2, 3] as [UInt8])
        try store.setCheckpointState(c.id, to: .uploading, digest: digest, now: at(4))
        try store.setCheckpointState(c.id, to: .stored, now: at(5))
        try store.setCheckpointState(c.id, to: .stored, now: at(6))
        let stored = try store.checkpoint(c.id)
        XCTAssertEqual(stored.digest, digest)
        XCTAssertEqual(stored.updatedAt, at(5))
        try store.setCheckpointState(c.id, to: .evicted, reason: "out of top-k", now: at(7))
        XCTAssertThrowsStoreError(.invalidCheckpointTransition(checkpoint: c.id, from: .evicted, to: .uploading),
                                  try store.setCheckpointState(c.id, to: .uploading, digest: digest, now: at(8)))
        XCTAssertEqual(try store.events(trial: trial).map(\.kind).suffix(4), ["checkpoint.recorded", "checkpoint.uploading", "checkpoint.stored", "checkpoint.evicted"])
    }

    func testHeldCheckpointsFeedTheRetentionPolicy() throws {
        let (store, trial, epoch) = try runningTrial()
        let sweep = try store.trial(trial).sweepId
        var ids: [Int64] = []
        for (step, metric) in [(Int64(100), 0.5), (200, 0.2), (300, 0.4)] {
            let c = try store.recordCheckpoint(trial: trial, epoch: epoch, step: step, metric: metric, bytes: 10, now: at(2))
            if step != 300 { try store.setCheckpointState(c.id, to: .uploading, digest: SHA256.hex(of: [UInt8(step % 256)]), now: at(3)) }
            if step == 100 { try store.setCheckpointState(c.id, to: .stored, now: at(4)) }
            ids.append(c.id)
        }
        let heldNow = try store.heldCheckpoints(sweep: sweep)
        XCTAssertEqual(heldNow, [
            HeldCheckpoint(id: ids[0], trial: trial, step: 100, metric: 0.5, bytes: 10, isLatest: false, trialRunning: true),
            HeldCheckpoint(id: ids[1], trial: trial, step: 200, metric: 0.2, bytes: 10, isLatest: true, trialRunning: true, isStored: false),
        ], "local checkpoints are not held; the highest held step is the latest; only `stored` is stored")
        let policy = RetentionPolicy(keepTopK: 1, goal: .minimize)
        XCTAssertEqual(policy.evictions(after: heldNow), [], "step 100 is the resume copy while step 200 uploads")
        try store.setCheckpointState(ids[1], to: .stored, now: at(5))
        XCTAssertEqual(policy.evictions(after: try store.heldCheckpoints(sweep: sweep)), [ids[0]])
        XCTAssertEqual(try store.bestCheckpoints(sweep: sweep, goal: .minimize, limit: 5).map(\.id), [ids[1], ids[0]])
        XCTAssertEqual(try store.bestCheckpoints(sweep: sweep, goal: .maximize, limit: 1).map(\.id), [ids[0]])
        try store.complete(trial: trial, epoch: epoch, now: at(6))
        XCTAssertEqual(try store.heldCheckpoints(sweep: sweep).map(\.trialRunning), [false, false])
    }

    func testEvictingABatchIsAtomicAndReleasesOnlyUnsharedBlobs() throws {
        let (store, trial, epoch) = try runningTrial()
        let shared = SHA256.hex(of: [1] as [UInt8]), own = SHA256.hex(of: [2] as [UInt8])
        var ids: [Int64] = []
        for (step, digest) in [(Int64(1), shared), (2, shared), (3, own)] {
            let c = try store.recordCheckpoint(trial: trial, epoch: epoch, step: step, metric: nil, bytes: 1, now: at(2))
            try store.setCheckpointState(c.id, to: .uploading, digest: digest, now: at(2))
            try store.setCheckpointState(c.id, to: .stored, now: at(2))
            ids.append(c.id)
        }
        XCTAssertThrowsStoreError(.checkpointNotFound(999), try store.evict([ids[2], 999], reason: "x", now: at(3)))
        XCTAssertEqual(try store.checkpoint(ids[2]).state, .stored, "nothing applied")
        XCTAssertEqual(try store.evict([ids[0], ids[2]], reason: "top-k", now: at(4)), [own], "the shared blob is still held by step 2")
        XCTAssertEqual(try store.evict([ids[0], ids[1]], reason: "trial ended", now: at(5)), [shared])
        XCTAssertEqual(try store.events(trial: trial).filter { $0.kind == "checkpoint.evicted" }.count, 3)
    }

    func testEnqueueIntoAnEndedSweepIsRefused() throws {
        let (store, _) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "", seed: 0, now: at(0))
        try store.setSweepState(sweep.id, to: .stopped, now: at(1))
        XCTAssertThrowsStoreError(.invalidArgument("sweep \(sweep.id) is stopped; cannot enqueue trials"),
                                  try store.enqueue(sweep: sweep.id, params: [Int](), now: at(2)))
    }

    /// A trial requeued after a lost lease still counts as running for retention: it resumes from
    /// its latest copy, so the policy must not release it while the trial waits for a worker.
    func testARequeuedTrialKeepsItsLatestCopy() throws {
        let (store, trial, epoch) = try runningTrial()
        let sweep = try store.trial(trial).sweepId
        let c = try store.recordCheckpoint(trial: trial, epoch: epoch, step: 100, metric: nil, bytes: 10, now: at(2))
        try store.setCheckpointState(c.id, to: .uploading, digest: SHA256.hex(of: [7] as [UInt8]), now: at(3))
        try store.setCheckpointState(c.id, to: .stored, now: at(4))
        XCTAssertEqual(try store.expireLeases(now: at(2000)), [trial])
        XCTAssertEqual(try store.trial(trial).state, .pending)
        let heldNow = try store.heldCheckpoints(sweep: sweep)
        XCTAssertEqual(heldNow.map(\.trialRunning), [true])
        XCTAssertEqual(RetentionPolicy(keepTopK: 0, goal: .minimize).evictions(after: heldNow), [])
        XCTAssertEqual(try store.trial(trial).resumeCheckpointId, c.id)
    }
}
