import Foundation
import XCTest

/// `--set KEY=VALUE` on `thresher sweep validate | expand | simulate` and `thresher run`: the
/// overridden file is what the command sees, and a bad override is an exit-2 error naming it.
final class SweepSetOptionTests: XCTestCase {
    func testValidateAndExpandSeeTheOverriddenFile() throws {
        let validate = try ThresherProcess.run(["sweep", "validate", "examples/w1-boolq-gru.yaml",
                                                "--set", "parameters.hidden_size.values=[16, 32]",
                                                "--set", "early_terminate.max_iter=27", "--set", "early_terminate.s=2"])
        XCTAssertEqual(validate.status, 0, validate.stderr)
        XCTAssertTrue(validate.lines.contains("trials: 54"), validate.stdout)
        XCTAssertTrue(validate.stdout.contains("hyperband: bands 3, 9"), validate.stdout)
        XCTAssertFalse(validate.stderr.contains("early_terminate.s is 50"), validate.stderr)

        let fromRoot = try ThresherProcess.run(["sweep", "expand", "examples/w1-boolq-gru.yaml", "--json", "--programs",
                                                "--set", "parameters.hidden_size.values=[16]", "--set", "thresher.engine.epochs=2",
                                                "--set", "thresher.engine.data=elsewhere/boolq.jsonl"])
        XCTAssertEqual(fromRoot.status, 0, fromRoot.stderr)
        XCTAssertEqual(fromRoot.lines.count, 27)
        let first = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(fromRoot.lines[0].utf8)) as? [String: Any])
        XCTAssertEqual((first["params"] as? [String: Any])?["hidden_size"] as? Int, 16)
        let argv = try XCTUnwrap(first["argv"] as? [String])
        XCTAssertEqual(argv[argv.firstIndex(of: "--epochs")! + 1], "2")
        // A path given on the command line is relative to the current folder, not to examples/.
        XCTAssertEqual(argv[argv.firstIndex(of: "--data")! + 1],
                       ThresherProcess.repositoryRoot.appendingPathComponent("elsewhere/boolq.jsonl").path)
    }

    func testSimulateSeesTheOverriddenPolicy() throws {
        var curves = ""
        for trial in 0..<3 {
            for step in 1...9 { curves += "{\"trial\": \(trial), \"step\": \(step), \"value\": \(Double(trial) + 1.0 / Double(step))}\n" }
        }
        let file = try ThresherProcess.temporaryFile(curves, name: "curves.jsonl")
        let plain = try ThresherProcess.run(["sweep", "simulate", "examples/digits-mlp.yaml", "--curves", file, "--json"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let median = try ThresherProcess.run(["sweep", "simulate", "examples/digits-mlp.yaml", "--curves", file, "--json",
                                              "--set", "metric.goal=minimize",
                                              "--set", "early_terminate={type: median, min_trials: 1}"])
        XCTAssertEqual(median.status, 0, median.stderr)
        XCTAssertNotEqual(plain.stdout, median.stdout)
        XCTAssertTrue(median.stdout.contains("median"), median.stdout)
    }

    func testBadOverridesExitTwoNamingTheOverride() throws {
        let typo = try ThresherProcess.run(["sweep", "validate", "examples/w2-claims-pair.yaml", "--set", "thresher.engine.dat=x"])
        XCTAssertEqual(typo.status, 2)
        XCTAssertTrue(typo.stderr.contains("error: --set thresher.engine.dat=x: thresher.engine.dat is not an engine key; did you mean 'data'?"),
                      typo.stderr)
        for argument in ["=x", "a..b=1", "thresher.engine.data=", "a=[", "method.x=1", "novalue"] {
            let result = try ThresherProcess.run(["sweep", "validate", "examples/w2-claims-pair.yaml", "--set", argument])
            XCTAssertEqual(result.status, 2, "\(argument): \(result.stdout) \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("error: --set \(argument): "), "\(argument): \(result.stderr)")
        }
        // thresher run refuses before it starts anything.
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-set-\(UUID().uuidString)").path
        let run = try ThresherProcess.run(["run", "examples/digits-mlp.yaml", "--state", state, "--set", "thresher.engine.epochs=-1"])
        XCTAssertEqual(run.status, 2, run.stderr)
        XCTAssertTrue(run.stderr.contains("--set thresher.engine.epochs=-1: thresher.engine.epochs must be"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: state))

        // W2 without its data: one error that says how to name it, before anything starts.
        let w2 = try ThresherProcess.run(["run", "examples/w2-claims-pair.yaml", "--state", state])
        XCTAssertEqual(w2.status, 2, w2.stderr)
        XCTAssertTrue(w2.stderr.contains("thresher.engine.data is data/claims"), w2.stderr)
        XCTAssertTrue(w2.stderr.contains("(name yours with --set thresher.engine.data=PATH)"), w2.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: state))
        // A relative --set path means the current folder: from the repository root, no such folder.
        let relative = try ThresherProcess.run(["run", "examples/w2-claims-pair.yaml", "--state", state,
                                                "--set", "thresher.engine.data=no-such-claims"])
        XCTAssertEqual(relative.status, 2, relative.stderr)
        XCTAssertTrue(relative.stderr.contains("thresher.engine.data is " + ThresherProcess.repositoryRoot.appendingPathComponent("no-such-claims").path),
                      relative.stderr)
    }
}
