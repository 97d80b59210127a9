import XCTest
@testable import ThresherEngine

/// The `pair-classifier` model: PyTorch names, a finite-difference check of every parameter through
/// weighted, smoothed cross-entropy, freezing, replayable dropout, batch validation, weight loading
/// and a short training run on a separable synthetic task.
final class PairClassifierTests: XCTestCase {
    private typealias G = GradientCheck

    private func options(layers: Int = 1, dropout: Float = 0, freezeEmbeddings: Bool = false,
                         freezeEncoder: Bool = false, seed: UInt64 = 7) -> PairClassifier.Options {
        PairClassifier.Options(vocabularySize: 12, embeddingDim: 3, hiddenSize: 4, classCount: 3, numLayers: layers,
                               dropout: dropout, freezeEmbeddings: freezeEmbeddings, freezeEncoder: freezeEncoder,
                               seed: seed)
    }

    /// B 2, T 5: the second example has length 3 and padding (id 0) only after its end.
    private let batch = ModelBatch.tokens(ids: [3, 7, 1, 5, 9, 4, 1, 2, 0, 0], steps: 5, lengths: [5, 3])
    private let targets = [2, 0]
    private let loss = CrossEntropyLoss(weight: [2, 1.2, 1], labelSmoothing: 0.2)

    /// Zeroes the gradients, runs forward and backward of the loss, returns the loss.
    @discardableResult
    private func step(_ model: PairClassifier, _ batch: ModelBatch? = nil, _ targets: [Int]? = nil,
                      loss: CrossEntropyLoss? = nil) throws -> Float {
        for p in model.parameters { p.zeroGrad() }
        let result = (loss ?? self.loss)(try model.forward(batch ?? self.batch), targets ?? self.targets)
        model.backward(result.gradient)
        return result.loss
    }

    func testParameterNamesAndShapesFollowPyTorch() throws {
        let model = try PairClassifier(options(layers: 2))
        XCTAssertEqual(model.kind, "pair-classifier")
        XCTAssertEqual(model.output, .classLogits(3))
        XCTAssertEqual(model.parameters.map(\.name), [
            "embedding.weight",
            "encoder.weight_ih_l0", "encoder.weight_hh_l0", "encoder.bias_ih_l0", "encoder.bias_hh_l0",
            "encoder.weight_ih_l1", "encoder.weight_hh_l1", "encoder.bias_ih_l1", "encoder.bias_hh_l1",
            "head.weight", "head.bias",
        ])
        XCTAssertEqual(model.parameters.map(\.value.shape), [
            [12, 3], [12, 3], [12, 4], [12], [12], [12, 4], [12, 4], [12], [12], [3, 4], [3],
        ])
        XCTAssertEqual(Array(model.embedding.weight.value.storage[0..<3]), [0, 0, 0], "padding row")
        XCTAssertEqual(model.parameterCount, 36 + 108 + 120 + 15)
        XCTAssertEqual(try PairClassifier(options(layers: 2)).weights, model.weights, "a seed fixes the weights")
        XCTAssertNotEqual(try PairClassifier(options(layers: 2, seed: 8)).weights, model.weights)
    }

    /// Every parameter against central differences of the whole model's loss, for one and two layers.
    func testGradientOfEveryParameterMatchesFiniteDifferences() throws {
        for layers in [1, 2] {
            let model = try PairClassifier(options(layers: layers))
            try step(model)
            for p in model.parameters {
                let v0 = p.value
                let numeric = G.numerical(v0.storage) { values in
                    p.value = G.tensor(v0.shape, values)
                    guard let logits = try? model.forward(self.batch) else { return .nan }
                    return Double(self.loss(logits, self.targets).loss)
                }
                p.value = v0
                G.assertClose(p.grad.storage, numeric, "\(layers) layer(s): \(p.name)")
            }
        }
    }

