import ThresherSweep
import ThresherWire
import XCTest

final class SweepBenchmarkTests: XCTestCase {
    func testFunctionsHitTheirKnownMinima() {
        let branin = BenchmarkFunction.branin
        for point in [[-Double.pi, 12.275], [Double.pi, 2.275], [9.42478, 2.475]] {
            XCTAssertEqual(branin.evaluate(point), 0.397887, accuracy: 1e-5)
        }
        let hartmann = BenchmarkFunction.hartmann6
        XCTAssertEqual(hartmann.evaluate([0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]), -3.32237, accuracy: 1e-5)
        // At x1 = π the function is (x2 − 2.275)² + 0.397887.
        XCTAssertEqual(branin.evaluate(["x1": .double(Double.pi), "x2": .int(2)]) ?? 0, 0.397887 + 0.275 * 0.275, accuracy: 1e-5)
    }

    func testSmallRunReportsAllKeysAndRenders() {
        let result = SweepBenchmark.run(seeds: 3, trials: 15)
        XCTAssertEqual(Set(result.medians.keys), Set(SweepBenchmark.keys))
        XCTAssertTrue(result.medians.values.allSatisfy { $0.isFinite && $0 >= -1e-9 })
        XCTAssertTrue(result.json.hasPrefix("{\"seeds\":3,\"trials\":15,\"branin_bayes\":"))
        XCTAssertTrue(result.table.contains("hartmann6"))
        XCTAssertEqual(SweepBenchmark.run(seeds: 3, trials: 15), result)
        XCTAssertEqual(SweepBenchmark.peerCommand(seeds: 3, trials: 15, json: true),
                       ["python3", "Benchmarks/optuna_peer.py", "--seeds", "3", "--trials", "15", "--json"])
    }
}
