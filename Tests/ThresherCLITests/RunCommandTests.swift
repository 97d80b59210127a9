import Foundation
import XCTest

/// The README's main command: `thresher run examples/digits-mlp.yaml` — a coordinator in-process,
/// local `thresher worker` processes over ipc://, the 81-trial grid with hyperband on the real
/// digits data, and the best checkpoint on disk at the end.
final class RunCommandTests: XCTestCase {
    func testDigitsSweepRunsEndToEndAndLeavesTheBestCheckpoint() throws {
        let data = ThresherProcess.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data/digits/digits.csv.gz")
        guard FileManager.default.fileExists(atPath: data.path) else {
            throw XCTSkip("thresher run: ../shared/data/digits is not here")
        }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-run-\(UUID().uuidString)").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: state) }
        let run = try ThresherProcess.run(["run", "examples/digits-mlp.yaml", "--workers", "2", "--state", state, "--best", "2"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("81/81 trials ended"), run.stdout)
        XCTAssertTrue(run.stdout.contains("stopped early"), "hyperband stops weak trials: \(run.stdout)")
        let bestLine = try XCTUnwrap(run.lines.first { $0.hasPrefix("best: trial") }, run.stdout)
        let value = try XCTUnwrap(Double(try XCTUnwrap(bestLine.split(separator: " ").dropFirst(4).first)), bestLine)
        XCTAssertGreaterThan(value, 0.9, "the best digits trial is a good model")

        // The best checkpoints are on disk, load as safetensors (8-byte header length + JSON), and
        // their sidecars name the trial's params and the digest the coordinator verified.
        let best = state + "/best"
        let files = try FileManager.default.contentsOfDirectory(atPath: best).sorted()
        let weights = files.filter { $0.hasSuffix(".safetensors") }
        XCTAssertEqual(weights.count, 2, "\(files)")
        for file in weights {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: best + "/" + file))
            XCTAssertGreaterThan(bytes.count, 8)
            let sidecar = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath:
                best + "/" + file.replacingOccurrences(of: ".safetensors", with: ".json")))) as? [String: Any]
            XCTAssertNotNil(sidecar?["params"])
            XCTAssertEqual((sidecar?["sha256"] as? String)?.count, 64)
        }
        XCTAssertTrue(run.stdout.contains("checkpoint 1: " + best), run.stdout)

        // Rerunning on the same state continues (here: finds the sweep finished) instead of starting a copy.
        let again = try ThresherProcess.run(["run", "examples/digits-mlp.yaml", "--workers", "1", "--state", state, "--best", "1"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("sweep 1 "), again.stderr)
    }

    func testMissingEngineDataIsOneClearErrorBeforeAnythingStarts() throws {
        let text = try String(contentsOfFile: ThresherProcess.repositoryRoot.appendingPathComponent("examples/digits-mlp.yaml").path,
                              encoding: .utf8).replacingOccurrences(of: "../../shared/data/digits/digits.csv.gz", with: "missing.csv")
        let file = try ThresherProcess.temporaryFile(text, name: "nowhere.yaml")
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-run-\(UUID().uuidString)").path
        let out = try ThresherProcess.run(["run", file, "--state", state])
        XCTAssertEqual(out.status, 2, out.stderr)
        XCTAssertTrue(out.stderr.contains("thresher.engine.data is missing.csv"), out.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: state), "nothing was started")
    }

    func testRemoteListenerWithoutATokenIsRefused() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-coord-\(UUID().uuidString)").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: state) }
        let out = try ThresherProcess.run(["coordinator", "--listen", "tcp://0.0.0.0:0", "--state", state],
                                          environment: ["THRESHER_TOKEN": "", "THRESHER_TOKEN_FILE": ""])
        XCTAssertEqual(out.status, 2, out.stderr)
        XCTAssertTrue(out.stderr.contains("only ipc:// and loopback tcp:// listeners are allowed"), out.stderr)
    }
}
