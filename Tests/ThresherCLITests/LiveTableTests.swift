import Foundation
import XCTest
@testable import thresher
@testable import ThresherCoordinator
import ThresherStore

/// The live table of `thresher run`: what it shows first, what it leaves out, and that no line is
/// wider than the terminal (a wrapped line would break the in-place redraw).
final class LiveTableTests: XCTestCase {
    private let start = Date(timeIntervalSince1970: 1_000_000)

    private func progress(goal: ThresherStore.MetricGoal = .maximize) -> SweepProgress {
        SweepProgress(sweepID: 1, name: "digits", state: .active,
                      counts: [.running: 2, .completed: 3, .stopped: 1, .pending: 2], totalTrials: 81,
                      metric: "val_balanced_accuracy", goal: goal, best: (trial: 4, step: 9, value: 0.97),
                      storedCheckpoints: 1, storedBytes: 1000, maxBytes: 50_000)
    }

    private func row(_ id: Int64, _ state: TrialState, best: Double?, note: String? = nil) -> TrialBoardRow {
        TrialBoardRow(trialID: id, index: Int(id), state: state, params: "lr=0.01 dropout=0.1", step: best == nil ? nil : 9,
                      latest: best, best: best, startedAt: start, endedAt: state.isTerminal ? start + 65 : nil, note: note)
    }

    private var rows: [TrialBoardRow] {
        [row(1, .completed, best: 0.90), row(2, .stopped, best: 0.50, note: "stopped at band 1"), row(3, .running, best: 0.80),
         row(4, .completed, best: 0.97), row(5, .pending, best: nil), row(6, .running, best: nil),
         row(7, .completed, best: 0.93), row(8, .pending, best: nil)]
    }

    func testRunningTrialsComeFirstThenEndedOnesBestFirstThenPending() {
        let table = LiveTable(width: 120, height: 40)
        XCTAssertEqual(table.chosen(rows, goal: .maximize).rows.map(\.trialID), [3, 6, 4, 7, 1, 2, 5, 8])
        XCTAssertEqual(table.chosen(rows, goal: .minimize).rows.map(\.trialID), [3, 6, 2, 1, 7, 4, 5, 8])
    }

    func testWhatDoesNotFitIsCountedNotDropped() {
        let table = LiveTable(width: 120, height: 8)  // room for 4 rows under the header lines
        let shown = table.chosen(rows, goal: .maximize)
        XCTAssertEqual(shown.rows.map(\.trialID), [3, 6, 4])
        XCTAssertEqual(shown.hidden, 5)
        let lines = table.lines(progress(), rows: rows, startedAt: start, now: start + 125)
        XCTAssertEqual(lines.last, "… 5 more trials (thresher status for all)")
    }

    func testLinesFitTheWidthAndCarryTheFacts() {
        for width in [20, 60, 100] {
            let lines = LiveTable(width: width, height: 30).lines(progress(), rows: rows, startedAt: start, now: start + 125)
            XCTAssertTrue(lines.allSatisfy { $0.count <= width }, "\(width): \(lines)")
        }
        let lines = LiveTable(width: 200, height: 30).lines(progress(), rows: rows, startedAt: start, now: start + 125)
        XCTAssertTrue(lines[0].contains("4/81 trials ended, 2 running"), lines[0])
        XCTAssertTrue(lines[0].contains("best val_balanced_accuracy 0.97 (trial 4)"), lines[0])
        XCTAssertTrue(lines[1].hasSuffix("   5%  elapsed 2:05"), lines[1])
        let stopped = lines.first { $0.hasPrefix("     2") }
        XCTAssertEqual(stopped.map { $0.contains("stopped") && $0.hasSuffix("lr=0.01 dropout=0.1 — stopped at band 1") && $0.contains("1:05") }, true,
                       "\(stopped ?? "no row for trial 2")")
    }

    func testDurationsReadAsClockTimes() {
        XCTAssertEqual(LiveTable.duration(0), "0:00")
        XCTAssertEqual(LiveTable.duration(59.9), "0:59")
        XCTAssertEqual(LiveTable.duration(3_725), "1:02:05")
        XCTAssertEqual(LiveTable.duration(-.infinity), "0:00")
    }
}
