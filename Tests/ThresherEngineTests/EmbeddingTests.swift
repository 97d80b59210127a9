import Foundation
import XCTest
@testable import ThresherEngine

/// `Embedding`: PyTorch's initialisation, gather forward, scatter-add backward checked against
/// finite differences, padding and frozen rules, and every way construction or a batch can fail.
final class EmbeddingTests: XCTestCase {
    private typealias G = GradientCheck

    private func table(_ v: Int = 6, _ d: Int = 3, padding: Int? = 0, seed: UInt64 = 1) throws -> Embedding {
        var random = EngineRandom(seed: seed)
        return try Embedding(vocabularySize: v, dimension: d, paddingIndex: padding, prefix: "embedding", random: &random)
    }

    func testDefaultInitialisationIsStandardNormalWithZeroPaddingRow() throws {
        let e = try table(400, 50, padding: 3)
        XCTAssertEqual(e.weight.name, "embedding.weight")
        XCTAssertEqual(e.weight.value.shape, [400, 50])
        XCTAssertEqual(Array(e.weight.value.storage[150..<200]), [Float](repeating: 0, count: 50))
        let values = e.weight.value.storage.map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        XCTAssertEqual(mean, 0, accuracy: 0.02)
        XCTAssertEqual(variance, 1, accuracy: 0.03)
        // The same seed gives the same table; without padding index no row is zeroed.
        XCTAssertEqual(try table(400, 50, padding: 3).weight.value, e.weight.value)
        let plain = try table(400, 50, padding: nil)
        XCTAssertNotEqual(Array(plain.weight.value.storage[150..<200]), [Float](repeating: 0, count: 50))
    }

    func testForwardGathersRows() throws {
        let w = G.tensor([4, 2], [0, 0, 1, 2, 3, 4, 5, 6])
        let e = try Embedding(weights: w, paddingIndex: 0, prefix: "emb")
        let y = try e.forward([2, 1, 3, 0, 2, 2], batch: 2, steps: 3)
        XCTAssertEqual(y.shape, [2, 3, 2])
        XCTAssertEqual(y.storage, [3, 4, 1, 2, 5, 6, 0, 0, 3, 4, 3, 4])
    }

    /// Finite differences on every weight element through L = Σ r ⊙ y with a fixed random r.
    func testWeightGradientMatchesFiniteDifferences() throws {
        let e = try table(7, 4, padding: nil, seed: 5)
        let ids: [Int32] = [1, 6, 3, 3, 0, 2, 5, 1, 4, 6]
        let r = G.random([2, 5, 4], seed: 50)
        _ = try e.forward(ids, batch: 2, steps: 5)
        e.backward(r)
        let w0 = e.weight.value
        let numeric = G.numerical(w0.storage) { values in
            e.weight.value = G.tensor(w0.shape, values)
            return (try? G.project(e.forward(ids, batch: 2, steps: 5), r)) ?? .nan
        }
        e.weight.value = w0
        G.assertClose(e.weight.grad.storage, numeric, rtol: 1e-3, atol: 1e-4, "embedding.weight")
    }

    func testRepeatedIdsAccumulateAndPaddingRowGetsNothing() throws {
        let e = try table(5, 2, padding: 0)
        _ = try e.forward([3, 0, 3, 3, 1, 0], batch: 2, steps: 3)
        let dy = G.tensor([2, 3, 2], [1, 2, 10, 20, 0.5, 0.25, 4, 8, 100, 200, 30, 40])
        e.backward(dy)
        XCTAssertEqual(e.weight.grad.storage, [0, 0, 100, 200, 0, 0, 5.5, 10.25, 0, 0])
        // A second backward of the same forward adds again (gradients accumulate until zeroGrad).
        e.backward(dy)
        XCTAssertEqual(e.weight.grad.storage[6...7], [11, 20.5])
    }

    func testFrozenWeightGetsNoGradient() throws {
        var random = EngineRandom(seed: 2)
        let e = try Embedding(vocabularySize: 5, dimension: 2, prefix: "embedding", trainable: false, random: &random)
        XCTAssertFalse(e.weight.isTrainable)
        _ = try e.forward([1, 2, 3, 4], batch: 2, steps: 2)
        e.backward(G.random([2, 2, 2], seed: 3))
        XCTAssertEqual(e.weight.grad.storage, [Float](repeating: 0, count: 10))
        // Freezing later has the same effect.
        let f = try table(5, 2)
        f.weight.isTrainable = false
        _ = try f.forward([1, 2], batch: 1, steps: 2)
        f.backward(G.random([1, 2, 2], seed: 4))
        XCTAssertEqual(f.weight.grad.storage, [Float](repeating: 0, count: 10))
    }

