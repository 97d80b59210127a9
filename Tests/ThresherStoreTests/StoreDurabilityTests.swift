import Foundation
import GRDB
import XCTest
@testable import ThresherStore

private struct Abort: Error {}

final class StoreDurabilityTests: XCTestCase {
    func testSchemaIsMigratedInWALModeWithFullSync() throws {
        let (store, _) = try makeSweepStore()
        XCTAssertEqual(try store.appliedMigrations(), ["v1", "v2"])
        try store.pool.read { db in
            XCTAssertEqual(try String.fetchOne(db, sql: "PRAGMA journal_mode"), "wal")
            XCTAssertEqual(try Int.fetchOne(db, sql: "PRAGMA foreign_keys"), 1)
        }
        try store.pool.write { db in XCTAssertEqual(try Int.fetchOne(db, sql: "PRAGMA synchronous"), 2, "FULL") }
        let tables = try store.pool.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") }
        XCTAssertEqual(tables.filter { !$0.hasPrefix("grdb_") && !$0.hasPrefix("sqlite_") },
                       ["checkpoint_sizes", "checkpoints", "events", "metric_reports", "sweeps", "trials"])
    }

    func testAReopenedStoreHasEverything() throws {
        let (store, path) = try makeSweepStore()
        let sweep = try store.createSweep(name: "lr search", spec: "name: x\n", seed: 42, priority: 3, now: at(0))
        let trial = try store.enqueue(sweep: sweep.id, params: ["lr": 0.01], now: at(1))
        let lease = try XCTUnwrap(try store.assignNext(worker: "w", now: at(2), leaseDuration: 60)).lease
        try store.markRunning(trial: trial.id, epoch: lease.epoch, now: at(3))
        let batch = (0 ..< 100).map { MetricPoint(step: Int64($0), name: "loss", value: 1 / Double($0 + 1), time: at(4)) }
        _ = try store.appendReport(trial: trial.id, seq: 0, epoch: lease.epoch, points: batch, now: at(4))
        let checkpoint = try store.recordCheckpoint(trial: trial.id, epoch: lease.epoch, step: 99, metric: 0.01, bytes: 123, now: at(5))
        let before = (try store.sweeps(), try store.trials(sweep: sweep.id), try store.metrics(trial: trial.id),
                      try store.checkpoints(trial: trial.id), try store.events())
        try store.close()

        let reopened = try SweepStore(path: path)
        XCTAssertEqual(try reopened.sweeps(), before.0)
        XCTAssertEqual(try reopened.trials(sweep: sweep.id), before.1)
        XCTAssertEqual(try reopened.metrics(trial: trial.id), before.2)
        XCTAssertEqual(try reopened.checkpoints(trial: trial.id), before.3)
        XCTAssertEqual(try reopened.events(), before.4)
        XCTAssertEqual(try reopened.trial(trial.id).leaseExpiry, lease.expiry, "times round-trip exactly")
        XCTAssertEqual(try reopened.checkpoint(checkpoint.id).bytes, 123)
        XCTAssertEqual(try reopened.appliedMigrations(), ["v1", "v2"], "reopening does not migrate twice")
        // The lease is still live after a coordinator restart: the worker carries on.
        XCTAssertEqual(try reopened.appendReport(trial: trial.id, seq: 0, epoch: lease.epoch, points: batch, now: at(6)), .duplicate)
        XCTAssertEqual(try reopened.appendReport(trial: trial.id, seq: 1, epoch: lease.epoch, points: batch, now: at(6)), .stored(points: 100))
    }

