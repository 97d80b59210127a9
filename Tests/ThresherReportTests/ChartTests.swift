import XCTest
@testable import ThresherReport

final class ChartTests: XCTestCase {
    typealias F = ReportFixtures

    func testStoppedTrialsAreCutAndCompletedOnesAreNot() {
        let stop = ReportStop(rule: "hyperband", rungIteration: 2, threshold: 0.5, value: 0.9, message: "stopped at band 2")
        let report = F.report([
            F.trial(1, "completed", [1, 0.5, 0.2]),
            F.trial(2, "stopped", [1, 0.9], stop: stop),
            F.trial(3, "stopped", [1.1, 0.95], stop: stop),
            F.trial(4, "failed", [2, 3]),
            F.trial(5, "completed", [0.9, 0.4, 0.3]),
        ])
        let svg = LearningCurveChart(report: report).svg()
        XCTAssertEqual(svg.components(separatedBy: "class=\"cut\"").count - 1, 2, "one ✕ per stopped trial")
        XCTAssertEqual(svg.components(separatedBy: "class=\"trial stopped\"").count - 1, 2)
        XCTAssertEqual(svg.components(separatedBy: "class=\"trial failed\"").count - 1, 1)
        XCTAssertEqual(svg.components(separatedBy: "class=\"trial best\"").count - 1, 1)
        let completedOnly = LearningCurveChart(report: F.report([F.trial(1, "completed", [1, 2]), F.trial(2, "running", [3])])).svg()
        XCTAssertFalse(completedOnly.contains("class=\"cut\""))
        // The best trial (lowest loss: trial 1 at 0.2) is drawn last, on top.
        XCTAssertTrue(svg.range(of: "trial best")!.lowerBound > svg.range(of: "trial failed")!.lowerBound)
        XCTAssertTrue(svg.contains("<title>trial 1 (#0) completed, best 0.2"))
    }

    func testBestSoFarImprovesInStoreOrderAndCountsEveryValue() {
        // Trial 2's values are stored between trial 1's (offsets interleave).
        let report = F.report([F.trial(1, "completed", [5, 4, 6], offset: 0), F.trial(2, "completed", [.nan, 3, 1], offset: 0.5)])
        let (improvements, total) = BestSoFarChart(report: report).series()
        XCTAssertEqual(total, 6, "a NaN still counts as compute")
        XCTAssertEqual(improvements.map(\.value), [5, 4, 3, 1])
        XCTAssertEqual(improvements.map(\.compute), [1, 3, 4, 6])
        XCTAssertEqual(improvements.map(\.trial), [1, 1, 2, 2])
        // Steps of 40 count as 40 each; a step redone after a resume adds nothing.
        var jumps = F.trial(1, "completed", [])
        jumps.curve = [40, 80, 80, 120].enumerated().map { CurvePoint(step: Int64($0.element), value: 1 - Double($0.offset) / 10,
                                                                       storedAt: F.t0.addingTimeInterval(Double($0.offset))) }
        let stepped = BestSoFarChart(report: F.report([jumps])).series()
        XCTAssertEqual(stepped.improvements.map(\.compute), [40, 80, 80, 120])
        XCTAssertEqual(stepped.total, 120)
        var huge = F.trial(1, "completed", [])
        huge.curve = [CurvePoint(step: .max, value: 1, storedAt: F.t0), CurvePoint(step: 5, value: 0.5, storedAt: F.t0)]
        var other = F.trial(2, "completed", [])
        other.curve = [CurvePoint(step: .max, value: 2, storedAt: F.t0.addingTimeInterval(1))]
        XCTAssertEqual(BestSoFarChart(report: F.report([huge, other])).series().total, .max, "saturates instead of overflowing")
        let maximize = F.report([F.trial(1, "completed", [1, 3, 2])], goal: .maximize)
        XCTAssertEqual(BestSoFarChart(report: maximize).series().improvements.map(\.value), [1, 3])
    }

