import Foundation
import XCTest
import ThresherCoordinator
@testable import ThresherNet
@testable import ThresherStore
import ThresherWire

/// The counters behind the metrics endpoint count what the store holds: points ingested and
/// assignments are taken back with a batch whose commit fails, and requests are counted by kind.
final class MetricsCountersTests: XCTestCase {
    let session = WorkerSession(id: 1, workerID: "wa", slots: 2, capabilities: [], pipe: PipeID(raw: 1))

    func testAFailedCommitTakesBackItsPointsAndAssignments() async throws {
        let dir = try temporaryDirectory(self)
        let clock = TestClock()
        let options = CoordinatorOptions(leaseTimeout: 15, heartbeatInterval: 5, maxAttempts: 3, retryAfterMs: 5, clock: { clock.now() })
        let coordinator = try Coordinator(stateDirectory: dir, options: options)
        _ = try await coordinator.submit(sweepFileText: GridSweepTests.gridSweep, fileName: "grid.yaml", baseDirectory: dir)
        let request = BatchedRequest(session: session, message: .requestTrial(RequestTrial(freeSlots: 1)))
        guard case .assign(let a) = await coordinator.handle(batch: [request])[0] else { return XCTFail("no assignment") }
        func report(seq: UInt64) -> BatchedRequest {
            BatchedRequest(session: session, message: .report(Report(trialID: a.trialID, leaseEpoch: a.leaseEpoch, seq: seq, batch: MetricBatch(
                records: [metric("val_loss", Int64(seq), 0.5), metric("train_loss", Int64(seq), 0.4), metric("acc", Int64(seq), 0.9)]))))
        }
        _ = await coordinator.handle(batch: [report(seq: 1)])
        let before = await coordinator.metricsSnapshot().statistics
        XCTAssertEqual(before.metricPointsIngested, 3)
        XCTAssertEqual(before.trialsDispatched, 1)

        // Every commit that assigns a trial fails at COMMIT (a deferred foreign key), after each
        // statement of the batch succeeded: the report's points and the assignment are rolled back.
        let store = coordinator.sweepStore
        try await store.pool.writeWithoutTransaction { db in
            try db.execute(sql: """
                CREATE TABLE commit_breaker (ref INTEGER REFERENCES trials(id) DEFERRABLE INITIALLY DEFERRED);
                CREATE TRIGGER break_commit AFTER INSERT ON events WHEN NEW.kind = 'trial.assigned'
                BEGIN INSERT INTO commit_breaker (ref) VALUES (-1); END;
                """)
        }
        let failed = await coordinator.handle(batch: [report(seq: 2), request])
        XCTAssertTrue(failed.allSatisfy { if case .error = $0 { true } else { false } }, "\(failed)")
        let after = await coordinator.metricsSnapshot().statistics
        XCTAssertEqual(after.metricPointsIngested, 3)
        XCTAssertEqual(after.trialsDispatched, 1)
        XCTAssertEqual(try store.storedMetricPoints(), 3)
        XCTAssertEqual(after.rejected["internalError"], 2)

        try await store.pool.writeWithoutTransaction { db in try db.execute(sql: "DROP TRIGGER break_commit; DROP TABLE commit_breaker") }
        _ = await coordinator.handle(batch: [report(seq: 2), request])
        let healed = await coordinator.metricsSnapshot()
        XCTAssertEqual(healed.statistics.metricPointsIngested, 6)
        XCTAssertEqual(try store.storedMetricPoints(), 6)
        XCTAssertEqual(healed.statistics.trialsDispatched, 2)
        XCTAssertEqual(healed.plannedTrials.values.first, 9)
        // Every request handled is counted by kind, the failed batch's included: 3 RequestTrials, 3 Reports.
        XCTAssertEqual(healed.statistics.requests[.requestTrial], 3)
        XCTAssertEqual(healed.statistics.requests[.report], 3)
        let gauges = try store.gauges()
        XCTAssertEqual(gauges.trials.values.first?[.running], 1)
        XCTAssertEqual(gauges.trials.values.first?[.assigned], 1)
        XCTAssertEqual(gauges.workersHoldingLeases, 1)
        try await coordinator.close()
    }
}
