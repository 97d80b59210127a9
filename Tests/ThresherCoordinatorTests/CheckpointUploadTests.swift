import Foundation
import XCTest
import ThresherCoordinator
import ThresherNet
import ThresherStore
import ThresherWire

/// Which checkpoints cross the network, and the chunked upload into the blob store.
final class CheckpointUploadTests: XCTestCase {
    static let sweep = """
        name: ckpt
        method: grid
        command: [python3, train.py, "${args}"]
        metric: {name: val_loss, goal: minimize}
        parameters:
          x: {values: [1, 2]}
        thresher:
          retention:
            keep_top_k: 1
            keep_top_k_per_trial: 1
            keep_latest_per_trial: false
            max_bytes: 1000
        """

    static func file(_ count: Int, seed: UInt8) -> [UInt8] { (0 ..< count).map { UInt8(truncatingIfNeeded: $0 &* 31) ^ seed } }

    static func digest(_ bytes: [UInt8]) -> Digest32 {
        var hasher = SHA256()
        hasher.update(bytes)
        return Digest32(hasher.finalize()) ?? .zero
    }

    static func chunk(_ assign: Assign, step: Int64, _ file: [UInt8], offset: Int, count: Int, digest: Digest32? = nil) -> Message {
        let end = min(file.count, offset + count)
        return .checkpointChunk(CheckpointChunk(trialID: assign.trialID, leaseEpoch: assign.leaseEpoch, step: step, offset: UInt64(offset),
                                                totalBytes: UInt64(file.count), digest: digest ?? Self.digest(file),
                                                data: Array(file[offset ..< end])))
    }

    func heldBytes(_ store: SweepStore, _ sweep: Int64) throws -> Int64 {
        try store.heldCheckpoints(sweep: sweep).reduce(0) { $0 + $1.bytes }
    }

    /// A coordinator on a fresh folder with a test clock, `Self.sweep` submitted.
    private func startWithTheCheckpointSweep() async throws -> (dir: String, clock: TestClock, cluster: TestCoordinator, sweepID: Int64) {
        let dir = try temporaryDirectory(self)
        let clock = TestClock()
        let cluster = try TestCoordinator(stateDirectory: dir, clock: clock, socket: dir + "/c.sock")
        let id = try await cluster.coordinator.submit(sweepFileText: Self.sweep, fileName: "ckpt.yaml", baseDirectory: dir)
        return (dir, clock, cluster, id)
    }