    /// A failure inside a write transaction (the same path as a crash before commit) leaves nothing.
    func testAnAbortedTransactionLeavesNothingHalfWritten() throws {
        let (store, path) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "", seed: 0, now: at(0))
        let trial = try store.enqueue(sweep: sweep.id, params: [Int](), now: at(0))
        XCTAssertThrowsError(try store.pool.write { db in
            try db.execute(sql: "INSERT INTO metric_reports (trialId, seq, epoch, points, receivedAt, body) VALUES (?, 0, 1, 1, 0, ?)",
                           arguments: [trial.id, Data(MetricReportBlob.encode([MetricPoint(step: 1, name: "a", value: 1, time: at(0))]))])
            try db.execute(sql: "UPDATE trials SET state = 'running' WHERE id = ?", arguments: [trial.id])
            throw Abort()
        })
        // A constraint failure half-way through an API call rolls back the event written before it.
        let eventsBefore = try store.events().count
        XCTAssertThrowsError(try store.pool.write { db in
            try SweepStore.log(db, now: at(1), sweep: sweep.id, trial: trial.id, kind: "probe", [:])
            try db.execute(sql: "UPDATE trials SET state = 'bogus' WHERE id = ?", arguments: [trial.id])
        })
        try store.close()
        let reopened = try SweepStore(path: path)
        XCTAssertEqual(try reopened.metrics(trial: trial.id), [])
        XCTAssertEqual(try reopened.nextReportSeq(trial: trial.id), 0)
        XCTAssertEqual(try reopened.trial(trial.id).state, .pending)
        XCTAssertEqual(try reopened.events().count, eventsBefore)
    }

    /// Readers run while a writer appends batches; every read transaction sees a whole number of
    /// batches (decoded points = 10 × reports) and the same count twice within one read.
    func testConcurrentReadersSeeConsistentSnapshots() throws {
        let (store, _) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "", seed: 0, now: at(0))
        let trial = try store.enqueue(sweep: sweep.id, params: [Int](), now: at(0))
        let lease = try store.assign(trial: trial.id, worker: "w", now: at(0), leaseDuration: 1e6).lease
        let batches = 200
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            if worker == 0 {
                for seq in 0 ..< batches {
                    let batch = (0 ..< 10).map { MetricPoint(step: Int64(seq), name: "m\($0)", value: 1, time: at(1)) }
                    if (try? store.appendReport(trial: trial.id, seq: Int64(seq), epoch: lease.epoch, points: batch, now: at(1))) != .stored(points: 10) {
                        failures.add()
                    }
                }
            } else {
                for _ in 0 ..< 200 {
                    do {
                        try store.pool.read { db in
                            let reports = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM metric_reports") ?? -1
                            let bodies = try Data.fetchAll(db, sql: "SELECT body FROM metric_reports")
                            let metrics = try bodies.reduce(0) { try $0 + MetricReportBlob.decode([UInt8]($1)).count }
                            let again = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM metric_reports") ?? -1
                            if metrics != reports * 10 || again != reports { failures.add() }
                        }
                    } catch { failures.add() }
                }
            }
        }
        XCTAssertEqual(failures.value, 0)
        XCTAssertEqual(try store.metrics(trial: trial.id).count, batches * 10)
    }

    func testTextThatLooksLikeSQLIsStoredVerbatim() throws {
        let (store, _) = try makeSweepStore()
        let name = "x'); DROP TABLE trials; --"
        let sweep = try store.createSweep(name: name, spec: "\"; DELETE FROM sweeps; --", seed: 0, now: at(0))
        let trial = try store.enqueue(sweep: sweep.id, params: ["k'": "v\"); --"], now: at(0))
        XCTAssertEqual(try store.sweep(sweep.id).name, name)
        XCTAssertEqual(try store.trial(trial.id).params, #"{"k'":"v\"); --"}"#)
        XCTAssertEqual(try store.trials(sweep: sweep.id).count, 1)
    }

    /// Ad-hoc throughput figure; runs only with THRESHER_STORE_BENCH=1 (not an assertion).
    func testMeasureReportThroughput() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["THRESHER_STORE_BENCH"] == "1", "set THRESHER_STORE_BENCH=1")
        let (store, _) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "", seed: 0, now: at(0))
        let trial = try store.enqueue(sweep: sweep.id, params: [Int](), now: at(0))
        let lease = try store.assign(trial: trial.id, worker: "w", now: at(0), leaseDuration: 1e6).lease
        let batch = (0 ..< 1000).map { MetricPoint(step: Int64($0), name: "loss", value: Double($0), time: at(1)) }
        let count = 100
        let start = Date()
        for seq in 0 ..< count { _ = try store.appendReport(trial: trial.id, seq: Int64(seq), epoch: lease.epoch, points: batch, now: at(1)) }
        let elapsed = Date().timeIntervalSince(start)
        print("appendReport: \(count) batches of 1000 points in \(elapsed) s = \(Double(count) / elapsed) batches/s")
        let small = Date()
        for seq in count ..< count + 200 {
            _ = try store.appendReport(trial: trial.id, seq: Int64(seq), epoch: lease.epoch, points: Array(batch.prefix(5)), now: at(1))
        }
        print("appendReport: 200 batches of 5 points = \(200 / Date().timeIntervalSince(small)) batches/s (synchronous FULL)")
        // The same with NORMAL, for the durability trade-off documented in docs/store.md.
        try store.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        let normal = Date()
        for seq in count + 200 ..< count + 400 {
            _ = try store.appendReport(trial: trial.id, seq: Int64(seq), epoch: lease.epoch, points: Array(batch.prefix(5)), now: at(1))
        }
        print("appendReport: 200 batches of 5 points = \(200 / Date().timeIntervalSince(normal)) batches/s (synchronous NORMAL)")
    }
}

/// A thread-safe counter for the concurrency test.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
