import Foundation
import ThresherStore
import ThresherWire
import XCTest

/// The invariant checker itself: a state folder written by hand through the store's API, with a
/// redone step (allowed), a lost step, a duplicate under one epoch, a wrong value, a corrupted blob
/// and a wrong best trial — each must be reported, naming its trial and step, and nothing else.
final class FaultInvariantsTests: XCTestCase {
    /// The stored form of a trial's params, as the coordinator writes it.
    private struct Stored: Encodable {
        struct Entry: Encodable { var k: String; var v: Int }
        struct Map: Encodable { var m: [Entry] }
        var index: Int
        var params: Map
        init(index: Int, rank: Int, steps: Int) {
            self.index = index
            params = Map(m: [Entry(k: "rank", v: rank), Entry(k: "steps", v: steps)])
        }
    }

    private var state = ""
    private var now = Date(timeIntervalSince1970: 1_000_000)

    override func setUpWithError() throws {
        state = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-invariants-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let dir = state
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    }

    private func tick() -> Date { now += 1; return now }
    private func loss(_ rank: Int, _ step: Int64) -> Double { DeterministicTrialProgram.faultTrial.value(["rank": Double(rank)], step) }

    private func report(_ store: SweepStore, _ trial: Int64, seq: Int64, epoch: Int64, rank: Int, steps: [Int64], value: Double? = nil) throws {
        let points = steps.map { MetricPoint(step: $0, name: "loss", value: value ?? loss(rank, $0), time: now) }
        XCTAssertEqual(try store.appendReport(trial: trial, seq: seq, epoch: epoch, points: points, now: tick()), .stored(points: points.count))
    }

    /// Writes the folder; returns (store, the digest of the stored checkpoint of trial A).
    private func writeState() throws -> String {
        let store = try SweepStore(path: state + "/thresher.sqlite")
        defer { try? store.close() }
        let blobs = try BlobStore(stateDirectory: state)
        let sweep = try store.createSweep(name: "faults", spec: "x", seed: 1, now: tick())
        let a = try store.enqueue(sweep: sweep.id, params: Stored(index: 0, rank: 0, steps: 3), now: tick()).id
        let b = try store.enqueue(sweep: sweep.id, params: Stored(index: 1, rank: 1, steps: 3), now: tick()).id
        let c = try store.enqueue(sweep: sweep.id, params: Stored(index: 2, rank: 2, steps: 3), now: tick()).id

        // A: steps 1-2 under epoch 1 with a stored checkpoint at 1, the lease lost, step 2 redone
        // (same value) and step 3 under epoch 2. Correct.
        _ = try store.assign(trial: a, worker: "w1", now: tick(), leaseDuration: 8)
        try store.markRunning(trial: a, epoch: 1, now: tick())
        try report(store, a, seq: 1, epoch: 1, rank: 0, steps: [1])
        let checkpoint = try store.recordCheckpoint(trial: a, epoch: 1, step: 1, metric: loss(0, 1), bytes: 5, now: tick())
        let bytes: [UInt8] = [1, 2, 3, 4, 5]
        let digest = SHA256.hex(of: bytes)
        try store.setCheckpointState(checkpoint.id, to: .uploading, digest: digest, now: tick())
        _ = try blobs.append(upload: "u1", offset: 0, bytes: bytes)
        try blobs.finalize(upload: "u1", expectedDigest: digest)
        try store.setCheckpointState(checkpoint.id, to: .stored, digest: digest, now: tick())
        try report(store, a, seq: 2, epoch: 1, rank: 0, steps: [2])
        now += 10
        XCTAssertEqual(try store.expireLeases(now: now), [a])
        _ = try store.assign(trial: a, worker: "w2", now: tick(), leaseDuration: 5)
        try store.markRunning(trial: a, epoch: 2, now: tick())
        try report(store, a, seq: 3, epoch: 2, rank: 0, steps: [2, 3])
        try store.complete(trial: a, epoch: 2, now: tick())

        // B: completed without its step 2.
        _ = try store.assign(trial: b, worker: "w1", now: tick(), leaseDuration: 50)
        try store.markRunning(trial: b, epoch: 1, now: tick())
        try report(store, b, seq: 1, epoch: 1, rank: 1, steps: [1, 3])
        try store.complete(trial: b, epoch: 1, now: tick())

        // C: stopped after step 1 stored twice by one attempt, and a wrong value at step 2.
        _ = try store.assign(trial: c, worker: "w2", now: tick(), leaseDuration: 50)
        try store.markRunning(trial: c, epoch: 1, now: tick())
        try report(store, c, seq: 1, epoch: 1, rank: 2, steps: [1])
        try report(store, c, seq: 2, epoch: 1, rank: 2, steps: [1])
        try report(store, c, seq: 3, epoch: 1, rank: 2, steps: [2], value: 99)
        try store.stop(trial: c, explanation: StopExplanation(rule: "test", message: "test"), now: tick())
        try store.setSweepState(sweep.id, to: .finished, now: tick())
        return digest
    }

