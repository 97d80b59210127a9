import XCTest
@testable import ThresherEngine

/// Schedules against the learning rates PyTorch 2.13's schedulers produce (read from
/// `param_group["lr"]` before each `optimizer.step(); scheduler.step()`), to Double rounding.
final class ScheduleTests: XCTestCase {
    private func rates(_ schedule: any LearningRateSchedule, base: Double, steps: Int) -> [Double] {
        (0..<steps).map { schedule.learningRate(base: base, step: $0) }
    }

    private func assertClose(_ a: [Double], _ e: [Double], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, e.count, file: file, line: line)
        for (x, y) in zip(a, e) { XCTAssertEqual(x, y, accuracy: 1e-12, "\(a)", file: file, line: line) }
    }

    func testLinearLR() throws {
        let s = try LinearLR(startFactor: 0.1, endFactor: 1, totalIterations: 4)
        assertClose(rates(s, base: 0.5, steps: 7), [0.05, 0.1625, 0.275, 0.3875, 0.5, 0.5, 0.5])
        XCTAssertEqual(s.learningRate(base: 0.5, step: -3), 0.05, accuracy: 1e-15)
        XCTAssertThrowsError(try LinearLR(startFactor: 0))
        XCTAssertThrowsError(try LinearLR(endFactor: 1.5))
        XCTAssertThrowsError(try LinearLR(totalIterations: 0))
    }

    func testCosineAnnealingIsPeriodicAsPyTorch() throws {
        let s = try CosineAnnealingLR(maxSteps: 4, minimumLearningRate: 0.1)
        assertClose(rates(s, base: 0.5, steps: 10), [0.5, 0.44142135623730949, 0.3, 0.15857864376269054, 0.1,
                                                     0.15857864376269049, 0.3, 0.4414213562373096, 0.5, 0.4414213562373096])
        XCTAssertThrowsError(try CosineAnnealingLR(maxSteps: 0))
    }

    func testLinearDecayAndConstant() throws {
        let s = try LinearDecay(totalSteps: 4)
        assertClose(rates(s, base: 2, steps: 6), [2, 1.5, 1, 0.5, 0, 0])
        assertClose(rates(ConstantLearningRate(), base: 3, steps: 3), [3, 3, 3])
    }

    func testWarmupThenDecayAsSequentialLR() throws {
        let s = try SequentialLR([LinearLR(startFactor: 0.25, totalIterations: 2),
                                  LinearLR(startFactor: 1, endFactor: 0, totalIterations: 4)], milestones: [2])
        assertClose(rates(s, base: 1, steps: 8), [0.25, 0.625, 1, 0.75, 0.5, 0.25, 0, 0])
        XCTAssertThrowsError(try SequentialLR([ConstantLearningRate()], milestones: [1]))
        XCTAssertThrowsError(try SequentialLR([ConstantLearningRate(), ConstantLearningRate()], milestones: [0]))
    }
}