    func testBadIdsThrowBeforeTouchingState() throws {
        let e = try table(5, 2, padding: nil)
        _ = try e.forward([1, 2], batch: 1, steps: 2)
        for (ids, batch, steps) in [([Int32(1), 5], 1, 2), ([-1, 2], 1, 2), ([1, 2, 3], 1, 2), ([1, 2], -1, -2), ([1, 2], Int.max, 2)] {
            XCTAssertThrowsError(try e.forward(ids, batch: batch, steps: steps), "\(ids)") { error in
                guard case ModelError.batch(let message) = error else { return XCTFail("\(error)") }
                XCTAssertFalse(message.isEmpty)
            }
        }
        // The cache of the last good forward is intact: backward still scatters into rows 1 and 2.
        e.backward(G.tensor([1, 2, 2], [1, 1, 2, 2]))
        XCTAssertEqual(e.weight.grad.storage, [0, 0, 1, 1, 2, 2, 0, 0, 0, 0])
    }

    func testMatrixInitialisationAndItsErrors() throws {
        let w = G.tensor([3, 2], [1, 2, 3, 4, 5, 6])
        let e = try Embedding(weights: w, paddingIndex: 0, prefix: "embedding", expectedVocabularySize: 3)
        XCTAssertEqual(e.weight.value, w, "from_pretrained keeps the padding row as given")
        XCTAssertEqual(e.vocabularySize, 3)
        XCTAssertEqual(e.dimension, 2)
        func expectWeightsError(_ message: String, _ build: () throws -> Embedding) {
            XCTAssertThrowsError(try build()) { error in
                guard case ModelError.weights(let text) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(text.contains(message), text)
            }
        }
        expectWeightsError("must be a matrix") { try Embedding(weights: G.tensor([6], w.storage), prefix: "embedding") }
        expectWeightsError("has 3 rows, the vocabulary has 4") {
            try Embedding(weights: w, prefix: "embedding", expectedVocabularySize: 4)
        }
        expectWeightsError("dimension 2, expected 5") { try Embedding(weights: w, prefix: "embedding", expectedDimension: 5) }
        expectWeightsError("at least one row") { try Embedding(weights: Tensor(zeros: [0, 2]), prefix: "embedding") }
        expectWeightsError("not a finite number") {
            try Embedding(weights: G.tensor([2, 1], [1, .nan]), prefix: "embedding")
        }
        XCTAssertThrowsError(try Embedding(weights: w, paddingIndex: 3, prefix: "embedding")) { error in
            guard case ModelError.configuration = error else { return XCTFail("\(error)") }
        }
        var random = EngineRandom(seed: 1)
        XCTAssertThrowsError(try Embedding(vocabularySize: 0, dimension: 2, prefix: "e", random: &random))
        XCTAssertThrowsError(try Embedding(vocabularySize: 2, dimension: 0, prefix: "e", random: &random))
    }

    func testSafeTensorsInitialisationAndItsErrors() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-embedding-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("glove.safetensors").path
        let w = G.tensor([4, 3], (0..<12).map(Float.init))
        try SafeTensorsFile(tensors: ["vectors": w, "other": G.tensor([2], [1, 2])]).write(toFile: path)

        let e = try Embedding(contentsOfSafeTensorsFile: path, tensorName: "vectors", paddingIndex: 0,
                              prefix: "embedding", trainable: false, expectedVocabularySize: 4)
        XCTAssertEqual(e.weight.value, w)
        XCTAssertFalse(e.weight.isTrainable)

        func expectWeightsError(_ message: String, _ build: () throws -> Embedding) {
            XCTAssertThrowsError(try build()) { error in
                guard case ModelError.weights(let text) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(text.contains(message), text)
            }
        }
        expectWeightsError("no tensor \"missing\"") {
            try Embedding(contentsOfSafeTensorsFile: path, tensorName: "missing", prefix: "embedding")
        }
        expectWeightsError("must be a matrix") {
            try Embedding(contentsOfSafeTensorsFile: path, tensorName: "other", prefix: "embedding")
        }
        expectWeightsError("the vocabulary has 10") {
            try Embedding(contentsOfSafeTensorsFile: path, tensorName: "vectors", prefix: "embedding", expectedVocabularySize: 10)
        }
        expectWeightsError("cannot read embeddings") {
            try Embedding(contentsOfSafeTensorsFile: folder.appendingPathComponent("absent").path,
                          tensorName: "vectors", prefix: "embedding")
        }
        let garbage = folder.appendingPathComponent("garbage.safetensors").path
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: garbage))
        expectWeightsError("cannot read embeddings") {
            try Embedding(contentsOfSafeTensorsFile: garbage, tensorName: "vectors", prefix: "embedding")
        }
    }
}
