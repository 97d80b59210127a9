import Foundation
import ThresherStore
@testable import ThresherCoordinator
import ThresherReport
import XCTest

/// The reader on a real SQLite store: curves in store order, ASHA rungs as iterations, brackets,
/// and storage history from the event log (stored, then evicted).
final class SweepReportReaderTests: XCTestCase {
    func testReaderTurnsTheStoreIntoAReport() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-reader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("thresher.sqlite").path
        let store = try SweepStore(path: path)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        func at(_ s: Double) -> Date { t0.addingTimeInterval(s) }
        let spec = """
            method: random
            metric: {name: loss, goal: minimize}
            parameters: {lr: {distribution: log_uniform_values, min: 0.001, max: 1}, opt: {values: [adam, sgd]}}
            early_terminate: {type: asha, grace_period: 1, reduction_factor: 3, max_t: 9, brackets: 2}
            thresher: {retention: {max_bytes: 1000}}
            """
        let sweep = try store.createSweep(name: "reader", spec: spec, seed: 1, now: t0)
        let a = try store.enqueue(sweep: sweep.id, params: ["lr": 0.1], now: t0)
        let b = try store.enqueue(sweep: sweep.id, params: ["lr": 0.01], now: t0)
        let leaseA = try XCTUnwrap(try store.assignNext(worker: "w", now: at(1), leaseDuration: 600)).lease
        let leaseB = try XCTUnwrap(try store.assignNext(worker: "w", now: at(1), leaseDuration: 600)).lease
        try store.markRunning(trial: a.id, epoch: leaseA.epoch, now: at(1))
        try store.markRunning(trial: b.id, epoch: leaseB.epoch, now: at(1))
        func point(_ step: Int64, _ value: Double) -> MetricPoint { MetricPoint(step: step, name: "loss", value: value, time: at(0)) }
        // b's first value is stored between a's two reports.
        _ = try store.appendReport(trial: a.id, seq: 1, epoch: leaseA.epoch, points: [point(1, 0.9)], now: at(2))
        _ = try store.appendReport(trial: b.id, seq: 1, epoch: leaseB.epoch, points: [point(1, 0.5), point(2, .nan)], now: at(3))
        _ = try store.appendReport(trial: a.id, seq: 2, epoch: leaseA.epoch, points: [point(2, 0.8), point(3, 0.7)], now: at(4))
        let first = try store.recordCheckpoint(trial: a.id, epoch: leaseA.epoch, step: 1, metric: 0.9, bytes: 400, now: at(2))
        let digest = String(repeating: "ab", count: 32)
        try store.setCheckpointState(first.id, to: .uploading, digest: digest, now: at(2))
        try store.setCheckpointState(first.id, to: .stored, now: at(5))
        let second = try store.recordCheckpoint(trial: a.id, epoch: leaseA.epoch, step: 3, metric: 0.7, bytes: 300, now: at(4))
        try store.setCheckpointState(second.id, to: .uploading, digest: String(repeating: "cd", count: 32), now: at(4))
        try store.setCheckpointState(second.id, to: .stored, now: at(6))
        _ = try store.evict([first.id], reason: "test", now: at(7))
        try store.complete(trial: a.id, epoch: leaseA.epoch, now: at(8))
        try store.stop(trial: b.id, explanation: StopExplanation(rule: "asha", rung: 1, step: 3, threshold: 0.4, value: 0.5,
                                                                 message: "stopped at rung 1 (iteration 3)"), now: at(9))
        try store.close()

        let readOnly = try SweepStore(readingAt: path)
        let report = try SweepReportReader.read(store: readOnly, sweep: sweep.id, now: at(100))
        XCTAssertEqual(report.method, "random")
        XCTAssertEqual(report.metric, "loss")
        XCTAssertEqual(report.logScaledParameters, ["lr"])
        XCTAssertEqual(report.trials.map(\.state), ["completed", "stopped"])
        XCTAssertEqual(report.trials.map(\.endedAt), [at(8), at(9)])
        XCTAssertEqual(report.trials[0].curve.map(\.value), [0.9, 0.8, 0.7])
        XCTAssertEqual(report.trials[0].curve.map(\.storedAt), [at(2), at(4), at(4)], "the time each report was stored")
        XCTAssertEqual(report.trials[1].iterations, 1, "NaN is not an iteration")
        XCTAssertEqual(report.trials.map(\.bracket), [0, 1], "ASHA brackets round-robin by index")
        XCTAssertEqual(report.schedule, ReportSchedule(policy: "asha", brackets: [[1, 3, 9], [3, 9]]))
        XCTAssertEqual(report.trials[1].stop?.rungIteration, 3, "rung index 1 is iteration 3")
        XCTAssertEqual(report.trials[0].storedCheckpoints, [ReportCheckpoint(step: 3, bytes: 300, digest: String(repeating: "cd", count: 32), metric: 0.7)])
        XCTAssertEqual(report.storage.maxBytes, 1000)
        XCTAssertEqual(StorageSeries.points(report.storage.changes).map(\.bytes), [400, 700, 300])
        XCTAssertEqual(StorageSeries.points(report.storage.changes).map(\.time), [at(5), at(6), at(7)])
        XCTAssertEqual(BestSoFarChart(report: report).series().improvements.map(\.value), [0.9, 0.5])
        XCTAssertEqual(report.counts, [StateCount(state: "completed", count: 1), StateCount(state: "stopped", count: 1)])
        XCTAssertEqual(RungTable(report: report).rows().map(\.stopped), [0, 0, 0, 1, 0], "b (bracket 1) stopped at its first rung, iteration 3")
    }
}
