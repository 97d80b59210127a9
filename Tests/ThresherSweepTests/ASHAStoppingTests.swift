import XCTest
@testable import ThresherSweep

/// ASHA on hand-made curves. With rf 2 the cutoff is the linear 1/2-quantile (the median) of the
/// values recorded at the rung before the trial: for sorted v, h = (n − 1) / 2, v[⌊h⌋] + frac(h)·(v[⌊h⌋+1] − v[⌊h⌋]).
final class ASHAStoppingTests: XCTestCase {
    func testRungs() {
        let one = ASHAStopping.rungs(for: ASHASpec(gracePeriod: 1, reductionFactor: 3, maxT: 81))
        XCTAssertEqual(one.map { $0.map(\.iteration) }, [[1, 3, 9, 27, 81]])
        let two = ASHAStopping.rungs(for: ASHASpec(gracePeriod: 1, reductionFactor: 2, maxT: 4, brackets: 2))
        XCTAssertEqual(two.map { $0.map(\.iteration) }, [[1, 2, 4], [2, 4]])
        XCTAssertEqual(two[1].map(\.index), [1, 2])
        // 1, 1.5, 2.25, 3.375 (5.06 > 5 ends) → iterations ⌈·⌉ = 1, 2, 3, 4.
        let fine = ASHAStopping.rungs(for: ASHASpec(gracePeriod: 1, reductionFactor: 1.5, maxT: 5))
        XCTAssertEqual(fine.map { $0.map(\.iteration) }, [[1, 2, 3, 4]])
        // 1, 1.2, 1.44, 1.73, 2.07, 2.49, 2.99 (3.58 > 3 ends) → ⌈·⌉ = 1, 2, 2, 2, 3, 3, 3:
        // equal iterations are one rung, named by its lowest k.
        let merged = ASHAStopping.rungs(for: ASHASpec(gracePeriod: 1, reductionFactor: 1.2, maxT: 3))
        XCTAssertEqual(merged[0], [.init(index: 0, iteration: 1), .init(index: 1, iteration: 2), .init(index: 4, iteration: 3)])
    }

    func testSummaryAndWarnings() {
        XCTAssertEqual(ASHAStopping.summary(for: ASHASpec(gracePeriod: 1, reductionFactor: 3, maxT: 81)),
                       "asha: rungs 1, 3, 9, 27, 81 (rf 3)")
        XCTAssertEqual(ASHAStopping.summary(for: ASHASpec(gracePeriod: 1, reductionFactor: 2, maxT: 4, brackets: 2)),
                       "asha: rungs bracket 0: 1, 2, 4; bracket 1: 2, 4 (rf 2)")
        XCTAssertEqual(ASHAStopping.warnings(for: ASHASpec(gracePeriod: 1, reductionFactor: 3, maxT: 81, brackets: 5)), [])
        XCTAssertEqual(ASHAStopping.warnings(for: ASHASpec(gracePeriod: 1, reductionFactor: 3, maxT: 81, brackets: 7)), [
            "early_terminate.brackets is 7 but bracket 5 and above have no rung up to max_t 81: their trials are never stopped",
        ])
        XCTAssertEqual(ASHAStopping.warnings(for: ASHASpec(gracePeriod: 10, maxT: 5)), [
            "early_terminate.max_t 5 is below grace_period 10: asha has no rungs and stops nothing",
        ])
        XCTAssertEqual(ASHAStopping.warnings(for: ASHASpec(reductionFactor: 1, maxT: 5)).count, 1)
        XCTAssertEqual(ASHAStopping.rungs(for: ASHASpec(gracePeriod: 0, maxT: 5)), [[]])
    }

