import XCTest
@testable import ThresherEngine

/// Activations, LayerNorm and pooling: values against PyTorch or hand computation, and a
/// finite-difference check of every backward.
final class LayerTests: XCTestCase {
    private typealias G = GradientCheck

    func testCheckerRecoversAKnownGradient() {
        let x: [Float] = [0.5, -1.25, 2]
        let numeric = G.numerical(x) { v in v.reduce(0.0) { $0 + Double($1) * Double($1) * Double($1) } }
        G.assertClose(x.map { 3 * $0 * $0 }, numeric, rtol: 1e-3, atol: 1e-4, "d(Σx³)")
    }

    func testActivationGradients() {
        var x = G.random([3, 7], seed: 20, scale: 2)
        // Keep ReLU's inputs away from its kink.
        for i in x.storage.indices where abs(x.storage[i]) < 0.05 { x.storage[i] = 0.3 }
        let r = G.random([3, 7], seed: 21)
        for kind in [ActivationKind.relu, .tanh, .sigmoid] {
            let layer = Activation(kind)
            _ = layer.forward(x)
            let dx = layer.backward(r)
            let numeric = G.numerical(x.storage) { G.project(layer.forward(G.tensor(x.shape, $0)), r) }
            G.assertClose(dx.storage, numeric, "\(kind)")
        }
    }

    func testActivationForwardValues() {
        let x = G.tensor([4], [-2, -0.1, 0.1, 2])
        XCTAssertEqual(Activation(.relu).forward(x).storage, [0, 0, 0.1, 2])
        G.assertValues(Activation(.tanh).forward(x).storage, [-0.9640275801, -0.0996679946, 0.0996679946, 0.9640275801], "tanh")
        G.assertValues(Activation(.sigmoid).forward(x).storage, [0.1192029220, 0.4750208125, 0.5249791875, 0.8807970780], "sigmoid")
    }

    /// Values from PyTorch 2.13 (`nn.LayerNorm(4)` with this weight and bias), computed offline.
    func testLayerNormMatchesPyTorch() {
        let ln = LayerNorm(dimension: 4, prefix: "norm")
        XCTAssertEqual(ln.parameters.map(\.name), ["norm.weight", "norm.bias"])
        XCTAssertEqual(ln.weight.value.storage, [1, 1, 1, 1])
        ln.weight.value = G.tensor([4], [0.5, 1, 1.5, 2])
        ln.bias.value = G.tensor([4], [0.1, 0, -0.1, 0.2])
        let y = ln.forward(G.tensor([2, 4], [1, 2, 3, 4, -1, 0.5, 2, 10]))
        G.assertValues(y.storage, [-0.570817709, -0.447211832, 0.570817769, 2.883270979,
                                   -0.356079578, -0.559065282, -0.408957124, 3.554391623], "y")
        let dx = ln.backward(G.tensor([2, 4], [1, -1, 0.5, 2, 0.3, 0.2, -0.7, 1]))
        G.assertValues(dx.storage, [1.140377283, -1.296918631, -0.827337503, 0.983879089,
                                    0.137130797, 0.079871528, -0.283402383, 0.066400096], tolerance: 2e-5, "dx")
        G.assertValues(ln.weight.grad.storage, [-1.615283251, 0.335398793, 0.367785871, 4.360466957], "dweight")
        G.assertValues(ln.bias.grad.storage, [1.3, -0.8, -0.2, 3.0], "dbias")
    }

    func testLayerNormGradientCheck() {
        let ln = LayerNorm(dimension: 6, prefix: "ln")
        ln.weight.value = G.random([6], seed: 30)
        ln.bias.value = G.random([6], seed: 31)
        let x = G.random([2, 3, 6], seed: 32, scale: 1.5)
        let r = G.random([2, 3, 6], seed: 33)
        _ = ln.forward(x)
        let dx = ln.backward(r)
        let loss: () -> Double = { G.project(ln.forward(x), r) }
        G.assertClose(dx.storage, G.numerical(x.storage) { G.project(ln.forward(G.tensor(x.shape, $0)), r) }, "dx")
        for p in ln.parameters {
            let v0 = p.value
            G.assertClose(p.grad.storage, G.numerical(v0.storage) { p.value = G.tensor(v0.shape, $0); return loss() }, p.name)
            p.value = v0
        }
    }

    func testPoolingForwardValues() {
        // x[b, t, d] = 100b + 10t + d, T = 3, D = 2.
        var values = [Float]()
        for b in 0..<2 { for t in 0..<3 { for d in 0..<2 { values.append(Float(100 * b + 10 * t + d)) } } }
        let x = G.tensor([2, 3, 2], values)
        let mean = Pooling(.maskedMean).forward(x, lengths: [2, 3])
        XCTAssertEqual(mean.storage, [5, 6, 110, 111])
        let last = Pooling(.lastStep).forward(x, lengths: [2, 3])
        XCTAssertEqual(last.storage, [10, 11, 120, 121])
        XCTAssertEqual(Pooling(.maskedMean).forward(x, lengths: [0, 1]).storage, [0, 0, 100, 101])
    }

    func testPoolingGradientCheckAndPaddingGetsZero() {
        let x = G.random([3, 4, 5], seed: 40)
        let r = G.random([3, 5], seed: 41)
        let lengths = [3, 1, 4]
        for kind in [SequencePooling.maskedMean, .lastStep] {
            let pool = Pooling(kind)
            _ = pool.forward(x, lengths: lengths)
            let dx = pool.backward(r)
            let numeric = G.numerical(x.storage) { G.project(pool.forward(G.tensor(x.shape, $0), lengths: lengths), r) }
            G.assertClose(dx.storage, numeric, "\(kind)")
            // Example 0 has length 3: its step 3 is padding.
            XCTAssert(dx.storage[15..<20].allSatisfy { $0 == 0 }, "\(kind) padding gradient")
        }
    }
}
