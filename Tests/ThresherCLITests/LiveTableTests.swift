import Foundation
import XCTest
@testable import thresher
@testable import ThresherCoordinator
import ThresherStore
import ThresherSweep

/// The live view of `thresher run` and `thresher status --watch`: what the table shows first, what
/// it leaves out, that no line is wider than the terminal and no frame taller (either would break
/// the in-place redraw), and the plain-line and JSON events a pipe gets instead.
final class LiveTableTests: XCTestCase {
    private let start = Date(timeIntervalSince1970: 1_000_000)

    private func progress(goal: ThresherStore.MetricGoal = .maximize) -> SweepProgress {
        SweepProgress(sweepID: 1, name: "digits", state: .active,
                      counts: [.running: 2, .completed: 3, .stopped: 1, .pending: 2], totalTrials: 81,
                      metric: "val_balanced_accuracy", goal: goal, best: (trial: 4, step: 9, value: 0.97),
                      storedCheckpoints: 1, storedBytes: 1000, maxBytes: 50_000)
    }

    private func row(_ id: Int64, _ state: TrialState, best: Double?, iterations: Int = 9, note: String? = nil) -> TrialBoardRow {
        TrialBoardRow(trialID: id, index: Int(id), state: state, params: "lr=0.01 dropout=0.1", step: best == nil ? nil : Int64(iterations),
                      latest: best, best: best, startedAt: state == .pending ? nil : start, endedAt: state.isTerminal ? start + 65 : nil, note: note,
                      iterations: best == nil ? 0 : iterations,
                      stage: TrialStage.Schedule(.hyperband(HyperbandSpec(maxIter: 27, s: 2, eta: 3)))?
                          .stage(trialIndex: Int(id), iterations: best == nil ? 0 : iterations))
    }

    private var rows: [TrialBoardRow] {
        [row(1, .completed, best: 0.90), row(2, .stopped, best: 0.50, iterations: 3, note: "stopped at band 3"),
         row(3, .running, best: 0.80, iterations: 3), row(4, .completed, best: 0.97), row(5, .pending, best: nil),
         row(6, .running, best: nil), row(7, .completed, best: 0.93), row(8, .pending, best: nil)]
    }

    func testRunningTrialsComeFirstThenEndedOnesBestFirstThenPending() {
        let table = LiveTable(width: 120, height: 40)
        XCTAssertEqual(table.chosen(rows, goal: .maximize).rows.map(\.trialID), [3, 6, 4, 7, 1, 2, 5, 8])
        XCTAssertEqual(table.chosen(rows, goal: .minimize).rows.map(\.trialID), [3, 6, 2, 1, 7, 4, 5, 8])
    }

    func testWhatDoesNotFitIsCountedNotDroppedAndTheFrameFitsTheScreen() {
        let table = LiveTable(width: 120, height: 9)  // room for 4 rows between the header and the storage line
        let shown = table.chosen(rows, goal: .maximize)
        XCTAssertEqual(shown.rows.map(\.trialID), [3, 6, 4])
        XCTAssertEqual(shown.hidden, 5)
        let lines = table.lines(progress(), rows: rows, now: start + 125)
        XCTAssertEqual(lines[lines.count - 2], "… 5 more trials (thresher status for all)")
        XCTAssertEqual(lines.last, "1 checkpoint kept, 1000 B of 48.8 KiB")
        for height in 8...40 {
            let frame = LiveTable(width: 120, height: height).lines(progress(), rows: rows, now: start + 125)
            XCTAssertLessThan(frame.count, height, "a frame as tall as the screen scrolls it")
        }
    }

    func testLinesFitTheWidthAndCarryTheFacts() throws {
        for width in [20, 60, 100] {
            let lines = LiveTable(width: width, height: 30).lines(progress(), rows: rows, now: start + 125)
            XCTAssertTrue(lines.allSatisfy { $0.count <= width }, "\(width): \(lines)")
        }
        let lines = LiveTable(width: 200, height: 30).lines(progress(), rows: rows, now: start + 125)
        XCTAssertTrue(lines[0].contains("4/81 trials ended, 2 running"), lines[0])
        XCTAssertTrue(lines[0].contains("best val_balanced_accuracy 0.97 (trial 4)"), lines[0])
        // 4 of 81 ended in 125 s since the first start: 77 more at that rate take 2,406 s.
        XCTAssertTrue(lines[1].hasSuffix("   5%  elapsed 2:05  eta 40:06"), lines[1])
        XCTAssertTrue(lines[2].contains("rung") && lines[2].contains("eta") && lines[2].contains("val_balanced_accura"), lines[2])
        let stopped = try XCTUnwrap(lines.first { $0.hasPrefix("     2") })
        XCTAssertTrue(stopped.contains("stopped") && stopped.hasSuffix("lr=0.01 dropout=0.1 — stopped at band 3")
                      && stopped.contains("1:05") && stopped.contains("r1/2"), stopped)
        // Trial 3 ran 3 of the 9 iterations completed trials ran, in 125 s: 6 more take 250 s.
        let running = try XCTUnwrap(lines.first { $0.hasPrefix("     3") })
        XCTAssertTrue(running.contains("running") && running.hasSuffix("2:05     4:10  lr=0.01 dropout=0.1"), running)
    }

