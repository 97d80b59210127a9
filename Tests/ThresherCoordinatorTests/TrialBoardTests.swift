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
        let sweep = try store.createSweep(name: "board", spec: Self.spec, seed: 0, now: now)
        // Sorted keys, as the searchers hand them out; the file names lr first.
        let params: [ParamMap] = [["hidden": .int(64), "lr": .double(0.01)], ["hidden": .int(32), "lr": .double(0.1)],
                                  ["hidden": .int(16), "lr": .double(1.0)]]
        for (index, p) in params.enumerated() {
            _ = try store.enqueue(sweep: sweep.id, params: StoredTrialParams(index: index, params: p), now: now)
        }
        let live = LiveBoard(sweep: sweep.id)
        try assertAgrees(live, store, sweep.id)
        let first = try XCTUnwrap(try store.assignNext(worker: "w", now: now, leaseDuration: 60))
        try store.markRunning(trial: first.trial.id, epoch: first.lease.epoch, now: now)
        let curve = [0.5, 0.3, 0.4]
        for (i, value) in curve.enumerated() {
            let step = Int64(i + 1)
            _ = try store.appendReport(trial: first.trial.id, seq: step, epoch: first.lease.epoch,
                                       points: [MetricPoint(step: step, name: "val_loss", value: value, time: now),
                                                MetricPoint(step: step, name: "train_loss", value: .nan, time: now)], now: now)
            try assertAgrees(live, store, sweep.id)
        }
        try store.complete(trial: first.trial.id, epoch: first.lease.epoch, now: now + 30)
        let second = try XCTUnwrap(try store.assignNext(worker: "w", now: now, leaseDuration: 60))
        try store.markRunning(trial: second.trial.id, epoch: second.lease.epoch, now: now)
        _ = try store.appendReport(trial: second.trial.id, seq: 1, epoch: second.lease.epoch,
                                   points: [MetricPoint(step: 5, name: "val_loss", value: 0.9, time: now)], now: now)
        try assertAgrees(live, store, sweep.id)
        // A report stored below the highest seq seen (seq 3, then 2): the board re-reads that trial.
        _ = try store.appendReport(trial: second.trial.id, seq: 3, epoch: second.lease.epoch,
                                   points: [MetricPoint(step: 7, name: "val_loss", value: 0.95, time: now)], now: now)
        try assertAgrees(live, store, sweep.id)
        _ = try store.appendReport(trial: second.trial.id, seq: 2, epoch: second.lease.epoch,
                                   points: [MetricPoint(step: 6, name: "val_loss", value: 0.9, time: now)], now: now)
        try assertAgrees(live, store, sweep.id)
        try store.stop(trial: second.trial.id, explanation: StopExplanation(rule: "hyperband", band: 1, message: "stopped at band 1"), now: now)

        let rows = try TrialBoard.read(from: store, sweep: sweep.id, metric: "val_loss", goal: .minimize)
        XCTAssertEqual(rows.map(\.state), [.completed, .stopped, .pending])
        XCTAssertEqual(rows.map(\.index), [0, 1, 2])
        XCTAssertEqual(rows[0].params, "hidden=64 lr=0.01", "without the file's order: as stored")
        XCTAssertEqual(rows[0].step, 3)
        XCTAssertEqual(rows[0].latest, 0.4)
        XCTAssertEqual(rows[0].best, 0.3)
        XCTAssertNil(rows[0].note)
        XCTAssertEqual(rows[0].endedAt.map { $0.timeIntervalSince(now) }, 30)
        XCTAssertEqual(rows[1].note, "stopped at band 1")
        XCTAssertEqual(rows[1].best, 0.9)
        XCTAssertEqual(rows[1].latest, 0.95, "report order is seq order: seq 3 is the latest")
        try assertAgrees(live, store, sweep.id)
        XCTAssertNil(rows[2].step)
        XCTAssertNil(rows[2].best)
        let maximizing = try TrialBoard.read(from: store, sweep: sweep.id, metric: "val_loss", goal: .maximize)
        XCTAssertEqual(maximizing[0].best, 0.5)

        // The stage: hyperband max_iter 9, s 2, eta 3 has bands 1 and 3; NaN values are not iterations.
        let progress = try SweepProgress.read(from: store, sweep: sweep.id)
        XCTAssertEqual(progress.maxIterations, 9)
        let staged = try TrialBoard.read(from: store, sweep: sweep.id, metric: "val_loss", goal: .minimize, schedule: progress.schedule,
                                        order: progress.parameterOrder)
        XCTAssertEqual(staged.map(\.iterations), [3, 3, 0])
        // Trial 2 was stopped at band 1: its later values do not take it to band 3.
        XCTAssertEqual(staged.map { $0.stage?.text }, ["r2/2", "r1/2", "r0/2"])
        XCTAssertEqual(staged[0].latestStep, 3)
        XCTAssertEqual(progress.parameterOrder, ["lr", "hidden"])
        XCTAssertEqual(staged[0].params, "lr=0.01 hidden=64", "in the sweep file's order")

        // A remote `status --watch` draws from the status document: it must read back as the same rows.
        let document = try StatusDocument.sweep(store: store, try store.sweep(sweep.id))
        let text = try StatusDocument.text(document)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let board = try XCTUnwrap(StatusBoard.decode(parsed))
        XCTAssertEqual(board.rows, staged)
        XCTAssertEqual(board.progress, progress)
        XCTAssertEqual(board.progress.maxIterations, 9)
        XCTAssertEqual(board.progress.totalTrials, 9)
        XCTAssertNil(StatusBoard.decode(["sweeps": []]), "a list of sweeps is not one sweep's board")
    }

    /// Kept across `assertAgrees` calls, as a watching `thresher status` (the list) keeps them.
    private var keptBoards = LiveBoards()

    /// The incremental board shows what the whole reads show, and so does the list of all sweeps
    /// read through boards kept between looks.
    private func assertAgrees(_ live: LiveBoard, _ store: SweepStore, _ sweep: Int64, line: UInt = #line) throws {
        XCTAssertEqual(try StatusDocument.text(StatusDocument.allSweeps(store: store, boards: &keptBoards)),
                       try StatusDocument.text(StatusDocument.allSweeps(store: store)), line: line)
        let progress = try SweepProgress.read(from: store, sweep: sweep)
        let (shown, rows) = try live.refresh(from: store)
        XCTAssertEqual(shown, progress, line: line)
        XCTAssertEqual(shown.best?.step, progress.best?.step, line: line)
        XCTAssertEqual(shown.storedCheckpoints, progress.storedCheckpoints, line: line)
        XCTAssertEqual(shown.totalTrials, progress.totalTrials, line: line)
        XCTAssertEqual(rows, try TrialBoard.read(from: store, sweep: sweep, metric: progress.metric, goal: progress.goal,
                                                 schedule: progress.schedule, order: progress.parameterOrder), line: line)
    }

    private static let spec = """
        method: grid
        metric:
          name: val_loss
          goal: minimize
        early_terminate:
          type: hyperband
          max_iter: 9
          s: 2
          eta: 3
        parameters:
          lr:
            values: [0.01, 0.1, 1.0]
          hidden:
            values: [64, 32, 16]

        """
}