    /// With dropout active, the masks are held fixed by restoring `randomState` before every forward,
    /// so the finite differences see the same function the analytic gradient differentiates.
    func testGradientWithDropoutMasksMatchesFiniteDifferences() throws {
        let model = try PairClassifier(options(layers: 2, dropout: 0.3))
        let saved = model.randomState
        try step(model)
        for p in model.parameters {
            let v0 = p.value
            let numeric = G.numerical(v0.storage) { values in
                p.value = G.tensor(v0.shape, values)
                model.randomState = saved
                guard let logits = try? model.forward(self.batch) else { return .nan }
                return Double(self.loss(logits, self.targets).loss)
            }
            p.value = v0
            G.assertClose(p.grad.storage, numeric, "dropout 0.3: \(p.name)")
        }
    }

    func testFrozenParametersGetNoGradientAndStayPut() throws {
        let full = try PairClassifier(options(layers: 2))
        try step(full)
        let grads = Dictionary(uniqueKeysWithValues: full.parameters.map { ($0.name, $0.grad) })
        for (freezeEmbeddings, freezeEncoder) in [(true, false), (false, true), (true, true)] {
            let model = try PairClassifier(options(layers: 2, freezeEmbeddings: freezeEmbeddings, freezeEncoder: freezeEncoder))
            let label = "freeze embeddings \(freezeEmbeddings), encoder \(freezeEncoder)"
            try step(model)
            for p in model.parameters {
                let frozen = p.name.hasPrefix("embedding.") ? freezeEmbeddings
                    : p.name.hasPrefix("encoder.") ? freezeEncoder : false
                XCTAssertEqual(p.isTrainable, !frozen, "\(label): \(p.name)")
                if frozen {
                    XCTAssertEqual(p.grad, Tensor(zeros: p.value.shape), "\(label): \(p.name)")
                } else {
                    XCTAssertEqual(p.grad, grads[p.name], "\(label): \(p.name) gets the full model's gradient")
                }
            }
            let before = model.weights
            let optimizer = try AdamW(parameters: model.parameters, learningRate: 0.1)
            try optimizer.step()
            for p in model.parameters {
                if p.isTrainable {
                    XCTAssertNotEqual(p.value, before[p.name], "\(label): \(p.name) trains")
                } else {
                    XCTAssertEqual(p.value, before[p.name], "\(label): \(p.name) is frozen")
                }
            }
        }
    }

    func testRandomStateReplaysDropoutMasks() throws {
        let model = try PairClassifier(options(layers: 2, dropout: 0.5))
        XCTAssertEqual(model.randomState.map(\.stream),
                       [PairClassifier.dropoutStream, PairClassifier.dropoutStream + 1, PairClassifier.dropoutStream + 2])
        let saved = model.randomState
        let first = try model.forward(batch)
        let second = try model.forward(batch)
        XCTAssertNotEqual(first, second, "fresh masks each forward")
        XCTAssertTrue(zip(saved, model.randomState).allSatisfy { $0.counter < $1.counter }, "every stream draws")
        model.randomState = saved
        XCTAssertEqual(try model.forward(batch), first, "restored state replays the masks")
        XCTAssertEqual(try model.forward(batch), second)
        // A restored state gives the same gradients too.
        model.randomState = saved
        try step(model)
        let grads = model.parameters.map(\.grad)
        model.randomState = saved
        try step(model)
        XCTAssertEqual(model.parameters.map(\.grad), grads)
        // Evaluation mode is deterministic and takes no draws.
        model.isTraining = false
        let state = model.randomState
        XCTAssertEqual(try model.forward(batch), try model.forward(batch))
        XCTAssertEqual(model.randomState, state)
        let noDropout = try PairClassifier(options(layers: 2))
        noDropout.isTraining = false
        XCTAssertEqual(try model.forward(batch), try noDropout.forward(batch), "eval ignores dropout")
    }