    func testTopKStepIsUploadedInChunksAndWorseOrOversizedStepsAreNot() async throws {
        let dir = try temporaryDirectory(self)
        let cluster = try TestCoordinator(stateDirectory: dir, clock: TestClock(), socket: dir + "/c.sock")
        let sweepID = try await cluster.coordinator.submit(sweepFileText: Self.sweep, fileName: "ckpt.yaml", baseDirectory: dir)
        let store = cluster.coordinator.sweepStore
        let worker = try cluster.worker("w1")
        defer { worker.close() }
        let assign = try await worker.assignment()
        let bytesName = ReservedMetric.checkpointBytes

        // Step 1: the first checkpoint is the sweep's best: upload it.
        let first = try worker.ack(try await worker.report(assign, seq: 0, [metric(bytesName, 1, 300), metric("val_loss", 1, 0.5)]))
        XCTAssertEqual(first.verdict(for: assign.trialID), .upload(step: 1))
        XCTAssertLessThanOrEqual(try heldBytes(store, sweepID), 1000)

        let file1 = Self.file(300, seed: 1)
        let a = try await worker.send(Self.chunk(assign, step: 1, file1, offset: 0, count: 100))
        XCTAssertEqual(a, .chunkAck(ChunkAck(trialID: assign.trialID, step: 1, nextOffset: 100, status: .accepted)))
        let b = try await worker.send(Self.chunk(assign, step: 1, file1, offset: 100, count: 100))
        XCTAssertEqual(b, .chunkAck(ChunkAck(trialID: assign.trialID, step: 1, nextOffset: 200, status: .accepted)))
        let resent = try await worker.send(Self.chunk(assign, step: 1, file1, offset: 100, count: 100))
        XCTAssertEqual(resent, .chunkAck(ChunkAck(trialID: assign.trialID, step: 1, nextOffset: 200, status: .accepted)))
        let c = try await worker.send(Self.chunk(assign, step: 1, file1, offset: 200, count: 100))
        XCTAssertEqual(c, .chunkAck(ChunkAck(trialID: assign.trialID, step: 1, nextOffset: 300, status: .complete)))
        let hex1 = SHA256.hex(of: file1)
        let onDisk = try Array(Data(contentsOf: URL(fileURLWithPath: try cluster.coordinator.blobStore.blobPath(hex1))))
        XCTAssertEqual(onDisk, file1)
        XCTAssertEqual(SHA256.hex(of: onDisk), hex1)
        let step1 = try XCTUnwrap(try store.checkpoints(trial: Int64(assign.trialID)).first { $0.step == 1 })
        XCTAssertEqual(step1.state, .stored)
        XCTAssertEqual(step1.digest, hex1)

        // Step 2 is worse: no upload.
        let worse = try worker.ack(try await worker.report(assign, seq: 1, [metric(bytesName, 2, 300), metric("val_loss", 2, 0.9)]))
        XCTAssertEqual(worse.verdict(for: assign.trialID), .proceed)
        XCTAssertLessThanOrEqual(try heldBytes(store, sweepID), 1000)

        // Step 3 is better, announced after its metric: it displaces step 1 (keep_top_k 1).
        _ = try worker.ack(try await worker.report(assign, seq: 2, [metric("val_loss", 3, 0.2)]))
        let better = try worker.ack(try await worker.report(assign, seq: 3, [metric(bytesName, 3, 400)]))
        XCTAssertEqual(better.verdict(for: assign.trialID), .upload(step: 3))
        XCTAssertEqual(try store.checkpoints(trial: Int64(assign.trialID)).first { $0.step == 1 }?.state, .evicted)
        XCTAssertFalse(try cluster.coordinator.blobStore.contains(hex1))
        XCTAssertLessThanOrEqual(try heldBytes(store, sweepID), 1000)

        // A wrong digest is caught at the last byte and the part discarded; the real file then completes.
        let file3 = Self.file(400, seed: 3)
        _ = try await worker.send(Self.chunk(assign, step: 3, file3, offset: 0, count: 200, digest: Self.digest(file1)))
        let mismatch = try await worker.send(Self.chunk(assign, step: 3, file3, offset: 200, count: 200, digest: Self.digest(file1)))
        XCTAssertEqual(mismatch, .chunkAck(ChunkAck(trialID: assign.trialID, step: 3, nextOffset: 0, status: .digestMismatch)))
        _ = try await worker.send(Self.chunk(assign, step: 3, file3, offset: 0, count: 200))
        let done3 = try await worker.send(Self.chunk(assign, step: 3, file3, offset: 200, count: 200))
        XCTAssertEqual(done3, .chunkAck(ChunkAck(trialID: assign.trialID, step: 3, nextOffset: 400, status: .complete)))
        XCTAssertTrue(try cluster.coordinator.blobStore.contains(SHA256.hex(of: file3)))

        // Better still but larger than the whole budget: refused, nothing displaced.
        let huge = try worker.ack(try await worker.report(assign, seq: 4, [metric(bytesName, 4, 2000), metric("val_loss", 4, 0.05)]))
        XCTAssertEqual(huge.verdict(for: assign.trialID), .proceed)
        let refused = try await worker.send(Self.chunk(assign, step: 4, Self.file(2000, seed: 4), offset: 0, count: 100))
        XCTAssertEqual(refused, .chunkAck(ChunkAck(trialID: assign.trialID, step: 4, nextOffset: 0, status: .refused)))
        XCTAssertEqual(try store.heldCheckpoints(sweep: sweepID).map(\.step), [3])
        XCTAssertLessThanOrEqual(try heldBytes(store, sweepID), 1000)

        // Done, then the stored best survives the trial's end.
        _ = try await worker.done(assign, step: 4)
        XCTAssertEqual(try store.heldCheckpoints(sweep: sweepID).map(\.step), [3])
        let stats = await cluster.coordinator.statistics
        XCTAssertEqual(stats.uploadsRequested, 2)
        try await cluster.stop()
    }

