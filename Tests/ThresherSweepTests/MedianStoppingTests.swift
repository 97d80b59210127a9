import XCTest
@testable import ThresherSweep

/// The median rule on hand-made curves: a trial's best so far against the median of the other
/// trials' running averages (mean of their first s values) at the same iteration s.
final class MedianStoppingTests: XCTestCase {
    /// warmup 1, min_trials 2. Running averages — trial 0 [3, 1, 2]: 3, 2, 2; trial 1 [5, 3, 1]: 5, 4, 3.
    func testWarmupMinTrialsAndBestSoFar() {
        var median = MedianStopping(spec: MedianStoppingSpec(warmupSteps: 1, minTrials: 2), goal: .minimize)
        for value in [3.0, 1, 2] { XCTAssertEqual(median.report(trial: 0, step: 0, value: value), []) }
        // Trial 1 at iteration 2: best 3 > trial 0's 2, but only 1 other trial reached iteration 2.
        for value in [5.0, 3, 1] { XCTAssertEqual(median.report(trial: 1, step: 0, value: value), []) }
        // Trial 2 at iteration 1: 10 > median(3, 5) = 4, but iteration 1 is warm-up.
        XCTAssertEqual(median.report(trial: 2, step: 1, value: 10), [])
        // Iteration 2: best 4 > median(2, 4) = 3 → stop; one other (2) is strictly better → rank 2 of 3.
        let decisions = median.report(trial: 2, step: 2, value: 4)
        XCTAssertEqual(decisions.map(\.trial), [2])
        XCTAssertEqual(decisions.first?.explanation.description, "stopped at iteration 2: 4.0 > median 3.0, rank 2 of 3")
        // Trial 3 [1, 9]: at iteration 2, others' averages [2, 4, 7] → median 4; its best 1 continues.
        XCTAssertEqual(median.report(trial: 3, step: 1, value: 1), [])
        XCTAssertEqual(median.report(trial: 3, step: 2, value: 9), [])
    }

    func testNoWarmupStopsAtFirstIteration() {
        var median = MedianStopping(spec: MedianStoppingSpec(warmupSteps: 0, minTrials: 1), goal: .minimize)
        XCTAssertEqual(median.report(trial: 0, step: 1, value: 1), [])
        XCTAssertEqual(median.report(trial: 1, step: 1, value: 2).first?.explanation.stage, .iteration(1))
    }

    /// `maximize`: scores 0.8 and 0.6 → median 0.7 (mean of the two middle values); 0.5 is worse.
    func testMaximizeAndEvenMedian() {
        var median = MedianStopping(spec: MedianStoppingSpec(warmupSteps: 0, minTrials: 2), goal: .maximize)
        XCTAssertEqual(median.report(trial: 0, step: 1, value: 0.75), [])
        XCTAssertEqual(median.report(trial: 1, step: 1, value: 0.25), [])
        let decisions = median.report(trial: 2, step: 1, value: 0.25)
        XCTAssertEqual(decisions.first?.explanation.description, "stopped at iteration 1: 0.25 < median 0.5, rank 2 of 3")
        XCTAssertEqual(median.report(trial: 3, step: 1, value: 0.5), [], "0.5 is not worse than median(0.25, 0.25, 0.75) = 0.25")
    }

    func testEndedAndNonFinite() {
        var median = MedianStopping(spec: MedianStoppingSpec(warmupSteps: 0, minTrials: 1), goal: .minimize)
        XCTAssertEqual(median.report(trial: 0, step: 1, value: 1), [])
        median.trialStarted(1)
        median.trialEnded(1, stopped: false)
        XCTAssertEqual(median.report(trial: 1, step: 1, value: 5), [], "ended trials are never stopped")
        XCTAssertEqual(median.report(trial: 2, step: 1, value: .infinity), [])
        // Others at iteration 1: [1, 5] → 3; 4 > 3.
        XCTAssertEqual(median.report(trial: 2, step: 2, value: 4).first?.explanation.threshold, 3)
        XCTAssertEqual(median.report(trial: 2, step: 3, value: 40), [], "stopped once")
    }

    func testSummaryAndWarnings() {
        XCTAssertEqual(MedianStopping.summary(for: MedianStoppingSpec(warmupSteps: 5, minTrials: 3)),
                       "median: after 5 warm-up iterations, once 3 other trials reached the iteration")
        XCTAssertEqual(MedianStopping.warnings(for: MedianStoppingSpec()), [])
        XCTAssertEqual(MedianStopping.warnings(for: MedianStoppingSpec(warmupSteps: -1, minTrials: 0)).count, 2)
    }
}
