import XCTest
@testable import ThresherSweep

/// The stage the live table and the report show: the policies' own rungs, the trial's bracket.
final class TrialStageTests: XCTestCase {
    func testHyperbandHasOneBracketOfBands() throws {
        let spec = EarlyTerminateSpec.hyperband(HyperbandSpec(maxIter: 81, s: 3, eta: 3))
        XCTAssertEqual(TrialStage.of(spec, trialIndex: 5, iterations: 0), TrialStage(bracket: nil, reached: 0, rungs: [3, 9, 27]))
        let midway = try XCTUnwrap(TrialStage.of(spec, trialIndex: 5, iterations: 10))
        XCTAssertEqual(midway.reached, 2)
        XCTAssertEqual(midway.nextRung, 27)
        XCTAssertEqual(midway.text, "r2/3")
        let done = try XCTUnwrap(TrialStage.of(spec, trialIndex: 5, iterations: 27))
        XCTAssertNil(done.nextRung)
        XCTAssertEqual(done.text, "r3/3")
    }

    func testASHABracketIsIndexModBrackets() throws {
        let spec = EarlyTerminateSpec.asha(ASHASpec(gracePeriod: 1, reductionFactor: 2, maxT: 4, brackets: 2))
        // Bracket 0: rungs 1, 2, 4; bracket 1: 2, 4 (ASHAStoppingTests.testRungs).
        XCTAssertEqual(TrialStage.of(spec, trialIndex: 4, iterations: 2)?.text, "b0 r2/3")
        let odd = try XCTUnwrap(TrialStage.of(spec, trialIndex: 3, iterations: 2))
        XCTAssertEqual(odd.bracket, 1)
        XCTAssertEqual(odd.rungs, [2, 4])
        XCTAssertEqual(odd.text, "b1 r1/2")
        XCTAssertEqual(odd.nextRung, 4)
    }

    func testAStoppedTrialReachesTheRungItWasStoppedAtAndNoLater() throws {
        let hyperband = try XCTUnwrap(TrialStage.Schedule(.hyperband(HyperbandSpec(maxIter: 81, s: 3, eta: 3))))
        XCTAssertEqual(hyperband.iteration(ofStopAtBand: 9, rung: nil), 9)
        XCTAssertEqual(hyperband.stage(trialIndex: 0, iterations: 20, stoppedAt: 9).text, "r2/3")
        XCTAssertEqual(hyperband.stage(trialIndex: 0, iterations: 20, stoppedAt: nil).text, "r2/3")
        XCTAssertEqual(hyperband.stage(trialIndex: 0, iterations: 30, stoppedAt: 3).text, "r1/3")
        // ASHA names rungs by k: grace 1, rf 2, max_t 4 has k 0, 1, 2 at iterations 1, 2, 4.
        let asha = try XCTUnwrap(TrialStage.Schedule(.asha(ASHASpec(gracePeriod: 1, reductionFactor: 2, maxT: 4, brackets: 2))))
        XCTAssertEqual(asha.iteration(ofStopAtBand: nil, rung: 1), 2)
        XCTAssertNil(asha.iteration(ofStopAtBand: 3, rung: nil), "a stop without a rung (e.g. a user's) caps nothing")
        XCTAssertEqual(asha.stage(trialIndex: 1, iterations: 4, stoppedAt: 2).text, "b1 r1/2")
    }

    func testNoRungsWithoutARungPolicy() {
        XCTAssertNil(TrialStage.of(nil, trialIndex: 0, iterations: 5))
        XCTAssertNil(TrialStage.of(.median(MedianStoppingSpec()), trialIndex: 0, iterations: 5))
    }
}