    func testBadBatchesThrowModelErrorAndChangeNothing() throws {
        let model = try PairClassifier(options(layers: 2))
        let good = try model.forward(batch)
        let bad: [(ModelBatch, String)] = [
            (.features(Tensor(zeros: [2, 3])), "token ids"),
            (.sequences(Tensor(zeros: [2, 5, 3]), lengths: [5, 3]), "token ids"),
            (.tokens(ids: [3, 7, 1, 5, 12, 4, 1, 2, 0, 0], steps: 5, lengths: [5, 3]), "outside the vocabulary"),
            (.tokens(ids: [3, 7, 1, 5, 9, 4, 1, -2, 0, 0], steps: 5, lengths: [5, 3]), "outside the vocabulary"),
            (.tokens(ids: [3, 7, 1, 5, 9, 4, 1, 2, 0, 0], steps: 5, lengths: [5, 0]), "outside 1...5"),
            (.tokens(ids: [3, 7, 1, 5, 9, 4, 1, 2, 0, 0], steps: 5, lengths: [6, 3]), "outside 1...5"),
            (.tokens(ids: [3, 7, 1, 5, 9, 4, 1, 2, 0], steps: 5, lengths: [5, 3]), "9 token ids"),
            (.tokens(ids: [3, 7, 1, 5, 9, 4, 1, 2, 0, 0], steps: 5, lengths: [5]), "10 token ids"),
            (.tokens(ids: [], steps: 0, lengths: [1]), "T = 0"),
            (.tokens(ids: [], steps: 5, lengths: []), "empty batch"),
        ]
        let state = model.randomState
        for (b, expected) in bad {
            XCTAssertThrowsError(try model.forward(b), "\(b)") { error in
                guard case ModelError.batch(let message) = error else { return XCTFail("\(b): \(error)") }
                XCTAssertTrue(message.contains(expected), "\(message) should mention \(expected)")
            }
        }
        XCTAssertEqual(model.randomState, state)
        // Backward still differentiates the last good forward.
        for p in model.parameters { p.zeroGrad() }
        model.backward(loss(good, targets).gradient)
        let reference = try PairClassifier(options(layers: 2))
        try step(reference)
        XCTAssertEqual(model.parameters.map(\.grad), reference.parameters.map(\.grad))
    }

    func testConfigurationErrors() {
        let base = options()
        var cases: [(PairClassifier.Options, String)] = []
        var o = base; o.vocabularySize = 0; cases.append((o, "vocabulary size"))
        o = base; o.embeddingDim = 0; cases.append((o, "embedding_dim"))
        o = base; o.hiddenSize = -1; cases.append((o, "hidden_size"))
        o = base; o.classCount = 1; cases.append((o, "classes"))
        o = base; o.numLayers = 0; cases.append((o, "num_layers"))
        o = base; o.dropout = 1; cases.append((o, "dropout"))
        o = base; o.dropout = -0.1; cases.append((o, "dropout"))
        for (options, expected) in cases {
            XCTAssertThrowsError(try PairClassifier(options)) { error in
                guard case ModelError.configuration(let message) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(message.contains(expected), message)
            }
        }
        XCTAssertThrowsError(try PairClassifier(base, initialEmbedding: Tensor(zeros: [11, 3]))) { error in
            guard case ModelError.weights(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("the vocabulary has 12"), message)
        }
        XCTAssertThrowsError(try PairClassifier(base, initialEmbedding: Tensor(zeros: [12, 4])))
        XCTAssertThrowsError(try PairClassifier(base, initialEmbedding: Tensor(zeros: [36])))
    }

    func testInitialEmbeddingLeavesOtherWeightsAsTheSeedGives() throws {
        let matrix = G.random([12, 3], seed: 77)
        let given = try PairClassifier(options(layers: 2, freezeEmbeddings: true), initialEmbedding: matrix)
        let drawn = try PairClassifier(options(layers: 2))
        XCTAssertEqual(given.embedding.weight.value, matrix)
        XCTAssertFalse(given.embedding.weight.isTrainable)
        for (a, b) in zip(given.parameters, drawn.parameters).dropFirst() {
            XCTAssertEqual(a.value, b.value, a.name)
        }
    }

