import Foundation
import XCTest

/// The contract of `thresher train`: JSON lines, checkpoints, resume, and exit 2 on bad input.
final class TrainCommandTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func write(_ name: String, _ text: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// 90 rows, three classes, two features, with a header; deterministic.
    private func csv() throws -> String {
        var lines = ["a,b,label"]
        var state: UInt64 = 7
        func noise() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
        for i in 0..<90 { lines.append("\(Double(i % 3) + noise()),\(noise()),\(i % 3)") }
        return try write("table.csv", lines.joined(separator: "\n") + "\n")
    }

    private func json(_ line: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
    }

    func testMLPPrintsOneLinePerEpochAndATestLine() throws {
        let out = try ThresherProcess.run(["train", "--model", "mlp", "--data", try csv(), "--epochs", "3",
                                           "--param", "hidden_sizes=[8]", "--param", "batch_size=16", "--seed", "4"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual(out.lines.count, 4, out.stdout)
        for (i, line) in out.lines.prefix(3).enumerated() {
            let record = try json(line)
            XCTAssertEqual(record["epoch"] as? Int, i + 1)
            for key in ["step", "train_loss", "val_loss", "val_accuracy", "val_balanced_accuracy", "val_f1", "val_precision", "val_recall"] {
                XCTAssertNotNil(record[key], "\(key) missing in \(line)")
            }
        }
        let test = try json(try XCTUnwrap(out.lines.last))
        XCTAssertNotNil(test["test_accuracy"])
        let matrix = try XCTUnwrap(test["test_confusion_matrix"] as? [[Int]])
        XCTAssertEqual(matrix.count, 3)
        XCTAssertEqual(matrix.flatMap { $0 }.reduce(0, +), test["test_examples"] as? Int)
    }

    /// Stopping with --max-steps mid-epoch and resuming from latest.safetensors ends exactly where an
    /// uninterrupted run ends: the same last evaluation and the same test metrics, digit for digit.
    func testResumeFromACheckpointEndsWhereTheUninterruptedRunEnds() throws {
        let data = try csv()
        let common = ["train", "--model", "mlp", "--data", data, "--epochs", "4", "--seed", "2",
                      "--param", "dropout=0.2", "--param", "batch_size=16", "--param", "warmup=0.2", "--param", "lr_decay=cosine"]
        let full = try ThresherProcess.run(common + ["--checkpoint-dir", folder.appendingPathComponent("full").path])
        XCTAssertEqual(full.status, 0, full.stderr)
        let cut = try ThresherProcess.run(common + ["--max-steps", "7", "--checkpoint-dir", folder.appendingPathComponent("cut").path])
        XCTAssertEqual(cut.status, 0, cut.stderr)
        let resumed = try ThresherProcess.run(common + ["--resume", folder.appendingPathComponent("cut/latest.safetensors").path])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resumed from"), resumed.stderr)
        XCTAssertEqual(resumed.lines.suffix(2), full.lines.suffix(2))
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("full/final.safetensors").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("full/final.json").path))

        // --init with the final weights, no training: the test line equals the trained run's.
        let initialised = try ThresherProcess.run(["train", "--model", "mlp", "--data", data, "--epochs", "0", "--seed", "2",
                                                   "--param", "dropout=0.2", "--param", "batch_size=16",
                                                   "--init", folder.appendingPathComponent("full/final.safetensors").path])
        XCTAssertEqual(initialised.status, 0, initialised.stderr)
        let a = try json(try XCTUnwrap(initialised.lines.last)), b = try json(try XCTUnwrap(full.lines.last))
        XCTAssertEqual(a["test_loss"] as? Double, b["test_loss"] as? Double)
    }

    /// Run by a worker (docs/trial-programs.md): metrics lines go to THRESHER_METRICS_FILE too, one
    /// step-<N>.safetensors per evaluation appears in THRESHER_CHECKPOINT_DIR before its line, and
    /// THRESHER_RESUME_FROM resumes.
    func testTrialProgramEnvironment() throws {
        let data = try csv()
        let metrics = folder.appendingPathComponent("metrics.jsonl").path
        let checkpoints = folder.appendingPathComponent("checkpoints").path
        let arguments = ["train", "--model", "mlp", "--data", data, "--epochs", "3", "--param", "batch_size=16"]
        let out = try ThresherProcess.run(arguments, environment: ["THRESHER_METRICS_FILE": metrics, "THRESHER_CHECKPOINT_DIR": checkpoints])
        XCTAssertEqual(out.status, 0, out.stderr)
        let lines = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, out.lines.count)
        XCTAssertEqual(lines.dropLast(), out.lines.dropLast(), "evaluation lines are the same in both")
        // The metrics file's test line has numbers only (the contract); stdout's adds the confusion matrix.
        XCTAssertFalse(try XCTUnwrap(lines.last).contains("confusion"))
        XCTAssertTrue(try XCTUnwrap(out.lines.last).hasPrefix(try XCTUnwrap(lines.last).dropLast() + ",\"test_confusion_matrix\""))
        let files = try FileManager.default.contentsOfDirectory(atPath: checkpoints).sorted()
        XCTAssertEqual(files, ["step-12.json", "step-12.safetensors", "step-4.json", "step-4.safetensors", "step-8.json", "step-8.safetensors"])

        let resumed = try ThresherProcess.run(arguments, environment: [
            "THRESHER_RESUME_FROM": checkpoints + "/step-8.safetensors",
            "THRESHER_METRICS_FILE": folder.appendingPathComponent("resumed.jsonl").path])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resumed from"), resumed.stderr)
        XCTAssertEqual(resumed.lines, Array(out.lines.suffix(2)), "the resumed run gives the last epoch and the test line, digit for digit")
    }

    /// The README's sweep: `sweep expand --programs` gives each trial's `thresher train` run, and
    /// trial 0 runs to completion on the real digits data with one evaluation per epoch.
    func testDigitsSweepTrialRunsThroughTheEngine() throws {
        let data = ThresherProcess.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data/digits/digits.csv.gz")
        guard FileManager.default.fileExists(atPath: data.path) else {
            throw XCTSkip("digits sweep trial: ../shared/data/digits is not here")
        }
        let expand = try ThresherProcess.run(["sweep", "expand", "examples/digits-mlp.yaml", "--json", "--programs", "--count", "81"])
        XCTAssertEqual(expand.status, 0, expand.stderr)
        XCTAssertEqual(expand.lines.count, 81)
        let first = try json(try XCTUnwrap(expand.lines.first))
        let argv = try XCTUnwrap(first["argv"] as? [String])
        XCTAssertEqual(Array(argv.dropFirst().prefix(3)), ["train", "--model", "mlp"])
        let run = try ThresherProcess.run(Array(argv.dropFirst()))
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.lines.count, 28, "27 epochs and the test line")
        XCTAssertGreaterThan(try json(try XCTUnwrap(run.lines.last))["test_accuracy"] as? Double ?? 0, 0.8)
    }

    /// Issue 4 §8: PyTorch and Thresher start from identical weights (`--init` with a state_dict
    /// PyTorch saved) and, with `--no-shuffle` and `--max-steps`, take the same 12 steps: the
    /// script trains the same module in torch and compares every weight at 1e-4.
    func testRunReplaysStepForStepInPyTorch() throws {
        let script = ThresherProcess.repositoryRoot.appendingPathComponent("scripts/parity/replay_train.py").path
        func python(_ arguments: [String]) throws -> (Int32, String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3"] + arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, output)
        }
        let (probe, _) = try python(["-c", "import torch, safetensors"])
        guard probe == 0 else { throw XCTSkip("PyTorch replay: python3 with torch and safetensors is not installed") }
        let dir = folder.appendingPathComponent("replay").path
        let (prepared, prepareOutput) = try python([script, "prepare", dir])
        XCTAssertEqual(prepared, 0, prepareOutput)
        let run = try ThresherProcess.run([
            "train", "--model", "gru-classifier", "--data", dir + "/data.safetensors", "--init", dir + "/init.safetensors",
            "--no-shuffle", "--max-steps", "12", "--epochs", "3", "--param", "hidden_size=6", "--param", "batch_size=4",
            "--param", "lr=0.01", "--param", "weight_decay=0.01", "--checkpoint-dir", dir + "/out"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let (compared, output) = try python([script, "compare", dir])
        XCTAssertEqual(compared, 0, output)
        XCTAssertTrue(output.hasPrefix("match"), output)
    }

    /// W1 as the sweep file runs it, on the real BoolQ dev split and GloVe vectors (two steps of a
    /// small model: the point is that trial 0's program runs end to end on the real files).
    func testW1SweepTrialRunsOnTheRealData() throws {
        let shared = ThresherProcess.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
        for file in ["boolq/dev.jsonl", "glove/glove.6B.50d.top20000.txt.gz"]
        where !FileManager.default.fileExists(atPath: shared.appendingPathComponent(file).path) {
            throw XCTSkip("W1 sweep trial: ../shared/data/\(file) is not here")
        }
        let expand = try ThresherProcess.run(["sweep", "expand", "examples/w1-boolq-gru.yaml", "--json", "--programs", "--count", "1"])
        XCTAssertEqual(expand.status, 0, expand.stderr)
        var argv = try XCTUnwrap(try json(try XCTUnwrap(expand.lines.first))["argv"] as? [String])
        let epochs = try XCTUnwrap(argv.firstIndex(of: "--epochs"))
        // Two steps and a small hidden size (a later --param wins): debug builds run the GRU slowly,
        // and the whole validation and test splits are still evaluated.
        argv.replaceSubrange(epochs...(epochs + 1), with: ["--max-steps", "2", "--cache-dir", folder.appendingPathComponent("cache").path])
        argv += ["--param", "hidden_size=8"]
        let run = try ThresherProcess.run(Array(argv.dropFirst()))
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("train 2270, validation 500, test 500"), run.stderr)
        let evaluation = try json(try XCTUnwrap(run.lines.first))
        XCTAssertEqual(evaluation["step"] as? Int, 2)
        XCTAssertNotNil(evaluation["val_balanced_accuracy"])
        XCTAssertEqual(try json(try XCTUnwrap(run.lines.last))["test_examples"] as? Int, 500)
    }

    func testBadInputExitsTwoWithAClearMessage() throws {
        let data = try csv()
        func expectTwo(_ arguments: [String], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let out = try ThresherProcess.run(["train"] + arguments)
            XCTAssertEqual(out.status, 2, "\(arguments): \(out.stderr)", file: file, line: line)
            XCTAssertTrue(out.stderr.contains(fragment), "expected '\(fragment)' in: \(out.stderr)", file: file, line: line)
        }
        try expectTwo(["--model", "mlp", "--data", folder.appendingPathComponent("missing.csv").path], "does not exist")
        try expectTwo(["--model", "mlp", "--data", data, "--param", "learning_rat=0.1"], "did you mean learning_rate")
        try expectTwo(["--model", "mlp", "--data", data, "--param", "lr=fast"], "param lr must be a number")
        try expectTwo(["--model", "mlp", "--data", data, "--param", "lr"], "must be key=value")
        try expectTwo(["--model", "transformer", "--data", data], "choose one of mlp, gru-classifier, pair-classifier")
        try expectTwo(["--model", "gru-classifier", "--data", data], "gru-classifier reads embedded sequences")

        let small = folder.appendingPathComponent("small").path
        let trained = try ThresherProcess.run(["train", "--model", "mlp", "--data", data, "--epochs", "1",
                                               "--param", "hidden_sizes=4", "--checkpoint-dir", small])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        try expectTwo(["--model", "mlp", "--data", data, "--init", small + "/final.safetensors"], "has shape [4, 2], mlp needs [128, 2]")

        let claims = try write("claims.jsonl", """
            {"claim": "a", "evidence": "b", "label": "SUPPORTS"}
            {"claim": "c", "evidence": "d", "label": "REFUTES"}
            {"claim": "e", "label": "REFUTES"}

            """)
        try expectTwo(["--model", "pair-classifier", "--data", claims], ":3:")
    }

    /// 60 synthetic pairs over a small vocabulary: the label is which keyword the evidence holds.
    func testPairClassifierTrainsOnClaimEvidenceJSONL() throws {
        let keywords = ["supports": "SUPPORTS", "refutes": "REFUTES", "unknown": "NOT_ENOUGH_INFO"]
        var lines: [String] = []
        for i in 0..<60 {
            let key = keywords.keys.sorted()[i % 3]
            lines.append(#"{"claim": "claim number \#(i % 7) about things", "evidence": "the text \#(key) it", "label": "\#(keywords[key] ?? "")"}"#)
        }
        let path = try write("pairs/claims.jsonl", lines.joined(separator: "\n") + "\n")
        let out = try ThresherProcess.run(["train", "--model", "pair-classifier", "--data", path, "--epochs", "2",
                                           "--param", "hidden_size=8", "--param", "embedding_dim=6", "--param", "batch_size=8",
                                           "--param", "label_weight=[2,1.2,1]", "--param", "label_smoothing=0.2", "--param", "warmup=0.1"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual(out.lines.count, 3, out.stdout)
        let test = try json(try XCTUnwrap(out.lines.last))
        XCTAssertEqual((test["test_confusion_matrix"] as? [[Int]])?.count, 3)
        XCTAssertTrue(out.stderr.contains("vocabulary"), out.stderr)
    }

    /// BoolQ-format JSONL through the W1 pipeline with tiny word vectors; the second run hits the cache.
    func testGRUClassifierOnBoolQJSONLUsesThePreprocessingCache() throws {
        let words = ["is", "the", "sky", "blue", "water", "wet", "cats", "dogs", "are", "animals", "fuel", "green"]
        var glove: [String] = []
        for (i, w) in words.enumerated() {
            glove.append(([w] + (0..<4).map { String(format: "%.3f", sin(Double(i * 4 + $0))) }).joined(separator: " "))
        }
        let vectors = try write("glove.txt", glove.joined(separator: "\n") + "\n")
        var rows: [String] = []
        for i in 0..<30 {
            let yes = i % 2 == 0
            rows.append(#"{"question": "is the sky \#(yes ? "blue" : "green")?", "answer": \#(yes), "passage": "the sky is blue. water is wet. cats are animals \#(i)."}"#)
        }
        let data = try write("boolq.jsonl", rows.joined(separator: "\n") + "\n")
        let cache = folder.appendingPathComponent("cache").path
        let arguments = ["train", "--model", "gru-classifier", "--data", data, "--embeddings", vectors, "--cache-dir", cache,
                         "--epochs", "2", "--param", "hidden_size=6", "--param", "batch_size=8"]
        let first = try ThresherProcess.run(arguments)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stderr.contains("cache miss"), first.stderr)
        XCTAssertEqual(first.lines.count, 3, first.stdout)
        let second = try ThresherProcess.run(arguments)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stderr.contains("cache hit"), second.stderr)
        XCTAssertEqual(second.stdout, first.stdout)

        let missing = try ThresherProcess.run(["train", "--model", "gru-classifier", "--data", data])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("needs --embeddings"), missing.stderr)
    }
}
