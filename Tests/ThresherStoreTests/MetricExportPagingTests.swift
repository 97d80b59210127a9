import Foundation
import XCTest
@testable import ThresherStore

/// `metricRows` pages through reports stored as blobs: every point exactly once, in (trial, seq,
/// position) order, whatever the page size, including pages that end inside a report.
final class MetricExportPagingTests: XCTestCase {
    func testEveryPageSizeVisitsEveryRowOnceInOrder() throws {
        let (store, _) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "", seed: 0, now: at(0))
        let other = try store.createSweep(name: "other", spec: "", seed: 0, now: at(0))
        var want: [[Int64]] = []
        for (sweepId, sizes) in [(sweep.id, [3, 0, 5]), (other.id, [2]), (sweep.id, [1, 4])] {
            let trial = try store.enqueue(sweep: sweepId, params: [Int](), now: at(0))
            let lease = try store.assign(trial: trial.id, worker: "w", now: at(0), leaseDuration: 1e6).lease
            for (seq, size) in sizes.enumerated() {
                let points = (0 ..< size).map { MetricPoint(step: Int64(seq * 10 + $0), name: "m\($0 % 2)", value: Double($0), time: at(1)) }
                XCTAssertEqual(try store.appendReport(trial: trial.id, seq: Int64(seq), epoch: lease.epoch, points: points, now: at(1)),
                               .stored(points: size))
                if sweepId == sweep.id { want += (0 ..< size).map { [trial.id, Int64(seq), Int64($0), Int64(seq * 10 + $0)] } }
            }
        }
        for limit in 1 ... 14 {
            var got: [[Int64]] = []
            var key: (Int64, Int64, Int) = (0, 0, 0)
            while true {
                let page = try store.metricRows(sweep: sweep.id, afterTrial: key.0, afterSeq: key.1, afterPosition: key.2, limit: limit)
                XCTAssertLessThanOrEqual(page.count, limit)
                guard let last = page.last else { break }
                got += page.map { [$0.trialId, $0.seq, Int64($0.position), $0.step] }
                key = (last.trialId, last.seq, last.position)
            }
            XCTAssertEqual(got, want, "limit \(limit)")
        }
        XCTAssertEqual(try store.metricRows(sweep: sweep.id, afterTrial: 0, afterSeq: 0, afterPosition: 0, limit: 0), [])
    }

    func testCheckpointSizesKeepTheAnnouncementLatestInReportOrder() throws {
        let (store, _) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "", seed: 0, now: at(0))
        let trial = try store.enqueue(sweep: sweep.id, params: [Int](), now: at(0))
        let lease = try store.assign(trial: trial.id, worker: "w", now: at(0), leaseDuration: 1e6).lease
        let size = { (step: Int64, bytes: Double) in MetricPoint(step: step, name: SweepStore.checkpointSizeMetric, value: bytes, time: at(1)) }
        _ = try store.appendReport(trial: trial.id, seq: 2, epoch: lease.epoch, points: [size(5, 300), size(6, .nan)], now: at(1))
        _ = try store.appendReport(trial: trial.id, seq: 1, epoch: lease.epoch, points: [size(5, 100), size(7, 70), size(7, 71)], now: at(1))
        let sizes = try store.checkpointSizes(trial: trial.id)
        XCTAssertEqual(sizes[5], 300, "seq 2 outranks seq 1 though it arrived first")
        XCTAssertEqual(sizes[7], 71, "within a report the later position wins")
        XCTAssertEqual(sizes[6]?.isNaN, true)
        XCTAssertEqual(sizes.count, 3)
        // A refused report announces nothing.
        _ = try store.appendReport(trial: trial.id, seq: 3, epoch: lease.epoch + 1, points: [size(9, 1)], now: at(1))
        XCTAssertNil(try store.checkpointSizes(trial: trial.id)[9])
    }
}
