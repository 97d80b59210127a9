import Foundation
import XCTest
@testable import ThresherStore

/// `SweepStore.batch`: one transaction for many operations, each operation still all-or-nothing.
final class StoreBatchTests: XCTestCase {
    func testBatchedWritesAreVisibleInsideTheBatchAndToOtherConnectionsOnlyAfterItsCommit() throws {
        let (store, path) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "{}", seed: 1, now: at(0))
        let reader = try SweepStore(readingAt: path)
        var seenInside: [Int64] = []
        try store.batch {
            XCTAssertTrue(store.isBatching)
            let first = try store.enqueue(sweep: sweep.id, params: ["i": 0], now: at(1))
            let second = try store.enqueue(sweep: sweep.id, params: ["i": 1], now: at(2))
            // Reads inside the batch see its own writes (index 1 follows index 0)...
            XCTAssertEqual(try store.trial(second.id).indexInSweep, 1)
            seenInside = try store.trials(sweep: sweep.id).map(\.id)
            // ...and an assignment inside the batch picks the first of them.
            let assignment = try store.assignNext(worker: "w", now: at(3), leaseDuration: 15)
            XCTAssertEqual(assignment?.trial.id, first.id)
            // Another connection sees none of it before the commit.
            XCTAssertTrue(try reader.trials(sweep: sweep.id).isEmpty)
        }
        XCTAssertFalse(store.isBatching)
        XCTAssertEqual(seenInside.count, 2)
        let committed = try reader.trials(sweep: sweep.id)
        XCTAssertEqual(committed.map(\.id), seenInside)
        XCTAssertEqual(committed.map(\.state), [.assigned, .pending])
    }

    func testAFailingOperationInsideABatchRollsBackOnlyItsOwnWrites() throws {
        let (store, path) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "{}", seed: 1, now: at(0))
        _ = try store.enqueue(sweep: sweep.id, params: ["i": 0], now: at(1))
        let lease = try XCTUnwrap(try store.assignNext(worker: "w", now: at(2), leaseDuration: 60)).lease
        let checkpoint = try store.recordCheckpoint(trial: lease.trial, epoch: lease.epoch, step: 1, metric: 0.5, bytes: 10, now: at(3))
        var neighbour: Trial?
        try store.batch {
            neighbour = try store.enqueue(sweep: sweep.id, params: ["i": 1], now: at(4))
            // `evict` marks the first id evicted, then meets an unknown id and throws: its first
            // update must not survive, inside the batch or after it.
            XCTAssertThrowsStoreError(.checkpointNotFound(987_654), try store.evict([checkpoint.id, 987_654], reason: "test", now: at(5)))
            XCTAssertEqual(try store.checkpoint(checkpoint.id).state, .local)
            // A stale-lease refusal in the middle changes nothing either.
            XCTAssertThrowsError(try store.complete(trial: lease.trial, epoch: lease.epoch + 1, now: at(6)))
            _ = try store.appendReport(trial: lease.trial, seq: 1, epoch: lease.epoch,
                                       points: [MetricPoint(step: 1, name: "loss", value: 0.5, time: at(7))], now: at(7))
        }
        let reader = try SweepStore(readingAt: path)
        XCTAssertEqual(try reader.checkpoint(checkpoint.id).state, .local)
        XCTAssertEqual(try reader.trial(lease.trial).state, .assigned)
        XCTAssertEqual(try reader.trial(try XCTUnwrap(neighbour).id).state, .pending)
        XCTAssertEqual(try reader.metrics(trial: lease.trial).map(\.value), [0.5])
        XCTAssertFalse(try reader.events(trial: lease.trial).contains { $0.kind == "checkpoint.evicted" })
    }

    func testABatchWhoseBodyThrowsLeavesNothing() throws {
        let (store, path) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "{}", seed: 1, now: at(0))
        struct Abandon: Error {}
        XCTAssertThrowsError(try store.batch {
            _ = try store.enqueue(sweep: sweep.id, params: ["i": 0], now: at(1))
            throw Abandon()
        }) { XCTAssertTrue($0 is Abandon) }
        XCTAssertFalse(store.isBatching)
        XCTAssertTrue(try SweepStore(readingAt: path).trials(sweep: sweep.id).isEmpty)
        // The store works normally afterwards.
        XCTAssertEqual(try store.enqueue(sweep: sweep.id, params: ["i": 0], now: at(2)).indexInSweep, 0)
    }

    func testABatchOnOneStoreDoesNotCaptureAnotherStoresCalls() throws {
        let (storeA, _) = try makeSweepStore()
        let (storeB, pathB) = try makeSweepStore()
        let sweepB = try storeB.createSweep(name: "b", spec: "{}", seed: 1, now: at(0))
        let readerB = try SweepStore(readingAt: pathB)
        try storeA.batch {
            XCTAssertFalse(storeB.isBatching)
            _ = try storeB.enqueue(sweep: sweepB.id, params: ["i": 0], now: at(1))
            // B's write was its own transaction: committed already.
            XCTAssertEqual(try readerB.trials(sweep: sweepB.id).count, 1)
        }
    }

    // MARK: Deferred sync (the coordinator's pipelined group commit)

    private struct Refused: Error {}

    func testADeferredBatchIsCommittedAtOnceAndTheWriterGoesBackToFullSync() throws {
        let (store, path) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "{}", seed: 1, now: at(0))
        let reader = try SweepStore(readingAt: path)
        let trial = try store.batch(deferringSync: true) {
            try store.enqueue(sweep: sweep.id, params: ["i": 0], now: at(1))
        }
        // Committed (another connection sees it) before any sync...
        XCTAssertEqual(try reader.trials(sweep: sweep.id).map(\.id), [trial.id])
        // ...and every later write is FULL again.
        try store.pool.write { db in XCTAssertEqual(try Int.fetchOne(db, sql: "PRAGMA synchronous"), 2, "FULL") }
        try store.syncWriteAheadLog()

        // A deferred batch that throws is rolled back whole, and the pragma is restored all the same.
        XCTAssertThrowsError(try store.batch(deferringSync: true) {
            _ = try store.enqueue(sweep: sweep.id, params: ["i": 1], now: at(2))
            throw Refused()
        })
        XCTAssertEqual(try reader.trials(sweep: sweep.id).map(\.id), [trial.id])
        try store.pool.write { db in XCTAssertEqual(try Int.fetchOne(db, sql: "PRAGMA synchronous"), 2, "FULL") }
        XCTAssertFalse(store.isBatching)
    }

    func testSyncingALogThatIsGoneFailsWithStorageFailed() throws {
        let (store, path) = try makeSweepStore()
        _ = try store.createSweep(name: "s", spec: "{}", seed: 1, now: at(0))
        try store.syncWriteAheadLog()
        try FileManager.default.removeItem(atPath: path + "-wal")
        XCTAssertThrowsError(try store.syncWriteAheadLog()) { error in
            guard case StoreError.storageFailed(let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("-wal"), detail)
        }
    }
}