    func testARedrawOverwritesThePreviousFrameInPlace() {
        let display = ProgressDisplay(json: false, terminal: true)
        XCTAssertEqual(display.mode, .table)
        let first = display.update(progress(), rows: rows, now: start + 1, size: (100, 30))
        XCTAssertFalse(first.contains("\u{1B}[2J"), "no screen clear: it flickers")
        XCTAssertFalse(first.contains("A\r"), "the first frame does not move up")
        let lineCount = first.components(separatedBy: "\n").count - 1
        let second = display.update(progress(), rows: rows, now: start + 2, size: (100, 30))
        XCTAssertTrue(second.contains("\u{1B}[\(lineCount)A"), "the next frame starts where the last one did")
        XCTAssertTrue(second.hasPrefix("\u{1B}[?2026h") && second.hasSuffix("\u{1B}[J\u{1B}[?2026l"), "one synchronized update")
        // A resized terminal re-wrapped the old frame: that redraw alone starts from a clear screen.
        let resized = display.update(progress(), rows: rows, now: start + 3, size: (60, 30))
        XCTAssertTrue(resized.hasPrefix("\u{1B}[H\u{1B}[2J") && !resized.contains("A\r"), resized.debugDescription)
        XCTAssertTrue(display.update(progress(), rows: rows, now: start + 4, size: (60, 30)).contains("A\r"))
    }

    func testAPipeGetsOneLinePerTrialEventAndPerChange() {
        let display = ProgressDisplay(json: false, terminal: false)
        XCTAssertEqual(display.mode, .lines)
        let first = display.update(progress(), rows: rows, now: start + 125).split(separator: "\n").map(String.init)
        XCTAssertEqual(first.filter { $0.hasPrefix("trial ") }.count, 6, "pending trials are not news: \(first)")
        XCTAssertTrue(first.contains("trial 2 stopped after 1:05, best 0.5 at step 3 — stopped at band 3"), "\(first)")
        XCTAssertTrue(first.contains("trial 3 running: lr=0.01 dropout=0.1"), "\(first)")
        XCTAssertEqual(display.update(progress(), rows: rows, now: start + 130), "", "nothing changed, nothing printed")
        var later = rows
        later[2].state = .completed
        later[2].endedAt = start + 140
        var p = progress()
        p.counts = [.running: 1, .completed: 4, .stopped: 1, .pending: 2]
        XCTAssertEqual(display.update(p, rows: later, now: start + 140).split(separator: "\n").map(String.init),
                       ["trial 3 completed after 2:20, best 0.8 at step 3",
                        "5/81 trials ended, 1 running, 4 completed, 1 stopped early; best val_balanced_accuracy 0.97 (trial 4); 1 checkpoint kept, 1000 B of 48.8 KiB"])
    }

    func testJSONEventsCarryTheSameFacts() throws {
        let display = ProgressDisplay(json: true, terminal: true)
        XCTAssertEqual(display.mode, .json, "--json wins over a terminal")
        let events = try display.update(progress(), rows: rows, now: start + 125).split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let stopped = try XCTUnwrap(events.first { $0["event"] as? String == "trial" && $0["trial"] as? Int == 2 })
        XCTAssertEqual(stopped["state"] as? String, "stopped")
        XCTAssertEqual(stopped["rungs_reached"] as? Int, 1)
        XCTAssertEqual(stopped["rungs"] as? [Int], [3, 9])
        XCTAssertEqual(stopped["note"] as? String, "stopped at band 3")
        let summary = try XCTUnwrap(events.last)
        XCTAssertEqual(summary["event"] as? String, "progress")
        XCTAssertEqual(summary["total_trials"] as? Int, 81)
        XCTAssertEqual(summary["elapsed_seconds"] as? Double, 125)
        XCTAssertEqual(try XCTUnwrap(summary["eta_seconds"] as? Double), 2406.25, accuracy: 1e-9)
        XCTAssertEqual((summary["best"] as? [String: Any])?["trial"] as? Int, 4)
    }

    func testForecastNeedsSomethingToGoOn() {
        let fresh = SweepForecast(progress: progress(), rows: [row(5, .pending, best: nil)], now: start)
        XCTAssertNil(fresh.elapsed)
        XCTAssertNil(fresh.sweepRemaining)
        XCTAssertTrue(fresh.trialRemaining.isEmpty)
        // Before any trial completed, the policy's max_iter is the length.
        var p = progress()
        p.maxIterations = 27
        let early = SweepForecast(progress: p, rows: [row(3, .running, best: 0.8, iterations: 3)], now: start + 30)
        XCTAssertEqual(early.expectedIterations, 27)
        XCTAssertEqual(early.trialRemaining[3], 240)
        p.state = .finished
        XCTAssertEqual(SweepForecast(progress: p, rows: rows, now: start + 999).sweepRemaining, 0)
    }

    func testDurationsReadAsClockTimes() {
        XCTAssertEqual(LiveTable.duration(0), "0:00")
        XCTAssertEqual(LiveTable.duration(59.9), "0:59")
        XCTAssertEqual(LiveTable.duration(3_725), "1:02:05")
        XCTAssertEqual(LiveTable.duration(-.infinity), "0:00")
    }
}