    func testParallelAxesPickTheirKind() {
        let range = (top: 0.0, bottom: 100.0)
        XCTAssertEqual(ParallelAxis(name: "x", values: [.number(1), .number(5)], logHint: false, range: range).kind, .linear)
        XCTAssertEqual(ParallelAxis(name: "lr", values: [.number(0.001), .number(1)], logHint: false, range: range).kind, .log)
        XCTAssertEqual(ParallelAxis(name: "lr", values: [.number(0.1), .number(0.2)], logHint: true, range: range).kind, .log)
        XCTAssertEqual(ParallelAxis(name: "l2", values: [.number(0), .number(0.1)], logHint: true, range: range).kind, .linear,
                       "zero cannot sit on a log axis")
        let categories = ParallelAxis(name: "opt", values: [.text("adam"), .text("sgd"), .text("adam"), .text("rms"), nil], logHint: false, range: range)
        XCTAssertEqual(categories.kind, .categorical(["adam", "sgd", "rms"]))
        XCTAssertEqual(categories.position(.text("adam")), 100)
        XCTAssertEqual(categories.position(.text("sgd")), 50)
        XCTAssertEqual(categories.position(.text("rms")), 0)
        XCTAssertTrue(categories.position(nil).isNaN)
        XCTAssertEqual(ParallelAxis(name: "m", values: [.number(1), .text("a")], logHint: false, range: range).kind,
                       .categorical(["1", "a"]), "mixed values are categories")
        XCTAssertEqual(ParallelAxis(name: "c", values: [.text("only")], logHint: false, range: range).position(.text("only")), 50)
    }

    func testAGridsFewValuesAreItsTicks() {
        let range = (top: 0.0, bottom: 100.0)
        let grid = ParallelAxis(name: "hidden", values: [32, 64, 128, 64].map { .number($0) }, logHint: false, range: range)
        XCTAssertEqual(grid.ticks().map(\.label), ["32", "64", "128"])
        XCTAssertEqual(grid.ticks().map(\.y), [32, 64, 128].map { grid.position(.number($0)) })
        let many = ParallelAxis(name: "x", values: (1...20).map { .number(Double($0)) }, logHint: false, range: range)
        XCTAssertFalse(many.ticks().map(\.label).contains("7"), "many values: round-number ticks")
    }

    func testParallelCoordinatesOmitConstantsAndEndWithTheMetric() {
        let report = F.report([
            F.trial(1, "completed", [0.5], params: [("lr", .number(0.1)), ("epochs", .number(27)), ("opt", .text("adam"))]),
            F.trial(2, "completed", [0.3], params: [("lr", .number(0.01)), ("epochs", .number(27)), ("opt", .text("sgd"))]),
            F.trial(3, "running", [], params: [("lr", .number(1)), ("epochs", .number(27)), ("opt", .text("sgd"))]),
        ])
        let chart = ParallelCoordinatesChart(report: report)
        XCTAssertEqual(chart.parameters().varying, ["lr", "opt"])
        XCTAssertEqual(chart.parameters().constants.map(\.0), ["epochs"])
        XCTAssertEqual(chart.axes().map(\.name), ["lr", "opt", "final loss"])
        XCTAssertEqual(chart.drawn.map(\.id), [1, 2], "a trial without a value is not drawn")
        let svg = chart.svg()
        XCTAssertEqual(svg.components(separatedBy: "class=\"pc-line\"").count - 1, 2)
        XCTAssertTrue(svg.contains("metric-ramp") && svg.contains("best 0.3") && svg.contains("worst 0.5"))
    }

