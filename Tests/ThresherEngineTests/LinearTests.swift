import XCTest
@testable import ThresherEngine

final class LinearTests: XCTestCase {
    private typealias G = GradientCheck

    private func layer(_ w: [Float], _ b: [Float], out: Int, inputs: Int) -> Linear {
        Linear(weight: Parameter(name: "fc.weight", value: G.tensor([out, inputs], w)),
               bias: Parameter(name: "fc.bias", value: G.tensor([out], b)))
    }

    /// Values from PyTorch 2.13 (`nn.Linear(3, 2)` with these weights), computed once offline.
    func testForwardAndBackwardMatchPyTorch() {
        let fc = layer([0.1, 0.2, -0.3, -0.4, 0.5, 0.6], [0.05, -0.1], out: 2, inputs: 3)
        let y = fc.forward(G.tensor([2, 3], [0.5, -1, 2, 1.5, 0.25, -0.75]))
        XCTAssertEqual(y.shape, [2, 2])
        G.assertValues(y.storage, [-0.7, 0.4, 0.475, -1.025], "y")
        let dx = fc.backward(G.tensor([2, 2], [1, -2, 0.5, 3]))
        G.assertValues(dx.storage, [0.9, -0.8, -1.5, -1.15, 1.6, 1.65], "dx")
        G.assertValues(fc.weight.grad.storage, [1.25, -0.875, 1.625, 3.5, 2.75, -6.25], "dW")
        G.assertValues(fc.bias?.grad.storage ?? [], [1.5, 1.0], "db")
    }

    func testParameterNamesAndPyTorchInit() {
        var rng = EngineRandom(seed: 5)
        let fc = Linear(inFeatures: 16, outFeatures: 4, prefix: "fc1", random: &rng)
        XCTAssertEqual(fc.parameters.map(\.name), ["fc1.weight", "fc1.bias"])
        XCTAssertEqual(fc.weight.value.shape, [4, 16])
        XCTAssert(fc.parameters.allSatisfy { $0.value.storage.allSatisfy { abs($0) <= 0.25 } })
        let noBias = Linear(inFeatures: 2, outFeatures: 2, bias: false, prefix: "head", random: &rng)
        XCTAssertEqual(noBias.parameters.map(\.name), ["head.weight"])
    }

    func testGradientCheck() {
        var rng = EngineRandom(seed: 11)
        let fc = Linear(inFeatures: 5, outFeatures: 3, prefix: "fc", random: &rng)
        let x = G.random([2, 4, 5], seed: 1)  // leading dimensions flatten into the batch
        let r = G.random([2, 4, 3], seed: 2)
        _ = fc.forward(x)
        let dx = fc.backward(r)
        let loss: () -> Double = { G.project(fc.forward(x), r) }

        G.assertClose(dx.storage, G.numerical(x.storage) { G.project(fc.forward(G.tensor(x.shape, $0)), r) }, "dX")
        let w0 = fc.weight.value
        G.assertClose(fc.weight.grad.storage, G.numerical(w0.storage) {
            fc.weight.value = G.tensor(w0.shape, $0); return loss()
        }, "dW")
        fc.weight.value = w0
        guard let bias = fc.bias else { return XCTFail("bias expected") }
        let b0 = bias.value
        G.assertClose(bias.grad.storage, G.numerical(b0.storage) {
            bias.value = G.tensor(b0.shape, $0); return loss()
        }, "db")
    }

    func testGradientsAccumulateAndFrozenWeightsGetNone() {
        var rng = EngineRandom(seed: 3)
        let fc = Linear(inFeatures: 3, outFeatures: 2, prefix: "fc", random: &rng)
        let x = G.random([4, 3], seed: 4), r = G.random([4, 2], seed: 5)
        _ = fc.forward(x); _ = fc.backward(r)
        let once = fc.weight.grad.storage
        _ = fc.forward(x); _ = fc.backward(r)
        G.assertValues(fc.weight.grad.storage, once.map { 2 * Double($0) }, "accumulated")
        fc.weight.zeroGrad()
        fc.weight.isTrainable = false
        _ = fc.forward(x); _ = fc.backward(r)
        XCTAssert(fc.weight.grad.storage.allSatisfy { $0 == 0 })
    }

    func testWithoutBias() {
        let fc = Linear(weight: Parameter(name: "head.weight", value: G.tensor([2, 3], [0.1, 0.2, -0.3, -0.4, 0.5, 0.6])),
                        bias: nil)
        let y = fc.forward(G.tensor([2, 3], [0.5, -1, 2, 1.5, 0.25, -0.75]))
        G.assertValues(y.storage, [-0.75, 0.5, 0.425, -0.925], "y = x·Wᵀ")
        let dx = fc.backward(G.tensor([2, 2], [1, -2, 0.5, 3]))
        G.assertValues(dx.storage, [0.9, -0.8, -1.5, -1.15, 1.6, 1.65], "dx")
    }
}
