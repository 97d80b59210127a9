import XCTest

/// Argument validation of `thresher bench engine` only: every case here exits before any
/// measurement starts. The benchmark's figures are never asserted in tests.
final class BenchEngineCommandTests: XCTestCase {
    func testUnknownOptionExitsWithStatus2() throws {
        let result = try ThresherProcess.run(["bench", "engine", "--no-such-flag"])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains("unknown option '--no-such-flag'"), result.stderr)
        XCTAssertEqual(result.stdout, "")
    }

    func testBadHiddenValuesExitWithStatus2() throws {
        for value in ["abc", "0", "-256", "256,", "128,x"] {
            let result = try ThresherProcess.run(["bench", "engine", "--hidden=\(value)"])
            XCTAssertEqual(result.status, 2, "--hidden \(value): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("--hidden takes comma-separated integers"), result.stderr)
            XCTAssertEqual(result.stdout, "")
        }
    }

    func testBadThreadsAndStepsExitWithStatus2() throws {
        let threads = try ThresherProcess.run(["bench", "engine", "--threads", "two"])
        XCTAssertEqual(threads.status, 2, threads.stderr)
        XCTAssertTrue(threads.stderr.contains("--threads takes comma-separated integers"), threads.stderr)

        let steps = try ThresherProcess.run(["bench", "engine", "--steps", "0"])
        XCTAssertEqual(steps.status, 2, steps.stderr)
        XCTAssertTrue(steps.stderr.contains("--steps must be at least 1"), steps.stderr)
    }
}