    /// grace 1, rf 2, max_t 4 → rungs at iterations 1, 2, 4.
    func testDecisionsAtRungs() {
        var asha = ASHAStopping(spec: ASHASpec(gracePeriod: 1, reductionFactor: 2, maxT: 4), goal: .minimize)
        for trial in 0...3 { asha.trialStarted(trial) }
        XCTAssertEqual(asha.report(trial: 0, step: 1, value: 5), [], "first at rung 0: no cutoff")
        XCTAssertEqual(asha.report(trial: 1, step: 1, value: 4), [], "cutoff of [5] is 5")
        // Before trial 2: [4, 5], h = 0.5 → 4.5; 6 > 4.5.
        let stop2 = asha.report(trial: 2, step: 1, value: 6)
        XCTAssertEqual(stop2.map(\.trial), [2])
        XCTAssertEqual(stop2.first?.explanation.description, "stopped at rung 0 (iteration 1): 6.0 > threshold 4.5, rank 3 of 3")
        // Before trial 3: [4, 5, 6], h = 1 → 5; 4.5 ≤ 5 continues.
        XCTAssertEqual(asha.report(trial: 3, step: 1, value: 4.5), [])
        XCTAssertEqual(asha.report(trial: 0, step: 2, value: 3), [], "first at rung 1")
        // Before trial 1 at rung 1: [3] → 3; 3.5 > 3.
        let stop1 = asha.report(trial: 1, step: 2, value: 3.5)
        XCTAssertEqual(stop1.first?.explanation, StopExplanation(
            policy: .asha, stage: .rung(index: 1, iteration: 2), iteration: 2, value: 3.5, threshold: 3,
            goal: .minimize, rank: 2, comparedCount: 2))
        // Before trial 3: [3, 3.5], h = 0.5 → 3.25; 1 continues. Iteration 3 is no rung.
        XCTAssertEqual(asha.report(trial: 3, step: 2, value: 1), [])
        XCTAssertEqual(asha.report(trial: 3, step: 3, value: 100), [])
        // Rung 2 (iteration 4) for trial 3 is empty: it continues whatever its value.
        XCTAssertEqual(asha.report(trial: 3, step: 4, value: 100), [])
        // A stopped trial's late reports are recorded but never stopped again.
        XCTAssertEqual(asha.report(trial: 2, step: 2, value: 50), [])
    }

    /// `maximize`: losses are −score. Before the third trial: [−70, −50] → −60, i.e. score 60.
    func testMaximize() {
        var asha = ASHAStopping(spec: ASHASpec(gracePeriod: 1, reductionFactor: 2, maxT: 4), goal: .maximize)
        XCTAssertEqual(asha.report(trial: 0, step: 1, value: 50), [])
        XCTAssertEqual(asha.report(trial: 1, step: 1, value: 70), [])
        let decisions = asha.report(trial: 2, step: 1, value: 40)
        XCTAssertEqual(decisions.first?.explanation.description, "stopped at rung 0 (iteration 1): 40.0 < threshold 60.0, rank 3 of 3")
    }

    /// Brackets 2: even trials use rungs 1, 2, 4; odd trials rungs 2, 4, recorded separately.
    func testBracketsAreRoundRobinAndSeparate() {
        var asha = ASHAStopping(spec: ASHASpec(gracePeriod: 1, reductionFactor: 2, maxT: 4, brackets: 2), goal: .minimize)
        for value in [1.0, 1] { XCTAssertEqual(asha.report(trial: 0, step: 0, value: value), []) }
        // Trial 1 has no rung at iteration 1, and bracket 1's rung at 2 is empty: 9 continues.
        for value in [9.0, 9] { XCTAssertEqual(asha.report(trial: 1, step: 0, value: value), []) }
        for value in [5.0, 5] { XCTAssertEqual(asha.report(trial: 3, step: 0, value: value), []) }   // cutoff 9
        XCTAssertEqual(asha.report(trial: 5, step: 0, value: 20), [])
        // Before trial 5 at bracket 1's rung 1: [5, 9] → 7; 20 > 7.
        XCTAssertEqual(asha.report(trial: 5, step: 0, value: 20).first?.explanation.threshold, 7)
        XCTAssertEqual(ASHAStopping.bracket(of: -3, brackets: 2), 1)
    }

    func testEndedTrialsAndNonFiniteValues() {
        var asha = ASHAStopping(spec: ASHASpec(gracePeriod: 1, reductionFactor: 2, maxT: 4), goal: .minimize)
        XCTAssertEqual(asha.report(trial: 0, step: 1, value: 1), [])
        asha.trialStarted(1)
        asha.trialEnded(1, stopped: false)
        XCTAssertEqual(asha.report(trial: 1, step: 1, value: 9), [], "ended: recorded, not stopped")
        XCTAssertEqual(asha.report(trial: 2, step: 1, value: .nan), [], "NaN is no iteration")
        // Before trial 2's first finite value: [1, 9] → 5; 6 > 5.
        XCTAssertEqual(asha.report(trial: 2, step: 2, value: 6).first?.explanation.iteration, 1)
    }
}
