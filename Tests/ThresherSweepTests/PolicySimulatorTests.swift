import XCTest
@testable import ThresherSweep

/// The replay behind `thresher sweep simulate`, under hyperband bands [2] (max_iter 4, s 1,
/// eta 2): threshold = sorted band-2 values [⌊n / 2⌋].
final class PolicySimulatorTests: XCTestCase {
    private let bands2 = EarlyTerminateSpec.hyperband(HyperbandSpec(maxIter: 4, s: 1, eta: 2))

    private func sweep(_ policy: EarlyTerminateSpec?, goal: MetricGoal = .minimize) -> SweepSpec {
        SweepSpec(method: .grid, metric: MetricSpec(name: "loss", goal: goal), parameters: [], earlyTerminate: policy)
    }

    private func curves(_ values: [[Double]]) -> [TrialCurve] {
        values.enumerated().map { trial, values in
            TrialCurve(trial: trial, points: values.enumerated().map { CurvePoint(step: Int64($0.offset + 1), value: $0.element) })
        }
    }

    /// One slot: trial 2 is a late bloomer. At its step 2, band 2 = [3, 5, 6] → index 1 → 5; 6 > 5.
    /// Trial 3 at step 2: [3, 4, 5, 6] → index 2 → 5; 4 passes.
    func testOneSlot() {
        let simulator = PolicySimulator(sweep: sweep(bands2))
        let report = simulator.run(curves([[5, 5, 4], [5, 3, 2], [5, 6, 1], [5, 4, 4]]))
        XCTAssertEqual(report.trials.map(\.lastStep), [3, 3, 2, 3])
        XCTAssertEqual(report.trials.map(\.stopped), [false, false, true, false])
        XCTAssertEqual(report.trials[2].reason, "stopped at band 2: 6.0 > threshold 5.0, rank 3 of 3")
        XCTAssertEqual(report.summary, SimulationSummary(stepsUsed: 11, stepsTotal: 12, bestFound: 2, bestOverall: 1))
    }

    /// Two slots in lockstep. Trial 0 [5 × 6] runs beside trials 1 [5, 1], then 2 [5, 3, 3]:
    /// tick 2: band 2 = [1, 5] → 5, trial 0 passes; tick 4: trial 2's 3 makes [1, 3, 5] → 3,
    /// and trial 0 (still running, band-2 value 5) is stopped after its step 4. On one slot trial 0
    /// runs alone and completes.
    func testTwoSlotsInLockstep() {
        let lines = curves([[5, 5, 5, 5, 5, 5], [5, 1], [5, 3, 3], [5, 2]])
        let one = PolicySimulator(sweep: sweep(bands2), parallel: 1)
        let sequential = one.run(lines)
        XCTAssertEqual(sequential.trials.map(\.stopped), [false, false, false, false])
        XCTAssertEqual(sequential.summary.stepsUsed, 13)

        let two = PolicySimulator(sweep: sweep(bands2), parallel: 2)
        let report = two.run(lines)
        XCTAssertEqual(report.jsonLines, """
            {"trial": 0, "last_step": 4, "stopped": true, "reason": "stopped at band 2: 5.0 > threshold 3.0, rank 3 of 3"}
            {"trial": 1, "last_step": 2, "stopped": false, "reason": "completed"}
            {"trial": 2, "last_step": 3, "stopped": false, "reason": "completed"}
            {"trial": 3, "last_step": 2, "stopped": false, "reason": "completed"}
            {"summary": {"steps_used": 11, "steps_total": 13, "best_found": 1.0, "best_overall": 1.0}}

            """)
        XCTAssertEqual(report.text, """
            trial 0: ran to step 4, stopped at band 2: 5.0 > threshold 3.0, rank 3 of 3
            trial 1: ran to step 2, completed
            trial 2: ran to step 3, completed
            trial 3: ran to step 2, completed
            stopped 1 of 4 trials
            steps used: 11 of 13 without stopping
            best found: 1.0 (best overall: 1.0, goal minimize)

            """)
        let again = PolicySimulator(sweep: sweep(bands2), parallel: 2)
        XCTAssertEqual(again.run(lines), report, "deterministic")
        XCTAssertEqual(two.run(lines), report, "a replay starts from a fresh copy of the policy")
    }

    /// The one-call API, from JSONL text with interleaved lines, a NaN and a maximized metric.
    /// ASHA grace 1, rf 2, max_t 4 → rungs 1, 2, 4 (iterations = finite values).
    func testOneCallFromJSONL() throws {
        let text = """
            {"trial": 1, "step": 10, "value": 0.5}
            {"trial": 0, "step": 10, "value": 0.7}
            {"trial": 2, "step": 10, "value": 0.2}
            {"trial": 0, "step": 20, "value": NaN}
            {"trial": 0, "step": 30, "value": 0.9}
            {"trial": 2, "step": 20, "value": 0.95}
            """
        let spec = sweep(.asha(ASHASpec(gracePeriod: 1, reductionFactor: 2, maxT: 4)), goal: .maximize)
        let report = try PolicySimulator.simulate(sweep: spec, curvesJSONL: text, parallel: 1)
        // Rung 0: trial 0 first (0.7); trial 1: cutoff 0.7, 0.5 < 0.7 → stopped at step 10;
        // trial 2: cutoff of [0.7, 0.5] is 0.6, 0.2 < 0.6 → stopped before its 0.95.
        XCTAssertEqual(report.trials.map(\.lastStep), [30, 10, 10])
        XCTAssertEqual(report.trials.map(\.stopped), [false, true, true])
        XCTAssertEqual(report.trials[1].reason, "stopped at rung 0 (iteration 1): 0.5 < threshold 0.7, rank 2 of 2")
        XCTAssertEqual(report.summary, SimulationSummary(stepsUsed: 5, stepsTotal: 6, bestFound: 0.9, bestOverall: 0.95))
    }

