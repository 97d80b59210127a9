import Foundation
import XCTest
@testable import ThresherEngine

private typealias G = GradientCheck

/// The training loop, checkpoints and resume.
final class TrainerTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-trainer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// Three noisy, separable classes in 2-D, as feature rows.
    private func tableSplits(n: Int = 90) throws -> DatasetSplits {
        var rng = EngineRandom(seed: 3)
        var x: [Float] = [], y: [Int] = []
        for i in 0..<n {
            x += [Float(i % 3) + rng.normal(mean: 0, std: 0.4), rng.normal()]
            y.append(i % 3)
        }
        let data = try ClassificationDataset(inputs: .features(G.tensor([n, 2], x)), labels: y, classCount: 3)
        return try DatasetSplits(train: data, validation: data.subset(Array(0..<30)), test: nil, description: "synthetic")
    }

    /// Binary sequences whose label is the sign of the mean of the first feature; varying lengths.
    private func sequenceSplits(n: Int = 40, steps: Int = 6, width: Int = 3) throws -> DatasetSplits {
        var rng = EngineRandom(seed: 4)
        var x: [Float] = [], y: [Int] = [], lengths: [Int] = []
        for i in 0..<n {
            let length = 1 + i % steps
            var sum: Float = 0
            for t in 0..<steps {
                for d in 0..<width {
                    let v = t < length ? rng.normal() : 0
                    if d == 0 && t < length { sum += v }
                    x.append(v)
                }
            }
            y.append(sum > 0 ? 1 : 0)
            lengths.append(length)
        }
        let data = try ClassificationDataset(inputs: .sequences(G.tensor([n, steps, width], x), lengths: lengths),
                                             labels: y, classCount: 2)
        return try DatasetSplits(train: data, validation: data.subset(Array(0..<16)), test: nil, description: "synthetic")
    }

    /// Train `total` steps in one go, or `cut` steps, checkpoint to disk, restore into a fresh model
    /// with different initial weights, and finish: weights, moments and later evaluations must be
    /// bit-identical.
    private func assertResumeIsBitIdentical(makeModel: (UInt64) throws -> any ClassifierModel,
                                            splits: DatasetSplits, recipe: TrainingRecipe, cut: Int) throws {
        let uninterrupted = try makeModel(1)
        let full = try Trainer(model: uninterrupted, splits: splits, recipe: recipe)
        let fullRecords = try full.run()

        var firstRecipe = recipe
        firstRecipe.maxSteps = cut
        let first = try Trainer(model: try makeModel(1), splits: splits, recipe: firstRecipe)
        let firstRecords = try first.run()
        XCTAssertEqual(first.position.step, cut)
        let path = folder.appendingPathComponent("cut.safetensors").path
        try TrainingCheckpoint(model: first.model.kind, state: first.state, recipe: firstRecipe, params: ["lr": .number(recipe.learningRate)])
            .write(to: path, metrics: firstRecords.last?.metrics ?? [])

        let checkpoint = try TrainingCheckpoint(contentsOfFile: path)
        try checkpoint.checkCompatible(model: uninterrupted.kind, recipe: recipe)
        let resumedModel = try makeModel(99)  // different initial weights and dropout streams: all must be restored
        let resumed = try Trainer(model: resumedModel, splits: splits, recipe: recipe)
        try resumed.restore(checkpoint.state)
        let restRecords = try resumed.run()

        XCTAssertEqual(resumed.position, full.position)
        for (a, b) in zip(uninterrupted.parameters, resumedModel.parameters) {
            XCTAssertEqual(a.value.storage, b.value.storage, "\(a.name) differs after resume")
        }
        XCTAssertEqual(full.optimizer.state, resumed.optimizer.state)
        XCTAssertEqual(uninterrupted.randomState, resumedModel.randomState)
        // The evaluations after the cut are the uninterrupted run's (the cut's own evaluation is extra).
        XCTAssertEqual(Array(fullRecords.suffix(restRecords.count)), restRecords)
    }

    func testResumeMidEpochIsBitIdenticalForMLPWithDropout() throws {
        let recipe = TrainingRecipe(epochs: 4, batchSize: 16, learningRate: 5e-3, weightDecay: 0.01, warmup: 0.2,
                                    decay: "cosine", maxGradNorm: 1, labelSmoothing: 0.1, classWeights: [2, 1, 0.5], seed: 8)
        try assertResumeIsBitIdentical(
            makeModel: { seed in try XCTUnwrap(MLPClassifier(inputSize: 2, hiddenSizes: [8, 8], classCount: 3, dropout: 0.3, seed: seed)) },
            splits: try tableSplits(), recipe: recipe, cut: 9)  // 6 batches an epoch: the cut is inside epoch 2
    }

    func testResumeAtEpochBoundaryIsBitIdenticalForGRUClassifierWithDropout() throws {
        let recipe = TrainingRecipe(epochs: 3, batchSize: 8, learningRate: 1e-2, warmup: 0.1, decay: "linear", seed: 2)
        try assertResumeIsBitIdentical(
            makeModel: { seed in try GRUClassifier(inputSize: 3, hiddenSize: 5, numLayers: 2, dropout: 0.25, seed: seed) },
            splits: try sequenceSplits(), recipe: recipe, cut: 5)  // 5 batches an epoch
    }

    func testGRUClassifierLearnsASequenceTask() throws {
        let splits = try sequenceSplits(n: 64)
        let model = try GRUClassifier(inputSize: 3, hiddenSize: 8, numLayers: 2, seed: 0)
        let records = try Trainer(model: model, splits: splits,
                                  recipe: TrainingRecipe(epochs: 25, batchSize: 16, learningRate: 2e-2, seed: 1)).run()
        let first = try XCTUnwrap(records.first), last = try XCTUnwrap(records.last)
        XCTAssertLessThan(last.trainLoss, first.trainLoss * 0.6)
        XCTAssertGreaterThan(try XCTUnwrap(last.validation?.balancedAccuracy), 0.8)
        XCTAssertNotNil(last.validation?.rocAUC)
        XCTAssertEqual(Set(last.metrics.map(\.0)).isSuperset(of: ["train_loss", "val_loss", "val_accuracy", "val_balanced_accuracy",
                                                               "val_f1", "val_precision", "val_recall"]), true)
    }

    func testMaxStepsStopsMidEpochAndReportsThatEpoch() throws {
        let trainer = try Trainer(model: try XCTUnwrap(MLPClassifier(inputSize: 2, hiddenSizes: [4], classCount: 3, seed: 0)),
                                  splits: try tableSplits(), recipe: TrainingRecipe(epochs: 5, maxSteps: 8, batchSize: 16))
        let records = try trainer.run()
        XCTAssertEqual(records.map(\.step), [6, 8])
        XCTAssertEqual(records.map(\.epoch), [1, 2])
        XCTAssertTrue(trainer.isFinished)
    }

    func testEarlyStopFromTheCallback() throws {
        let trainer = try Trainer(model: try XCTUnwrap(MLPClassifier(inputSize: 2, hiddenSizes: [4], classCount: 3, seed: 0)),
                                  splits: try tableSplits(), recipe: TrainingRecipe(epochs: 5, batchSize: 16))
        var seen = 0
        let records = try trainer.run { _ in seen += 1; return seen < 2 }
        XCTAssertEqual(records.count, 2)
        XCTAssertEqual(trainer.position.step, 12)
    }

    func testCheckpointErrorsNameTheProblem() throws {
        let plain = folder.appendingPathComponent("weights.safetensors").path
        try SafeTensorsFile(tensors: ["w": G.tensor([1], [1])]).write(toFile: plain)
        XCTAssertThrowsError(try TrainingCheckpoint(contentsOfFile: plain)) { error in
            XCTAssertTrue("\(error)".contains("not a Thresher checkpoint"), "\(error)")
        }
        XCTAssertThrowsError(try TrainingCheckpoint(contentsOfFile: folder.appendingPathComponent("missing").path))

        let model = try XCTUnwrap(MLPClassifier(inputSize: 2, hiddenSizes: [4], classCount: 3, seed: 0))
        let trainer = try Trainer(model: model, splits: try tableSplits(), recipe: TrainingRecipe(epochs: 1, batchSize: 16))
        let path = folder.appendingPathComponent("c.safetensors").path
        try TrainingCheckpoint(model: "mlp", state: trainer.state, recipe: trainer.recipe, params: [:]).write(to: path)
        let checkpoint = try TrainingCheckpoint(contentsOfFile: path)
        XCTAssertThrowsError(try checkpoint.checkCompatible(model: "gru-classifier", recipe: trainer.recipe))
        var other = trainer.recipe
        other.batchSize = 8
        XCTAssertThrowsError(try checkpoint.checkCompatible(model: "mlp", recipe: other))
        other = trainer.recipe
        other.epochs = 9
        XCTAssertNoThrow(try checkpoint.checkCompatible(model: "mlp", recipe: other))

        // Weights of another shape are refused and leave the model unchanged.
        let wider = try XCTUnwrap(MLPClassifier(inputSize: 2, hiddenSizes: [5], classCount: 3, seed: 0))
        let before = wider.weights
        let widerTrainer = try Trainer(model: wider, splits: try tableSplits(), recipe: TrainingRecipe(epochs: 1, batchSize: 16))
        XCTAssertThrowsError(try widerTrainer.restore(checkpoint.state))
        XCTAssertEqual(wider.weights, before)

        let sidecar = try Data(contentsOf: URL(fileURLWithPath: TrainingCheckpoint.sidecarPath(for: path)))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: sidecar) as? [String: Any])
        XCTAssertEqual(json["model"] as? String, "mlp")
        XCTAssertEqual(json["weights"] as? String, "c.safetensors")
    }

    /// Issue 4 §7: the files load with Python's `safetensors` package (numpy flavour: no torch needed).
    func testCheckpointLoadsWithPythonSafetensors() throws {
        let model = try GRUClassifier(inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 0)
        let trainer = try Trainer(model: model, splits: try sequenceSplits(), recipe: TrainingRecipe(epochs: 1, batchSize: 8))
        try trainer.run()
        let path = folder.appendingPathComponent("gru.safetensors").path
        try TrainingCheckpoint(model: model.kind, state: trainer.state, recipe: trainer.recipe, params: ["hidden_size": .number(4)])
            .write(to: path)
        let script = """
            import sys
            try:
                from safetensors import safe_open
            except ImportError:
                print("SKIP"); sys.exit(0)
            with safe_open(sys.argv[1], framework="numpy") as f:
                meta = f.metadata()
                for k in sorted(f.keys()):
                    t = f.get_tensor(k)
                    print(k, str(t.dtype), "x".join(map(str, t.shape)), repr(float(t.reshape(-1)[0])))
                print("META", meta["format"], meta["model"])
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { throw XCTSkip("python3 is not available: \(error)") }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if output.hasPrefix("SKIP") { throw XCTSkip("Python's safetensors package is not installed (pip install safetensors numpy)") }
        XCTAssertEqual(process.terminationStatus, 0, output)
        var lines: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { lines[String(parts[0])] = String(parts[1]) }
        }
        XCTAssertEqual(lines["META"], "thresher-checkpoint/1 gru-classifier")
        for p in model.parameters {
            let entry = try XCTUnwrap(lines[p.name], "python did not list \(p.name):\n\(output)")
            let fields = entry.split(separator: " ")
            XCTAssertEqual(fields.first, "float32")
            XCTAssertEqual(String(fields[1]), p.value.shape.map(String.init).joined(separator: "x"))
            XCTAssertEqual(Float(String(fields[2])), p.value.storage[0], p.name)
        }
        XCTAssertNotNil(lines["optimizer/fc2.bias.exp_avg"], output)
    }

    func testHyperparametersAreTypedAndUnknownOnesReported() throws {
        var params = Hyperparameters(["lr": .number(0.01), "label_weight": HyperparameterValue(parsing: "[2, 1.2, 1]"),
                                      "shuffle": HyperparameterValue(parsing: "false"), "learning_rat": .number(1)])
        let recipe = try TrainingRecipe(reading: &params)
        XCTAssertEqual(recipe.learningRate, 0.01)
        XCTAssertEqual(recipe.classWeights, [2, 1.2, 1])
        XCTAssertFalse(recipe.shuffle)
        XCTAssertEqual(params.unusedKeys, ["learning_rat"])
        XCTAssertEqual(HyperparameterValue(parsing: "true"), .bool(true))
        XCTAssertEqual(HyperparameterValue(parsing: "1e-3"), .number(0.001))
        XCTAssertEqual(HyperparameterValue(parsing: "cosine"), .string("cosine"))

        var bad = Hyperparameters(["batch_size": .number(2.5)])
        XCTAssertThrowsError(try TrainingRecipe(reading: &bad)) { XCTAssertTrue("\($0)".contains("batch_size"), "\($0)") }
        var negative = Hyperparameters(["lr": .number(-1)])
        XCTAssertThrowsError(try TrainingRecipe(reading: &negative)) { XCTAssertTrue("\($0)".contains("lr"), "\($0)") }
        var decay = Hyperparameters(["lr_decay": .string("exp")])
        XCTAssertThrowsError(try TrainingRecipe(reading: &decay)) { XCTAssertTrue("\($0)".contains("constant, linear, cosine"), "\($0)") }
    }

    func testWarmupFollowsLinearLRThenDecays() throws {
        let recipe = TrainingRecipe(learningRate: 1, warmup: 0.1, decay: "linear")
        let schedule = try recipe.schedule(totalSteps: 100)
        XCTAssertEqual(schedule.learningRate(base: 1, step: 0), 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(schedule.learningRate(base: 1, step: 5), 1.0 / 3 + (2.0 / 3) * 0.5, accuracy: 1e-12)
        XCTAssertEqual(schedule.learningRate(base: 1, step: 10), 1, accuracy: 1e-12)
        XCTAssertEqual(schedule.learningRate(base: 1, step: 55), 0.5, accuracy: 1e-12)
    }
}
