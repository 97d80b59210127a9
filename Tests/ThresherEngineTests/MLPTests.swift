import Foundation
import XCTest
@testable import ThresherEngine

final class MLPTests: XCTestCase {
    private typealias G = GradientCheck

    func testParameterNamesFollowPyTorchSequential() throws {
        let plain = try XCTUnwrap(MLPClassifier(inputSize: 4, hiddenSizes: [8, 6], classCount: 3, seed: 1))
        XCTAssertEqual(plain.parameters.map(\.name),
                       ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias", "layers.4.weight", "layers.4.bias"])
        XCTAssertEqual(plain.parameters.map(\.value.shape), [[8, 4], [8], [6, 8], [6], [3, 6], [3]])
        let withDropout = try XCTUnwrap(MLPClassifier(inputSize: 4, hiddenSizes: [8], classCount: 3, dropout: 0.5, seed: 1))
        XCTAssertEqual(withDropout.parameters.map(\.name), ["layers.0.weight", "layers.0.bias", "layers.3.weight", "layers.3.bias"])
        XCTAssertEqual(plain.parameters[0].value, MLPClassifier(inputSize: 4, hiddenSizes: [8, 6], classCount: 3, seed: 1)?.parameters[0].value)
        XCTAssertNil(MLPClassifier(inputSize: 4, hiddenSizes: [0], classCount: 3, seed: 1))
        XCTAssertNil(MLPClassifier(inputSize: 4, hiddenSizes: [2], classCount: 3, dropout: 1, seed: 1))
    }

    /// Gradient of the weighted, label-smoothed cross-entropy through the whole network.
    func testGradientCheck() throws {
        let model = try XCTUnwrap(MLPClassifier(inputSize: 5, hiddenSizes: [7, 6], classCount: 4, seed: 3))
        model.isTraining = false
        let x = G.random([3, 5], seed: 4)
        let targets = [0, 3, 2]
        let loss = CrossEntropyLoss(weight: [1, 2, 0.5, 1.5], labelSmoothing: 0.1)
        for p in model.parameters { p.zeroGrad() }
        let dx = model.inputGradient(loss(model.forward(x), targets).gradient)
        let numericX = G.numerical(x.storage) { values in
            Double(loss(model.forward(G.tensor([3, 5], values)), targets).loss)
        }
        G.assertClose(dx.storage, numericX, "dx")
        for p in model.parameters {
            let original = p.value
            let numeric = G.numerical(original.storage) { values in
                p.value = G.tensor(original.shape, values)
                return Double(loss(model.forward(x), targets).loss)
            }
            p.value = original
            G.assertClose(p.grad.storage, numeric, p.name)
        }
    }

    func testTrainerIsDeterministicAndLearnsSeparableData() throws {
        var rng = EngineRandom(seed: 9)
        let n = 120
        var storage: [Float] = []
        var labels: [Int] = []
        for i in 0..<n {
            let c = i % 3
            storage += [Float(c) * 2 + rng.normal(mean: 0, std: 0.3), rng.normal()]
            labels.append(c)
        }
        let data = try ClassificationDataset(inputs: .features(G.tensor([n, 2], storage)), labels: labels, classCount: 3)
        let splits = try DatasetSplits(train: data, validation: data, test: nil, description: "synthetic")
        let recipe = TrainingRecipe(epochs: 15, batchSize: 16, learningRate: 1e-2, maxGradNorm: 5, seed: 5)
        func run() throws -> ([EvaluationRecord], [Float]) {
            let model = try XCTUnwrap(MLPClassifier(inputSize: 2, hiddenSizes: [16], classCount: 3, dropout: 0.1, seed: 2))
            let history = try Trainer(model: model, splits: splits, recipe: recipe).run()
            return (history, model.parameters.flatMap(\.value.storage))
        }
        let (h1, w1) = try run()
        let (h2, w2) = try run()
        XCTAssertEqual(w1, w2)
        XCTAssertEqual(h1, h2)
        XCTAssertEqual(h1.count, 15)
        XCTAssertEqual(h1.last?.step, 15 * 8)
        XCTAssertEqual(h1.last?.epoch, 15)
        XCTAssertLessThan(try XCTUnwrap(h1.last?.trainLoss), try XCTUnwrap(h1.first?.trainLoss))
        XCTAssertGreaterThan(try XCTUnwrap(h1.last?.validation?.accuracy), 0.9)
        XCTAssertEqual(h1.last?.validation?.sampleCount, n)

        let wrongWidth = try XCTUnwrap(MLPClassifier(inputSize: 3, hiddenSizes: [4], classCount: 3, seed: 0))
        XCTAssertThrowsError(try Trainer(model: wrongWidth, splits: splits, recipe: TrainingRecipe(epochs: 1)).run())
        let wrongClasses = try XCTUnwrap(MLPClassifier(inputSize: 2, hiddenSizes: [4], classCount: 4, seed: 0))
        XCTAssertThrowsError(try Trainer(model: wrongClasses, splits: splits, recipe: TrainingRecipe(epochs: 1)))
        let model = try XCTUnwrap(MLPClassifier(inputSize: 2, hiddenSizes: [4], classCount: 3, seed: 0))
        XCTAssertThrowsError(try Trainer(model: model, splits: splits, recipe: TrainingRecipe(epochs: 1, batchSize: 0)))
    }

    /// Issue 4 §11: `mlp` on the 1,797 real digits, split 70/15/15 by seed, test accuracy ≥ 0.95.
    func testDigitsQuality() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = repo.deletingLastPathComponent().appendingPathComponent("shared/data/digits/digits.csv.gz").standardized.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("digits quality test: shared data not found at \(path)")
        }
        let table = try CSVTableReader().read(path: path)
        XCTAssertEqual(table.features.shape, [1797, 64])
        XCTAssertEqual(table.classCount, 10)
        let splits = try DatasetSplits(table: table, source: "digits", seed: 0)
        XCTAssertEqual(splits.train.count + (splits.validation?.count ?? 0) + (splits.test?.count ?? 0), 1797)

        let model = try XCTUnwrap(MLPClassifier(inputSize: 64, hiddenSizes: [128], classCount: 10, seed: 0))
        let trainer = try Trainer(model: model, splits: splits,
                                  recipe: TrainingRecipe(epochs: 30, batchSize: 32, learningRate: 1e-3, weightDecay: 0.01))
        let start = Date()
        let history = try trainer.run()
        let (_, report) = try trainer.evaluate(try XCTUnwrap(splits.test))
        let seconds = Date().timeIntervalSince(start)
        print("digits: val accuracy \(history.last?.validation?.accuracy ?? -1), test accuracy \(report.accuracy) "
              + "(\(report.sampleCount) rows), \(String(format: "%.2f", seconds)) s")
        XCTAssertGreaterThanOrEqual(report.accuracy, 0.95)
    }
}
