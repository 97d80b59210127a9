import Foundation
import XCTest

/// The example sweeps of examples/, run for real through `thresher run` (local worker processes,
/// the store, checkpoints on disk), shrunk with `--set` so each takes seconds.
final class ExampleSweepTests: XCTestCase {
    private static let root = ThresherProcess.repositoryRoot
    private static let sharedData = root.deletingLastPathComponent().appendingPathComponent("shared/data")

    private func temporaryFolder(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// The checkpoint `thresher run` wrote for rank 1, with its sidecar's params.
    private func bestCheckpoint(_ run: ThresherProcess.Output, state: URL) throws -> [String: Any] {
        let line = try XCTUnwrap(run.lines.first { $0.hasPrefix("checkpoint 1: ") }, run.stdout + run.stderr)
        let path = String(try XCTUnwrap(line.dropFirst("checkpoint 1: ".count).split(separator: " ").first))
        XCTAssertTrue(path.hasPrefix(state.path + "/best/"), line)
        XCTAssertGreaterThan(try Data(contentsOf: URL(fileURLWithPath: path)).count, 8)
        let sidecar = try Data(contentsOf: URL(fileURLWithPath: path.replacingOccurrences(of: ".safetensors", with: ".json")))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: sidecar) as? [String: Any])
        return try XCTUnwrap(object["params"] as? [String: Any], "\(object)")
    }

    func testEveryExampleValidates() throws {
        let examples = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("examples").path)
            .filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertEqual(examples, ["command-trial.yaml", "digits-mlp.yaml", "w1-boolq-gru.yaml", "w2-claims-pair.yaml"])
        for name in examples {
            let result = try ThresherProcess.run(["sweep", "validate", "examples/" + name])
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            XCTAssertTrue(result.stdout.contains("trials: "), "\(name): \(result.stdout)")
        }
    }

    /// W1 on the real BoolQ dev split and 50-d GloVe vectors: two trials (hidden 16, one GRU layer,
    /// 4 optimizer steps of one epoch) instead of 81 × 50 epochs.
    func testW1RunsOnTheSharedBoolQAndGloVe() throws {
        let boolq = Self.sharedData.appendingPathComponent("boolq/dev.jsonl")
        let glove = Self.sharedData.appendingPathComponent("glove/glove.6B.50d.top20000.txt.gz")
        guard FileManager.default.fileExists(atPath: boolq.path), FileManager.default.fileExists(atPath: glove.path) else {
            throw XCTSkip("W1 example: ../shared/data/boolq/dev.jsonl or ../shared/data/glove is not here")
        }
        let state = try temporaryFolder("w1")
        let run = try ThresherProcess.run([
            "run", "examples/w1-boolq-gru.yaml", "--workers", "2", "--state", state.path,
            "--set", "parameters.hidden_size.values=[16]", "--set", "parameters.dropout.values=[0]",
            "--set", "parameters.lr.values=[0.001]", "--set", "parameters.weight_decay.values=[0, 0.01]",
            "--set", "thresher.engine.epochs=1", "--set", "thresher.engine.max_steps=4",
            "--set", "thresher.engine.num_layers=1", "--set", "thresher.engine.cache_dir=\(state.path)/cache",
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("2/2 trials ended, 2 completed"), run.stdout)
        XCTAssertTrue(run.stdout.contains("best: trial "), run.stdout)
        let params = try bestCheckpoint(run, state: state)
        XCTAssertEqual(params["hidden_size"] as? Int, 16)
    }

    /// W2 on a claims folder the test writes (balanced labels), given with a relative
    /// `--set thresher.engine.data=claims` that means the current folder, not the file's.
    func testW2RunsOnAClaimsFolderNamedOnTheCommandLine() throws {
        let work = try temporaryFolder("w2")
        try Self.writeClaims(in: work.appendingPathComponent("claims"))
        let example = Self.root.appendingPathComponent("examples/w2-claims-pair.yaml").path
        let arguments = ["run", example, "--workers", "2", "--set", "thresher.engine.data=claims",
                         "--set", "thresher.engine.epochs=1", "--set", "thresher.engine.max_length=32",
                         "--set", "thresher.engine.hidden_size=16", "--set", "thresher.engine.embedding_dim=16"]
        let run = try ThresherProcess.run(arguments, in: work)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("4/4 trials ended, 4 completed"), run.stdout)
        let states = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("thresher-runs").path)
        XCTAssertEqual(states.count, 1)
        let state = try XCTUnwrap(states.first)
        XCTAssertTrue(state.hasPrefix("w2-claims-pair-set-"), state)
        let params = try bestCheckpoint(run, state: work.appendingPathComponent("thresher-runs/" + state))
        XCTAssertNotNil(params["label_weight"] as? [Double], "\(params)")

        // The same command continues its sweep (here: finds it finished) in the same folder.
        let again = try ThresherProcess.run(arguments, in: work)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("sweep 1 (w2-claims-pair) in \(work.path)/thresher-runs/\(state)"), again.stderr)
        XCTAssertTrue(again.stdout.contains("4/4 trials ended"), again.stdout)

        // Other --set values: a new sweep in a folder of its own…
        let other = try ThresherProcess.run(arguments + ["--set", "thresher.engine.max_length=24"], in: work)
        XCTAssertEqual(other.status, 0, other.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("thresher-runs").path).count, 2)
        // …and never in the folder of another sweep of the same file.
        let refused = try ThresherProcess.run(arguments + ["--set", "thresher.engine.max_length=24",
                                                           "--state", "thresher-runs/" + state], in: work)
        XCTAssertEqual(refused.status, 2, refused.stdout + refused.stderr)
        XCTAssertTrue(refused.stderr.contains("already holds sweep 1 (w2-claims-pair) from a different text"), refused.stderr)
    }

    /// A user's program as the trials: 12 logistic regressions on the breast-cancer table, with
    /// hyperband, and the best checkpoint fetched at the end.
    func testCommandTrialExampleRunsTheUsersProgram() throws {
        guard FileManager.default.fileExists(atPath: Self.sharedData.appendingPathComponent("digits/breast_cancer.csv").path) else {
            throw XCTSkip("command-trial example: ../shared/data/digits/breast_cancer.csv is not here")
        }
        let state = try temporaryFolder("command")
        let run = try ThresherProcess.run(["run", "examples/command-trial.yaml", "--workers", "2", "--state", state.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("12/12 trials ended"), run.stdout)
        XCTAssertTrue(run.stdout.contains("stopped early"), "hyperband stops the slow learning rates: \(run.stdout)")
        let best = try XCTUnwrap(run.lines.first { $0.hasPrefix("best: trial ") }, run.stdout)
        let value = try XCTUnwrap(Double(String(best.split(separator: " ")[4])), best)
        XCTAssertLessThan(value, 0.3, "a fitted logistic regression: \(best)")
        let params = try bestCheckpoint(run, state: state)
        XCTAssertNotNil(params["lr"], "\(params)")
    }

    /// The example program resumes exactly: a run continued from its epoch-3 checkpoint writes the
    /// same later lines as the uninterrupted run.
    func testCommandTrialProgramResumesExactly() throws {
        guard FileManager.default.fileExists(atPath: Self.sharedData.appendingPathComponent("digits/breast_cancer.csv").path) else {
            throw XCTSkip("command-trial example: ../shared/data/digits/breast_cancer.csv is not here")
        }
        let work = try temporaryFolder("resume")
        let program = Self.root.appendingPathComponent("examples/trials/logistic_regression.py").path
        func python(_ environment: [String: String]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", program, "--lr", "0.1", "--epochs", "6"]
            process.currentDirectoryURL = work
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0)
            let file = work.appendingPathComponent(environment["THRESHER_METRICS_FILE"] ?? "metrics.jsonl")
            return try String(contentsOf: file, encoding: .utf8)
        }
        let full = try python(["THRESHER_SEED": "3"]).split(separator: "\n")
        XCTAssertEqual(full.count, 6)
        let resumed = try python(["THRESHER_SEED": "3", "THRESHER_METRICS_FILE": "resumed.jsonl",
                                  "THRESHER_RESUME_FROM": "checkpoints/step-3.safetensors"]).split(separator: "\n")
        XCTAssertEqual(resumed, Array(full.suffix(3)))
    }

    /// 36 training and 12 validation pairs, the three labels equally often.
    static func writeClaims(in folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let subjects = ["cats", "dogs", "the moon", "water", "iron", "bread", "rivers", "owls", "glass", "salt", "trees", "snow"]
        let properties = ["heavy", "bright", "cold", "old", "small", "green"]
        func rows(_ count: Int, offset: Int) -> String {
            (0..<count).map { i -> String in
                let subject = subjects[i % subjects.count], property = properties[(i * 7 + offset) % properties.count]
                let (label, evidence) = [("SUPPORTS", "It is known that \(subject) are \(property)."),
                                         ("REFUTES", "It is known that \(subject) are not \(property)."),
                                         ("NOT_ENOUGH_INFO", "Nothing is said about \(property) things.")][i % 3]
                return "{\"claim\": \"\(subject) are \(property).\", \"evidence\": \"\(evidence)\", \"label\": \"\(label)\"}\n"
            }.joined()
        }
        try rows(36, offset: 0).write(to: folder.appendingPathComponent("train.jsonl"), atomically: true, encoding: .utf8)
        try rows(12, offset: 3).write(to: folder.appendingPathComponent("validation.jsonl"), atomically: true, encoding: .utf8)
    }
}