    func testLoadWeightsRoundTripThroughSafeTensors() throws {
        let source = try PairClassifier(options(layers: 2, seed: 1))
        let target = try PairClassifier(options(layers: 2, seed: 2))
        source.isTraining = false
        target.isTraining = false
        XCTAssertNotEqual(try source.forward(batch), try target.forward(batch))
        let bytes = try SafeTensorsFile(tensors: source.weights).serialized()
        try target.load(weights: SafeTensorsFile(bytes: bytes).tensors)
        XCTAssertEqual(target.weights, source.weights)
        XCTAssertEqual(try target.forward(batch), try source.forward(batch))

        var incomplete = source.weights
        incomplete["head.bias"] = nil
        let other = try PairClassifier(options(layers: 2, seed: 3))
        let before = other.weights
        XCTAssertThrowsError(try other.load(weights: incomplete)) { error in
            guard case ModelError.weights(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("head.bias"), message)
        }
        XCTAssertEqual(other.weights, before, "a failed load changes nothing")
    }

    /// A separable task: the class is which of the tokens 2, 3, 4 occurs in the evidence; claims and
    /// the rest of the evidence are filler (5...11), token 1 is [SEP], lengths vary, 0 pads.
    private func syntheticBatch(_ count: Int, steps: Int, random: inout EngineRandom) -> (ModelBatch, [Int]) {
        var ids: [Int32] = [], lengths: [Int] = [], labels: [Int] = []
        for _ in 0..<count {
            let label = random.nextInt(below: 3)
            let length = 5 + random.nextInt(below: steps - 4)
            var row = (0..<length).map { _ in Int32(5 + random.nextInt(below: 7)) }
            row[2] = 1
            row[3 + random.nextInt(below: length - 3)] = Int32(2 + label)
            ids += row + [Int32](repeating: PairClassifier.paddingId, count: steps - length)
            lengths.append(length)
            labels.append(label)
        }
        return (.tokens(ids: ids, steps: steps, lengths: lengths), labels)
    }

    /// Plain cross-entropy here: label smoothing would put a floor (≈ 0.49 at ε 0.2) under the loss.
    func testAdamWTrainingOnASeparableTaskDrivesTheLossDown() throws {
        let loss = CrossEntropyLoss()
        let model = try PairClassifier(PairClassifier.Options(
            vocabularySize: 12, embeddingDim: 8, hiddenSize: 16, classCount: 3, dropout: 0.1, seed: 11))
        let optimizer = try AdamW(parameters: model.parameters, learningRate: 0.02, weightDecay: 0.01)
        var random = EngineRandom(seed: 12)
        let (evalBatch, evalLabels) = syntheticBatch(96, steps: 10, random: &random)
        func evaluate() throws -> (loss: Float, accuracy: Double) {
            model.isTraining = false
            defer { model.isTraining = true }
            let logits = try model.forward(evalBatch)
            var correct = 0
            for (i, label) in evalLabels.enumerated() {
                let row = Array(logits.storage[(i * 3)..<(i * 3 + 3)])
                if row.firstIndex(of: row.max() ?? 0) == label { correct += 1 }
            }
            return (loss(logits, evalLabels).loss, Double(correct) / Double(evalLabels.count))
        }
        let initial = try evaluate()
        for _ in 0..<60 {
            let (b, labels) = syntheticBatch(24, steps: 10, random: &random)
            optimizer.zeroGrad()
            try step(model, b, labels, loss: loss)
            try optimizer.step()
        }
        let final = try evaluate()
        XCTAssertLessThan(final.loss, 0.2 * initial.loss, "loss \(initial.loss) → \(final.loss)")
        XCTAssertGreaterThanOrEqual(final.accuracy, 0.95, "accuracy \(initial.accuracy) → \(final.accuracy)")
    }
}