    func testRequeuedTrialResumesFromItsLatestStoredCheckpoint() async throws {
        let dir = try temporaryDirectory(self)
        let clock = TestClock()
        let cluster = try TestCoordinator(stateDirectory: dir, clock: clock, socket: dir + "/c.sock")
        // keep_latest_per_trial (default true): a running trial's latest checkpoint is kept for resume.
        let sweep = Self.sweep.replacingOccurrences(of: "keep_latest_per_trial: false", with: "keep_latest_per_trial: true")
        _ = try await cluster.coordinator.submit(sweepFileText: sweep, fileName: "ckpt.yaml", baseDirectory: dir)
        let lost = try cluster.worker("lost")
        defer { lost.close() }
        let assign = try await lost.assignment()
        let ack = try lost.ack(try await lost.report(assign, seq: 0, [metric(ReservedMetric.checkpointBytes, 4, 256), metric("val_loss", 4, 0.7)]))
        XCTAssertEqual(ack.verdict(for: assign.trialID), .upload(step: 4))
        let file = Self.file(256, seed: 9)
        let complete = try await lost.send(Self.chunk(assign, step: 4, file, offset: 0, count: 256))
        XCTAssertEqual(complete, .chunkAck(ChunkAck(trialID: assign.trialID, step: 4, nextOffset: 256, status: .complete)))

        clock.advance(16)
        _ = try await cluster.coordinator.tick()
        let next = try cluster.worker("next")
        defer { next.close() }
        let again = try await next.assignment()
        XCTAssertEqual(again.trialID, assign.trialID)
        XCTAssertEqual(again.resumeFrom, ResumePoint(step: 4, digest: Self.digest(file), byteCount: 256))
        // A resent chunk of a checkpoint already stored is answered "complete" whoever sends it.
        let late = try await lost.send(Self.chunk(assign, step: 4, file, offset: 0, count: 10))
        XCTAssertEqual(late, .chunkAck(ChunkAck(trialID: assign.trialID, step: 4, nextOffset: 256, status: .complete)))
        try await cluster.stop()
    }

