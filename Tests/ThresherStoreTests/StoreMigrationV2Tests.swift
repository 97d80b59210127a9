import Foundation
import GRDB
import XCTest
@testable import ThresherStore

/// A state file written by a v1 coordinator (a row per metric point) opens under v2 with every
/// point, value and checkpoint-size announcement intact.
final class StoreMigrationV2Tests: XCTestCase {
    func testAV1DatabaseWithDataMigratesAndReadsBackIdentically() throws {
        let path = NSTemporaryDirectory() + "thresher-v1-\(UUID().uuidString).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }

        // Rows as v1's appendReport wrote them: value NULL for NaN, positions 0..<n.
        let reports: [(trial: Int64, seq: Int64, points: [(step: Int64, name: String, value: Double?, time: Double)])] = [
            (1, 0, [(1, "loss", 0.9, 10), (1, "acc", 0.1, 10), (1, SweepStore.checkpointSizeMetric, 100, 10)]),
            (1, 1, [(2, "loss", nil, 11), (2, "loss", .infinity, 11.5), (1, SweepStore.checkpointSizeMetric, 150, 12)]),
            (1, 2, []),
            (2, 0, [(1, "loss", -.infinity, 20), (3, "acc", 0.5, 21)]),
        ]
        do {
            let v1 = try DatabasePool(path: path)
            try StoreSchema.migrator.migrate(v1, upTo: "v1")
            try v1.write { db in
                try db.execute(sql: "INSERT INTO sweeps (id, name, spec, seed, state, createdAt) VALUES (1, 's', '', 0, 'active', 0)")
                for trial in [1, 2] {
                    try db.execute(sql: """
                        INSERT INTO trials (id, sweepId, indexInSweep, params, state, leaseEpoch, maxAttempts, createdAt)
                        VALUES (?, 1, ?, '[]', 'running', 1, 3, 0)
                        """, arguments: [trial, trial])
                }
                for report in reports {
                    try db.execute(sql: "INSERT INTO metric_reports (trialId, seq, epoch, points, receivedAt) VALUES (?, ?, 1, ?, 5)",
                                   arguments: [report.trial, report.seq, report.points.count])
                    for (position, point) in report.points.enumerated() {
                        try db.execute(sql: """
                            INSERT INTO metrics (trialId, seq, position, step, name, value, time) VALUES (?, ?, ?, ?, ?, ?, ?)
                            """, arguments: [report.trial, report.seq, position, point.step, point.name, point.value, point.time])
                    }
                }
            }
            try v1.close()
        }

        let store = try SweepStore(path: path)
        XCTAssertEqual(try store.appliedMigrations(), ["v1", "v2"])
        try store.pool.read { db in
            XCTAssertFalse(try db.tableExists("metrics"))
            XCTAssertFalse(try db.tableExists("metric_reports_v2"))
            XCTAssertEqual(try String.fetchOne(db, sql: "PRAGMA integrity_check"), "ok")
            XCTAssertEqual(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check"), [])
        }
        for trial: Int64 in [1, 2] {
            let want = reports.filter { $0.trial == trial }.flatMap { report in
                report.points.enumerated().map { position, point in
                    MetricRecord(trialId: trial, seq: report.seq, position: position, step: point.step, name: point.name,
                                 value: point.value ?? .nan, time: Date(timeIntervalSince1970: point.time))
                }
            }
            let got = try store.metrics(trial: trial)
            XCTAssertEqual(got.count, want.count)
            for (g, w) in zip(got, want) {
                XCTAssertEqual([g.trialId, g.seq, Int64(g.position), g.step], [w.trialId, w.seq, Int64(w.position), w.step])
                XCTAssertEqual(g.name, w.name)
                XCTAssertEqual(g.value.isNaN ? "nan" : "\(g.value)", w.value.isNaN ? "nan" : "\(w.value)")
                XCTAssertEqual(g.time, w.time)
            }
        }
        XCTAssertEqual(try store.metrics(trial: 1, name: "loss").count, 3)
        XCTAssertEqual(try store.lastFiniteMetric(trial: 1, name: "loss"), 0.9)
        XCTAssertEqual(try store.lastMetricValue(trial: 1, name: "loss", step: 2), .infinity)
        XCTAssertEqual(try store.lastMetricValue(trial: 2, name: "acc", step: 3), 0.5)
        XCTAssertNil(try store.lastMetricValue(trial: 2, name: "acc", step: 1))
        XCTAssertEqual(try store.checkpointSizes(trial: 1), [1: 150], "the later announcement wins")
        XCTAssertEqual(try store.checkpointSizes(trial: 2), [:])
        XCTAssertEqual(try store.nextReportSeq(trial: 1), 3)
        let rows = try store.metricRows(sweep: 1, afterTrial: 0, afterSeq: 0, afterPosition: 0, limit: 100)
        XCTAssertEqual(rows.map { [$0.trialId, $0.seq, Int64($0.position)] },
                       [[1, 0, 0], [1, 0, 1], [1, 0, 2], [1, 1, 0], [1, 1, 1], [1, 1, 2], [2, 0, 0], [2, 0, 1]])
        // The migrated report's identity still holds: a resend of seq 0 is a duplicate.
        XCTAssertEqual(try store.appendReport(trial: 1, seq: 0, epoch: 1, points: [], now: Date(timeIntervalSince1970: 6)), .duplicate)
    }
}