    func testRungTableCountsReachedStoppedAndThresholds() {
        let at3 = ReportStop(rule: "hyperband", rungIteration: 3, threshold: 0.4, value: 0.6, message: "m")
        let at3b = ReportStop(rule: "hyperband", rungIteration: 3, threshold: 0.45, value: 0.7, message: "m")
        let report = F.report([
            F.trial(1, "completed", Array(repeating: 0.1, count: 9)),
            F.trial(2, "stopped", [1, 1, 1, 1], stop: at3),
            F.trial(3, "stopped", [1, 1, 1], stop: at3b),
            F.trial(4, "completed", [1, .nan, 1, 1, 1, 1, 1, 1, 1, 1]),
        ], schedule: ReportSchedule(policy: "hyperband", brackets: [[3, 9]]))
        let rows = RungTable(report: report).rows()
        XCTAssertEqual(rows.map(\.iteration), [3, 9])
        XCTAssertEqual(rows.map(\.reached), [4, 2], "a NaN is not an iteration: trial 4 has 9 finite values")
        XCTAssertEqual(rows.map(\.stopped), [2, 0])
        XCTAssertEqual(rows[0].thresholds, [0.4, 0.45])
        // A trial stopped at band 3 whose worker sent 10 values before the stop reached it reached
        // band 3 only: it was never judged at 9.
        let late = F.report([F.trial(5, "stopped", Array(repeating: 1, count: 10), stop: at3)],
                            schedule: ReportSchedule(policy: "hyperband", brackets: [[3, 9]]))
        XCTAssertEqual(RungTable(report: late).rows().map(\.reached), [1, 0])
        XCTAssertTrue(RungTable(report: F.report([])).html().contains("No early termination"))
        let median = F.report([], schedule: ReportSchedule(policy: "median", brackets: []))
        XCTAssertTrue(RungTable(report: median).html().contains("No rungs"))
    }

    func testRungTableKeepsAshaBracketsApart() {
        var a = F.trial(1, "stopped", [1], stop: ReportStop(rule: "asha", rungIteration: 1, threshold: 0.2, message: "m"))
        a.bracket = 0
        var b = F.trial(2, "completed", [1, 1, 1])
        b.bracket = 1
        let report = F.report([a, b], schedule: ReportSchedule(policy: "asha", brackets: [[1, 3], [3]]))
        let rows = RungTable(report: report).rows()
        XCTAssertEqual(rows.map(\.bracket), [0, 0, 1])
        XCTAssertEqual(rows.map(\.reached), [1, 0, 1])
        XCTAssertEqual(rows.map(\.stopped), [1, 0, 0])
    }

    func testStorageSeriesFollowsStoredAndEvicted() {
        let t = F.t0
        let changes = [
            StorageChange(time: t.addingTimeInterval(1), checkpoint: 1, bytes: 100, kind: .stored),
            StorageChange(time: t.addingTimeInterval(2), checkpoint: 2, bytes: 50, kind: .stored),
            StorageChange(time: t.addingTimeInterval(2), checkpoint: 2, bytes: 50, kind: .stored),
            StorageChange(time: t.addingTimeInterval(3), checkpoint: 9, bytes: 70, kind: .evicted),
            StorageChange(time: t.addingTimeInterval(4), checkpoint: 1, bytes: 100, kind: .evicted),
            StorageChange(time: t.addingTimeInterval(5), checkpoint: 1, bytes: 100, kind: .evicted),
        ]
        XCTAssertEqual(StorageSeries.points(changes).map(\.bytes), [100, 150, 50],
                       "repeats and evictions of never-stored checkpoints change nothing")
        let withBudget = StorageChart(report: F.report([], storage: ReportStorage(maxBytes: 1000, changes: changes))).html()
        // A peak of 150 B uses 15% of 1000 B: the chart keeps to the data and says where the budget is.
        XCTAssertFalse(withBudget.contains("class=\"budget\""), withBudget)
        XCTAssertTrue(withBudget.contains("budget 1000 B ↑ off the scale: the peak used 15% of it"), withBudget)
        let near = StorageChart(report: F.report([], storage: ReportStorage(maxBytes: 500, changes: changes))).html()
        XCTAssertTrue(near.contains("class=\"budget\"") && near.contains("budget 500 B") && !near.contains("off the scale"), near)
        let noBudget = StorageChart(report: F.report([], storage: ReportStorage(changes: changes))).html()
        XCTAssertTrue(noBudget.contains("no storage budget"))
        XCTAssertFalse(noBudget.contains("class=\"budget\""))
        XCTAssertTrue(StorageChart(report: F.report([])).html().contains("No checkpoint was ever stored"))
    }
}
