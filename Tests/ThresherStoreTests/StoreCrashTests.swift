import Foundation
import GRDB
import XCTest
@testable import ThresherStore

/// A real crash: the test binary re-runs itself as a child that writes committed data, then opens a
/// write transaction, inserts a report batch and a state change, and SIGKILLs itself before commit.
/// The parent reopens the file and finds every committed row and none of the killed transaction.
final class StoreCrashTests: XCTestCase {
    static let childPathKey = "THRESHER_STORE_CRASH_CHILD_DB"

    func testKilledMidTransactionLeavesOnlyCommittedData() throws {
        if let path = ProcessInfo.processInfo.environment[Self.childPathKey] {
            try runChild(path: path)  // never returns
            return
        }
        let dir = try makeTemporaryDirectory(self)
        let path = dir + "/crash.sqlite"
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["ThresherStoreTests.StoreCrashTests/testKilledMidTransactionLeavesOnlyCommittedData"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childPathKey] = path
        child.environment = environment
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        child.waitUntilExit()
        XCTAssertEqual(child.terminationReason, .uncaughtSignal)
        XCTAssertEqual(child.terminationStatus, SIGKILL)

        let store = try SweepStore(path: path)
        let trial = try XCTUnwrap(try store.sweeps().first.flatMap { try store.trials(sweep: $0.id).first })
        XCTAssertEqual(trial.state, .running, "the committed transition survived; the killed one did not")
        XCTAssertEqual(try store.metrics(trial: trial.id).count, 10, "only the committed batch")
        XCTAssertEqual(try store.nextReportSeq(trial: trial.id), 1)
        XCTAssertFalse(try store.events().contains { $0.kind == "uncommitted" })
        // The file is healthy and writable after recovery.
        XCTAssertEqual(try store.pool.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }, "ok")
        XCTAssertEqual(try store.appendReport(trial: trial.id, seq: 1, epoch: trial.leaseEpoch, points: [], now: at(3)), .stored(points: 0))
    }

    private func runChild(path: String) throws {
        let store = try SweepStore(path: path)
        let sweep = try store.createSweep(name: "crash", spec: "", seed: 0, now: at(0))
        let trial = try store.enqueue(sweep: sweep.id, params: [Int](), now: at(0))
        let lease = try store.assign(trial: trial.id, worker: "w", now: at(0), leaseDuration: 1e6).lease
        try store.markRunning(trial: trial.id, epoch: lease.epoch, now: at(1))
        let batch = (0 ..< 10).map { MetricPoint(step: Int64($0), name: "loss", value: 1, time: at(1)) }
        _ = try store.appendReport(trial: trial.id, seq: 0, epoch: lease.epoch, points: batch, now: at(1))
        try store.pool.write { db in
            let points = (0 ..< 1000).map { _ in MetricPoint(step: 1, name: "loss", value: 0, time: at(2)) }
            try db.execute(sql: "INSERT INTO metric_reports (trialId, seq, epoch, points, receivedAt, body) VALUES (?, 1, ?, 1000, 2, ?)",
                           arguments: [trial.id, lease.epoch, Data(MetricReportBlob.encode(points))])
            try db.execute(sql: "UPDATE trials SET state = 'completed' WHERE id = ?", arguments: [trial.id])
            try SweepStore.log(db, now: at(2), sweep: sweep.id, trial: trial.id, kind: "uncommitted", [:])
            kill(getpid(), SIGKILL)
        }
    }
}