    func testWithoutPolicyNothingStops() {
        let simulator = PolicySimulator(sweep: sweep(nil), parallel: 3)
        let report = simulator.run(curves([[3, 2], [1], [.nan]]))
        XCTAssertEqual(report.trials.map(\.reason), ["completed", "completed", "completed"])
        XCTAssertEqual(report.summary, SimulationSummary(stepsUsed: 4, stepsTotal: 4, bestFound: 1, bestOverall: 1))
        XCTAssertTrue(report.jsonLines.hasSuffix("{\"summary\": {\"steps_used\": 4, \"steps_total\": 4, \"best_found\": 1.0, \"best_overall\": 1.0}}\n"))
        let empty = PolicySimulator(sweep: sweep(nil))
        XCTAssertEqual(empty.run([TrialCurve(trial: 0, points: [])]).jsonLines, """
            {"trial": 0, "last_step": null, "stopped": false, "reason": "completed"}
            {"summary": {"steps_used": 0, "steps_total": 0, "best_found": null, "best_overall": null}}

            """)
    }

    func testMedianThroughSimulator() {
        // warmup 0, min_trials 2: trial 2's first value 9 > median(1, 3) = 2.
        let simulator = PolicySimulator(sweep: sweep(.median(MedianStoppingSpec(warmupSteps: 0, minTrials: 2))))
        let report = simulator.run(curves([[1, 1], [3, 3], [9, 0]]))
        XCTAssertEqual(report.trials.map(\.reason), ["completed", "completed", "stopped at iteration 1: 9.0 > median 2.0, rank 3 of 3"])
        XCTAssertEqual(report.summary.bestFound, 1)
        XCTAssertEqual(report.summary.bestOverall, 0)
    }

    // MARK: Curve file

    func testCurveFileParsing() throws {
        let text = """
            {"trial": 1, "step": 0, "value": 1.5, "note": "warm"}

              {"step": 5, "trial": 0, "value": null}
            {"trial": 1, "step": 1.0, "value": -Infinity}
            {"trial":0,"step":6,"value":2e-3}
            """
        let curves = try CurveFile.parse(text)
        XCTAssertEqual(curves.map(\.trial), [0, 1])
        XCTAssertEqual(curves[0].points.map(\.step), [5, 6])
        XCTAssertTrue(curves[0].points[0].value.isNaN)
        XCTAssertEqual(curves[0].points[1].value, 0.002)
        XCTAssertEqual(curves[1].points.map(\.value), [1.5, -.infinity])
    }

    func testCurveFileErrorsNameTheLine() {
        let cases: [(String, String)] = [
            ("{\"trial\": 0, \"step\": 1, \"value\": 1}\n{\"trial\": 0, \"value\": 1}", "line 2: missing \"step\""),
            ("\n\n{\"trial\": 0, \"step\": 1.5, \"value\": 1}", "line 3: \"step\" must be an integer (found 1.5)"),
            ("{\"trial\": -1, \"step\": 1, \"value\": 1}", "line 1: \"trial\" must be a non-negative integer (found -1)"),
            ("{\"trial\": 0, \"step\": 1, \"value\": \"x\"}", "line 1: \"value\" must be a number (found a string \"x\")"),
            ("{\"trial\": 0, \"step\": 2, \"value\": 1}\n{\"trial\": 0, \"step\": 2, \"value\": 1}",
             "line 2: step 2 of trial 0 does not come after its step 2"),
            ("{\"trial\": 0, \"step\": 1, \"value\": [1]}", "line 1: \"value\" holds an object or array; only plain values are allowed"),
            ("trial 0", "line 1: expected a JSON object starting with '{'"),
            ("{\"trial\": 0, \"step\": 1, \"value\": 1} x", "line 1: unexpected text after the object"),
            ("{\"trial\": 0, \"trial\": 1}", "line 1: duplicate key \"trial\""),
            ("{\"trial\": 0, \"step\": 1, \"value\": 1e999}", "line 1: \"value\" has an invalid value 1e999"),
            ("{\"trial\": 0, \"step\": 1, \"value\": 1", "line 1: expected ',' or '}' after the value of \"value\""),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try CurveFile.parse(text), expected) { error in
                XCTAssertEqual((error as? CurveFileError)?.description, expected)
            }
        }
    }

    func testFactoryBuildsEachPolicy() {
        let metric = MetricSpec(name: "loss")
        XCTAssertTrue(StoppingPolicyFactory.make(bands2, metric: metric) is HyperbandStopping)
        XCTAssertTrue(StoppingPolicyFactory.make(.asha(ASHASpec(maxT: 9)), metric: metric) is ASHAStopping)
        XCTAssertTrue(StoppingPolicyFactory.make(.median(MedianStoppingSpec()), metric: metric) is MedianStopping)
        XCTAssertEqual(SimulationReport.jsonString("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"")
    }
}
