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

        // status and fetch read the state folder read-only: every trial with its state, stops with
        // their explanation, and the same best checkpoint, byte for byte.
        let status = try ThresherProcess.run(["status", "digits-mlp", "--state", state, "--json"])
        XCTAssertEqual(status.status, 0, status.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let trials = try XCTUnwrap(report["trials"] as? [[String: Any]])
        XCTAssertEqual(trials.count, 81)
        let stopped = trials.filter { $0["state"] as? String == "stopped" }
        XCTAssertFalse(stopped.isEmpty)
        for trial in stopped {
            let why = try XCTUnwrap(trial["stop_explanation"] as? [String: Any], "\(trial)")
            XCTAssertEqual(why["rule"] as? String, "hyperband")
        }
        let out = state + "/fetched"
        let fetch = try ThresherProcess.run(["fetch", "digits-mlp", "--state", state, "--best", "1", "--out", out])
        XCTAssertEqual(fetch.status, 0, fetch.stderr)
        let fetchedName = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: out).first { $0.hasSuffix(".safetensors") })
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/" + fetchedName)),
                       try Data(contentsOf: URL(fileURLWithPath: best + "/" + fetchedName)))

        // Rerunning on the same state continues (here: finds the sweep finished) instead of starting a copy.
        let again = try ThresherProcess.run(["run", "examples/digits-mlp.yaml", "--workers", "1", "--state", state, "--best", "1"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("sweep 1 "), again.stderr)
        // A blob damaged on disk is refused by fetch (exit 2), never written out as a checkpoint.
        let blobs = try XCTUnwrap(FileManager.default.enumerator(atPath: state + "/blobs")?.allObjects as? [String])
        for name in blobs where name.count > 60 {
            let path = state + "/blobs/" + name
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[bytes.count / 2] ^= 0xFF
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        let damaged = try ThresherProcess.run(["fetch", "digits-mlp", "--state", state, "--best", "1", "--out", state + "/damaged"])
        XCTAssertEqual(damaged.status, 2, damaged.stdout + damaged.stderr)
        XCTAssertTrue(damaged.stderr.contains("corrupt") || damaged.stderr.contains("digest"), damaged.stderr)

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
