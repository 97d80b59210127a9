import Foundation
import XCTest

/// The contracts of `thresher sweep validate | expand | simulate` that scripts rely on.
final class SweepCommandTests: XCTestCase {
    func testValidateW1PrintsTheGridSizeAndItsBands() throws {
        let result = try ThresherProcess.run(["sweep", "validate", "examples/w1-boolq-gru.yaml"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.lines.contains("method: grid"))
        XCTAssertTrue(result.lines.contains("trials: 81"))
        XCTAssertTrue(result.stdout.contains("hyperband: bands 2, 6, 18, 55, 166"), result.stdout)
        XCTAssertTrue(result.stderr.contains("warning: early_terminate.s is 50"), "the degenerate s gets a warning: \(result.stderr)")
    }

    func testValidateW2CountsFourTrials() throws {
        let result = try ThresherProcess.run(["sweep", "validate", "examples/w2-claims-pair.yaml"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.lines.contains("trials: 4"))
    }

    func testInvalidFileExitsTwoWithEveryErrorAndItsPlace() throws {
        let file = try ThresherProcess.temporaryFile("""
            method: grid
            metric: {name: loss}
            parameters:
              lr:
                distribution: uniform
                min: 0.1
                max: 0.01
              layers:
                valeus: [1, 2]
            """, name: "sweep.yaml")
        let result = try ThresherProcess.run(["sweep", "validate", file])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stdout, "")
        XCTAssertTrue(result.stderr.contains("parameters.lr.min must be < max (0.1 >= 0.01) at \(file):6:10"), result.stderr)
        XCTAssertTrue(result.stderr.contains("did you mean 'values'"), result.stderr)
        XCTAssertTrue(result.stderr.contains("grid"), "uniform cannot be enumerated by a grid: \(result.stderr)")
    }

    func testMissingFileIsAClearError() throws {
        let result = try ThresherProcess.run(["sweep", "validate", "/nonexistent/sweep.yaml"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("/nonexistent/sweep.yaml"), result.stderr)
    }

    func testExpandW1GivesEightyOneJSONLinesInWandBOrder() throws {
        let result = try ThresherProcess.run(["sweep", "expand", "examples/w1-boolq-gru.yaml", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.lines.count, 81)
        let objects = try result.lines.map { line in
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
        }
        XCTAssertEqual(objects.map { $0["index"] as? Int }, Array(0..<81))
        XCTAssertEqual(result.lines.first, #"{"index": 0, "params": {"dropout": 0, "hidden_size": 128, "lr": 0.001, "weight_decay": 0}}"#)
        XCTAssertEqual(result.lines.last, #"{"index": 80, "params": {"dropout": 0.2, "hidden_size": 512, "lr": 1e-05, "weight_decay": 0.01}}"#)
        let distinct = Set(result.lines.map { $0.drop(while: { $0 != "p" }) })
        XCTAssertEqual(distinct.count, 81, "every grid point once")
    }

    func testExpandW2KeepsListValuesAsJSONArrays() throws {
        let result = try ThresherProcess.run(["sweep", "expand", "examples/w2-claims-pair.yaml", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.lines.count, 4)
        let first = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.lines[0].utf8)) as? [String: Any])
        let params = try XCTUnwrap(first["params"] as? [String: Any])
        XCTAssertEqual(params["label_weight"] as? [Double], [2, 1.2, 1])
    }

    func testExpandRandomIsSeededAndNeedsACount() throws {
        let file = try ThresherProcess.temporaryFile("""
            method: random
            parameters:
              lr: {distribution: log_uniform_values, min: 0.00001, max: 0.1}
              opt: {parameters: {name: {values: [adam, sgd]}, momentum: {min: 0.0, max: 0.99}}}
            thresher: {seed: 7}
            """, name: "random.yaml")
        let unbounded = try ThresherProcess.run(["sweep", "expand", file, "--json"])
        XCTAssertNotEqual(unbounded.status, 0)
        XCTAssertTrue(unbounded.stderr.contains("--count"), unbounded.stderr)

        let a = try ThresherProcess.run(["sweep", "expand", file, "--json", "--count", "5"])
        let b = try ThresherProcess.run(["sweep", "expand", file, "--json", "--count", "5"])
        let c = try ThresherProcess.run(["sweep", "expand", file, "--json", "--count", "5", "--seed", "8"])
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(a.lines.count, 5)
        XCTAssertEqual(a.stdout, b.stdout, "the same seed gives the same trials")
        XCTAssertNotEqual(a.stdout, c.stdout, "--seed overrides thresher.seed")
        let nested = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(a.lines[0].utf8)) as? [String: Any])
        XCTAssertNotNil((nested["params"] as? [String: Any])?["opt"] as? [String: Any], "nested parameters are nested objects")
    }

    func testSimulateReplaysHyperbandOverCurves() throws {
        // Three trials, bands from min_iter 2, eta 2 → bands 2, 4, 8, … (minimize).
        // At band 2 (second value) the values are 0.9, 0.5, 0.4; with 3 values the threshold is
        // sorted[⌊3/2⌋] = 0.5, so trial 0 (0.9 > 0.5) is stopped once trial 2 has reported it.
        let sweep = try ThresherProcess.temporaryFile("""
            method: grid
            metric: {name: loss, goal: minimize}
            parameters: {x: {values: [1, 2, 3]}}
            early_terminate: {type: hyperband, min_iter: 2, eta: 2}
            """, name: "sweep.yaml")
        var curves = ""
        let values: [[Double]] = [[1.0, 0.9, 0.8, 0.7], [0.8, 0.5, 0.3, 0.2], [0.7, 0.4, 0.3, 0.1]]
        for (trial, curve) in values.enumerated() {
            for (step, value) in curve.enumerated() { curves += "{\"trial\": \(trial), \"step\": \(step + 1), \"value\": \(value)}\n" }
        }
        let curvesFile = try ThresherProcess.temporaryFile(curves, name: "curves.jsonl")
        let result = try ThresherProcess.run(["sweep", "simulate", sweep, "--curves", curvesFile, "--parallel", "3", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.lines.count, 4)
        let objects = try result.lines.map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(objects[0]["stopped"] as? Bool, true, result.stdout)
        XCTAssertEqual(objects[0]["last_step"] as? Int, 2)
        XCTAssertEqual(objects[1]["stopped"] as? Bool, false)
        XCTAssertEqual(objects[2]["stopped"] as? Bool, false)
        let summary = try XCTUnwrap(objects[3]["summary"] as? [String: Any])
        XCTAssertEqual(summary["steps_total"] as? Int, 12)
        XCTAssertEqual(summary["steps_used"] as? Int, 10)
        XCTAssertEqual(summary["best_overall"] as? Double, 0.1)
        XCTAssertEqual(summary["best_found"] as? Double, 0.1)
    }

    func testSimulateNamesTheBadCurveLine() throws {
        let sweep = try ThresherProcess.temporaryFile("""
            method: grid
            metric: {name: loss}
            parameters: {x: {values: [1]}}
            early_terminate: {type: hyperband, min_iter: 1}
            """, name: "sweep.yaml")
        let curves = try ThresherProcess.temporaryFile("{\"trial\": 0, \"step\": 1, \"value\": 0.5}\nnot json\n", name: "curves.jsonl")
        let result = try ThresherProcess.run(["sweep", "simulate", sweep, "--curves", curves])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("line 2"), result.stderr)
    }
}
