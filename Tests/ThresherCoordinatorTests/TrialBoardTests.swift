import Foundation
import XCTest
@testable import ThresherCoordinator
import ThresherStore
import ThresherWire

/// The live table's rows come from the store as committed: params in the file's order, the last
/// step, the metric's latest and best by the goal, and why a trial ended.
final class TrialBoardTests: XCTestCase {
    func testRowsCarryEachTrialsStandingFromTheStore() throws {
        let dir = try temporaryDirectory(self)
        let store = try SweepStore(path: dir + "/thresher.sqlite")
        let now = Date(timeIntervalSince1970: 2_000_000)
        let sweep = try store.createSweep(name: "board", spec: "method: grid\n", seed: 0, now: now)
        let params: [ParamMap] = [["lr": .double(0.01), "hidden": .int(64)], ["lr": .double(0.1), "hidden": .int(32)],
                                  ["lr": .double(1.0), "hidden": .int(16)]]
        for (index, p) in params.enumerated() {
            _ = try store.enqueue(sweep: sweep.id, params: StoredTrialParams(index: index, params: p), now: now)
        }
        let first = try XCTUnwrap(try store.assignNext(worker: "w", now: now, leaseDuration: 60))
        try store.markRunning(trial: first.trial.id, epoch: first.lease.epoch, now: now)
        let curve = [0.5, 0.3, 0.4]
        for (i, value) in curve.enumerated() {
            let step = Int64(i + 1)
            _ = try store.appendReport(trial: first.trial.id, seq: step, epoch: first.lease.epoch,
                                       points: [MetricPoint(step: step, name: "val_loss", value: value, time: now),
                                                MetricPoint(step: step, name: "train_loss", value: .nan, time: now)], now: now)
        }
        try store.complete(trial: first.trial.id, epoch: first.lease.epoch, now: now + 30)
        let second = try XCTUnwrap(try store.assignNext(worker: "w", now: now, leaseDuration: 60))
        try store.markRunning(trial: second.trial.id, epoch: second.lease.epoch, now: now)
        _ = try store.appendReport(trial: second.trial.id, seq: 1, epoch: second.lease.epoch,
                                   points: [MetricPoint(step: 5, name: "val_loss", value: 0.9, time: now)], now: now)
        try store.stop(trial: second.trial.id, explanation: StopExplanation(rule: "hyperband", band: 1, message: "stopped at band 1"), now: now)

        let rows = try TrialBoard.read(from: store, sweep: sweep.id, metric: "val_loss", goal: .minimize)
        XCTAssertEqual(rows.map(\.state), [.completed, .stopped, .pending])
        XCTAssertEqual(rows.map(\.index), [0, 1, 2])
        XCTAssertEqual(rows[0].params, "lr=0.01 hidden=64")
        XCTAssertEqual(rows[0].step, 3)
        XCTAssertEqual(rows[0].latest, 0.4)
        XCTAssertEqual(rows[0].best, 0.3)
        XCTAssertNil(rows[0].note)
        XCTAssertEqual(rows[0].endedAt.map { $0.timeIntervalSince(now) }, 30)
        XCTAssertEqual(rows[1].note, "stopped at band 1")
        XCTAssertEqual(rows[1].best, 0.9)
        XCTAssertNil(rows[2].step)
        XCTAssertNil(rows[2].best)
        let maximizing = try TrialBoard.read(from: store, sweep: sweep.id, metric: "val_loss", goal: .maximize)
        XCTAssertEqual(maximizing[0].best, 0.5)
    }
}