    /// Regression (worker SIGKILL mid-upload): an upload whose lease expired before its last chunk
    /// used to stay `uploading` for good — its bytes reserved, its part file kept, and the step never
    /// asked for again when the next attempt redid it. Now the expiry abandons it (back to `local`,
    /// part file deleted) and the next attempt's report of the step is asked to upload it again.
    func testUploadCutOffByAnExpiredLeaseIsAbandonedAndAskedForAgainFromTheNextAttempt() async throws {
        let (dir, clock, cluster, id) = try await startWithTheCheckpointSweep()
        let store = try SweepStore(readingAt: dir + "/thresher.sqlite")
        defer { try? store.close() }
        let lost = try cluster.worker("lost")
        defer { lost.close() }
        let assign = try await lost.assignment()
        let records = [metric(ReservedMetric.checkpointBytes, 2, 300), metric("val_loss", 2, 0.5)]
        let asked = try lost.ack(try await lost.report(assign, seq: 0, records))
        XCTAssertEqual(asked.verdict(for: assign.trialID), .upload(step: 2))
        let file = Self.file(300, seed: 3)
        let first = try await lost.send(Self.chunk(assign, step: 2, file, offset: 0, count: 100))
        XCTAssertEqual(first, .chunkAck(ChunkAck(trialID: assign.trialID, step: 2, nextOffset: 100, status: .accepted)))
        XCTAssertEqual(try heldBytes(store, id), 300)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/uploads").count, 1)

        clock.advance(16)
        _ = try await cluster.coordinator.tick()
        let trialID = Int64(assign.trialID)
        XCTAssertEqual(try store.checkpoints(trial: trialID).map(\.state), [.local], "the reservation is released")
        XCTAssertEqual(try heldBytes(store, id), 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/uploads"), [], "the part file is gone")
        let late = try await lost.send(Self.chunk(assign, step: 2, file, offset: 100, count: 200))
        XCTAssertEqual(late, .chunkAck(ChunkAck(trialID: assign.trialID, step: 2, nextOffset: 0, status: .refused)))

        // The next attempt redoes step 2 (no stored checkpoint to resume from) and is asked for it.
        let next = try cluster.worker("next")
        defer { next.close() }
        let again = try await next.assignment()
        XCTAssertEqual(again.trialID, assign.trialID)
        XCTAssertNil(again.resumeFrom)
        let firstSeq: UInt64 = if case .int(let seq) = again.run["first_seq"] { UInt64(seq) } else { 1 }
        let askedAgain = try next.ack(try await next.report(again, seq: firstSeq, records))
        XCTAssertEqual(askedAgain.verdict(for: again.trialID), .upload(step: 2))
        let whole = try await next.send(Self.chunk(again, step: 2, file, offset: 0, count: 300))
        XCTAssertEqual(whole, .chunkAck(ChunkAck(trialID: again.trialID, step: 2, nextOffset: 300, status: .complete)))
        XCTAssertEqual(try store.checkpoints(trial: trialID).map(\.state), [.stored])
        let statistics = await cluster.coordinator.statistics
        XCTAssertEqual(statistics.uploadsAbandoned, 1)
        try await cluster.stop()
    }

    /// A stored blob damaged on disk is caught when a reader starts on it (BlobRead at offset 0):
    /// the reader gets `Error(notFound)`, never the bytes; the checkpoint is evicted (reason in its
    /// event), the file deleted, and `statistics.corruptBlobs` counts it.
    func testCorruptBlobIsDetectedOnReadEvictedAndNeverServed() async throws {
        let (_, _, cluster, id) = try await startWithTheCheckpointSweep()
        let worker = try cluster.worker("w")
        defer { worker.close() }
        let assign = try await worker.assignment()
        let asked = try worker.ack(try await worker.report(assign, seq: 0, [metric(ReservedMetric.checkpointBytes, 1, 200), metric("val_loss", 1, 0.5)]))
        XCTAssertEqual(asked.verdict(for: assign.trialID), .upload(step: 1))
        let file = Self.file(200, seed: 5)
        _ = try await worker.send(Self.chunk(assign, step: 1, file, offset: 0, count: 200))
        let store = cluster.coordinator.sweepStore
        let hex = Self.digest(file).hex
        XCTAssertEqual(try store.heldCheckpoints(digest: hex).map(\.state), [.stored])

        let path = try cluster.coordinator.blobStore.blobPath(hex)
        var damaged = file
        damaged[17] ^= 0xff
        try Data(damaged).write(to: URL(fileURLWithPath: path))
        let reply = try await worker.send(.blobRead(BlobRead(digest: Self.digest(file), offset: 0, maxBytes: 1000)))
        guard case .error(let error) = reply else { return XCTFail("a corrupt blob was served: \(reply)") }
        XCTAssertEqual(error.code, .notFound)
        XCTAssertTrue(error.detail.contains("corrupt"), error.detail)
        XCTAssertEqual(try store.checkpoints(trial: Int64(assign.trialID)).map(\.state), [.evicted])
        XCTAssertEqual(try store.heldCheckpoints(sweep: id), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "the corrupt file is deleted")
        let evicted = try store.events(trial: Int64(assign.trialID)).filter { $0.kind == "checkpoint.evicted" }
        XCTAssertTrue(evicted.contains { $0.detail.contains("blob corrupt on disk") }, "\(evicted)")
        let statistics = await cluster.coordinator.statistics
        XCTAssertEqual(statistics.corruptBlobs, 1)
        try await cluster.stop()
    }

    /// An upload may finish after `Done`, but one whose worker vanished after `Done` used to stay
    /// `uploading` for good. After a lease timeout without a chunk it is abandoned (back to
    /// `local`, reservation and part file released); one that keeps moving is not.
    func testUploadOfAnEndedTrialThatStopsMovingIsAbandonedAfterALeaseTimeout() async throws {
        let (dir, clock, cluster, id) = try await startWithTheCheckpointSweep()
        let store = try SweepStore(readingAt: dir + "/thresher.sqlite")
        defer { try? store.close() }
        let worker = try cluster.worker("w")
        defer { worker.close() }
        let assign = try await worker.assignment()
        let asked = try worker.ack(try await worker.report(assign, seq: 0, [metric(ReservedMetric.checkpointBytes, 3, 300), metric("val_loss", 3, 0.5)]))
        XCTAssertEqual(asked.verdict(for: assign.trialID), .upload(step: 3))
        _ = try await worker.done(assign, step: 3)
        let file = Self.file(300, seed: 8)
        _ = try await worker.send(Self.chunk(assign, step: 3, file, offset: 0, count: 100))
        clock.advance(10)
        _ = try await worker.send(Self.chunk(assign, step: 3, file, offset: 100, count: 100))   // still moving
        clock.advance(10)
        _ = try await cluster.coordinator.tick()
        XCTAssertEqual(try store.checkpoints(trial: Int64(assign.trialID)).map(\.state), [.uploading], "a chunk 10 s ago: still moving")
        clock.advance(16)   // the worker is gone
        _ = try await cluster.coordinator.tick()
        XCTAssertEqual(try store.checkpoints(trial: Int64(assign.trialID)).map(\.state), [.local])
        XCTAssertEqual(try heldBytes(store, id), 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/uploads"), [])
        try await cluster.stop()
    }
}