    func testEveryBrokenInvariantIsReportedAndAResumeRedoIsNot() throws {
        let digest = try writeState()
        let clean = try FaultInvariants.check(state: state, budget: 100, expectedBest: ["rank": 0], recordFailures: false)
        XCTAssertEqual(clean.trials, 3)
        XCTAssertEqual(clean.redoneSteps, 1, "A's step 2, redone under epoch 2")
        XCTAssertEqual(clean.duplicates, 1, "C's step 1, stored twice under epoch 1")
        XCTAssertEqual(clean.assignments, 4)
        XCTAssertEqual(clean.checkpointsVerified, 1)
        XCTAssertEqual(clean.bestTrialParams?["rank"], 0)
        XCTAssertEqual(clean.violations.count, 3, clean.violations.joined(separator: "\n"))
        XCTAssertTrue(clean.violations.contains { $0.contains("trial 2 (completed) lost steps [2]") }, "\(clean.violations)")
        XCTAssertTrue(clean.violations.contains { $0.contains("trial 3 step 1 loss: stored 2 times under epoch 1") }, "\(clean.violations)")
        XCTAssertTrue(clean.violations.contains { $0.contains("trial 3 step 2: loss 99.0") }, "\(clean.violations)")

        // A corrupted blob, a budget too small and another expected best are reported too.
        let blob = try BlobStore(stateDirectory: state).blobPath(digest)
        try Data([1, 2, 3, 4, 6]).write(to: URL(fileURLWithPath: blob))
        let broken = try FaultInvariants.check(state: state, budget: 4, expectedBest: ["rank": 1], recordFailures: false)
        XCTAssertEqual(broken.violations.count, 6, broken.violations.joined(separator: "\n"))
        XCTAssertTrue(broken.violations.contains { $0.contains("trial 1 step 1: stored checkpoint \(digest) is not intact") }, "\(broken.violations)")
        XCTAssertTrue(broken.violations.contains { $0.contains("5 bytes of blobs at the end, over the 4-byte budget") }, "\(broken.violations)")
        XCTAssertTrue(broken.violations.contains { $0.contains("best trial has params") }, "\(broken.violations)")
    }

    func testStorageObserverCountsObservationsOverTheBudget() throws {
        try FileManager.default.createDirectory(atPath: state + "/uploads", withIntermediateDirectories: true)
        let observer = StorageObserver(stateDirectory: state, budget: 10)
        observer.observe()
        try Data(count: 11).write(to: URL(fileURLWithPath: state + "/uploads/x.part"))
        observer.observe()
        let seen = observer.stop()
        XCTAssertGreaterThanOrEqual(seen.observations, 3)
        XCTAssertEqual(seen.peakBytes, 11)
        XCTAssertGreaterThanOrEqual(seen.overBudgetCount, 2)
    }

    /// An eviction followed by an upload, racing the observer's listings, never adds up to more
    /// than was ever held at once: a blob of 8 bytes is replaced again and again by an upload of 8
    /// bytes (first the blob goes, then the part comes, then the part becomes the next blob), under
    /// a budget of 8. Listing blobs/ then uploads/ once, as before, counted 16 here.
    func testStorageObserverNeverAddsUpFilesThatDidNotCoexist() throws {
        try FileManager.default.createDirectory(atPath: state + "/uploads", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: state + "/blobs/aa", withIntermediateDirectories: true)
        let observer = StorageObserver(stateDirectory: state, budget: 8, interval: 0)
        var blob = state + "/blobs/aa/0"
        try Data(count: 8).write(to: URL(fileURLWithPath: blob))
        for i in 1...500 {
            usleep(300)  // the blob is held a while…
            unlink(blob)
            let part = state + "/uploads/\(i).part"
            FileManager.default.createFile(atPath: part, contents: Data(count: 8))
            usleep(300)  // …then only the upload
            blob = state + "/blobs/aa/\(i)"
            rename(part, blob)
        }
        let seen = observer.stop()
        XCTAssertGreaterThan(seen.observations, 10, "the observer hardly looked")
        XCTAssertEqual(seen.overBudgetCount, 0, "\(seen.overBudget.prefix(3).map { $0.files })")
        XCTAssertLessThanOrEqual(seen.peakBytes, 8)
    }
}
