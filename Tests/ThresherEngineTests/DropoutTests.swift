import XCTest
@testable import ThresherEngine

final class DropoutTests: XCTestCase {
    private typealias G = GradientCheck

    func testIdentityAtZeroAndInEvaluation() {
        let x = G.random([4, 8], seed: 1)
        let off = Dropout(p: 0, random: EngineRandom(seed: 1))
        XCTAssertEqual(off.forward(x), x)
        XCTAssertEqual(off.backward(x), x)
        XCTAssertEqual(off.random.counter, 0, "p = 0 takes no draws")
        let eval = Dropout(p: 0.5, random: EngineRandom(seed: 1), isTraining: false)
        XCTAssertEqual(eval.forward(x), x)
        XCTAssertEqual(eval.random.counter, 0)
    }

    func testStatisticsOfInvertedDropout() {
        let n = 100_000, p: Float = 0.3
        let x = Tensor(filled: 1, shape: [n])
        let layer = Dropout(p: p, random: EngineRandom(seed: 9))
        let y = layer.forward(x)
        let zeros = y.storage.filter { $0 == 0 }.count
        XCTAssertEqual(Double(zeros) / Double(n), 0.3, accuracy: 0.005)
        XCTAssert(y.storage.allSatisfy { $0 == 0 || abs($0 - 1 / 0.7) < 1e-6 })
        let mean = y.storage.reduce(0.0) { $0 + Double($1) } / Double(n)
        XCTAssertEqual(mean, 1, accuracy: 0.01, "expectation is preserved")
        XCTAssertEqual(layer.random.counter, UInt64(n))
    }

    func testSameSeedSameMaskAndBackwardUsesIt() {
        let x = G.random([6, 10], seed: 2)
        let a = Dropout(p: 0.5, random: EngineRandom(seed: 3, stream: 1))
        let b = Dropout(p: 0.5, random: EngineRandom(seed: 3, stream: 1))
        let ya = a.forward(x)
        XCTAssertEqual(ya, b.forward(x))
        let ones = Tensor(filled: 1, shape: x.shape)
        let mask = a.backward(ones)
        for i in x.storage.indices {
            XCTAssertEqual(ya.storage[i], x.storage[i] * mask.storage[i])
            XCTAssert(mask.storage[i] == 0 || mask.storage[i] == 2)
        }
        XCTAssertNotEqual(a.forward(x), ya, "the next call draws a new mask")
    }

    func testGradientCheckWithAFixedMask() {
        let x = G.random([3, 5], seed: 4), r = G.random([3, 5], seed: 5)
        let start = EngineRandom(seed: 6)
        let layer = Dropout(p: 0.4, random: start)
        _ = layer.forward(x)
        let dx = layer.backward(r)
        let numeric = G.numerical(x.storage) { values in
            layer.random = start  // the same mask every evaluation
            return G.project(layer.forward(G.tensor(x.shape, values)), r)
        }
        G.assertClose(dx.storage, numeric, "dropout")
    }

    func testAllDroppedAtOne() {
        let layer = Dropout(p: 1, random: EngineRandom(seed: 1))
        XCTAssert(layer.forward(G.random([10], seed: 1)).storage.allSatisfy { $0 == 0 })
    }
}
