import XCTest
@testable import thresher
import ThresherCoordinator

/// The bench reads a coordinator child's figures from its shutdown line; both ends must agree.
final class CoordinatorShutdownLineTests: XCTestCase {
    func testTheBenchReadsBackWhatTheCoordinatorWrites() throws {
        var statistics = CoordinatorStatistics()
        statistics.batchesCommitted = 4
        statistics.requestsBatched = 18
        statistics.batchCommitSeconds = 0.0008
        statistics.batchProcessingSeconds = 0.0018
        let durability = DurabilityFigures(syncs: 2, batchesReleased: 4, syncSeconds: 0.0012)
        let log = "coordinator listening on ipc:///x\ncoordinator stopped; \(statistics.batchSummary); \(durability.summary)\n"
        let figures = try XCTUnwrap(CoordinatorChild.batchFigures(log: log))
        XCTAssertEqual(figures.meanBatch, 4.5, accuracy: 1e-9)
        XCTAssertEqual(figures.commitMs, 0.2, accuracy: 1e-9)
        XCTAssertEqual(figures.processingUs, 100, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(figures.syncMs), 0.6, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(figures.batchesPerSync), 2, accuracy: 1e-9)
    }

    func testALineWithoutSyncFiguresStillGivesTheBatchFigures() throws {
        let log = "coordinator stopped; batches 3, requests 9, mean batch 3.00, mean commit 0.500 ms, processing 80.0 us/request; no WAL syncs"
        let figures = try XCTUnwrap(CoordinatorChild.batchFigures(log: log))
        XCTAssertEqual(figures.meanBatch, 3, accuracy: 1e-9)
        XCTAssertNil(figures.syncMs)
        XCTAssertNil(figures.batchesPerSync)
    }
}
