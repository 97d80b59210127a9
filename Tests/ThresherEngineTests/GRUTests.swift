import XCTest
@testable import ThresherEngine

/// SplitMix64 for test data: deterministic, independent of the engine's own generator.
struct GRUTestGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func values(_ count: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in Float.random(in: -scale..<scale, using: &self) }
    }
    mutating func tensor(_ shape: [Int], scale: Float = 1) -> Tensor {
        Tensor(shape: shape, storage: values(shape.reduce(1, *), scale: scale))!
    }
}

/// The textbook GRU in Double with plain loops (no BLAS): the reference for forward values.
/// Padded steps keep the state and output zeros. No dropout.
func naiveGRU(_ gru: GRU, input: Tensor, lengths: [Int], initialHidden: Tensor?) -> (output: [Double], final: [Double]) {
    let b = input.shape[0], t = input.shape[1], h = gru.hiddenSize
    var layerInput = input.storage.map(Double.init)
    var width = gru.inputSize
    var final = [Double](repeating: 0, count: gru.numLayers * b * h)
    func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
    for k in 0..<gru.numLayers {
        let wih = gru.weightIH[k].value.storage.map(Double.init), whh = gru.weightHH[k].value.storage.map(Double.init)
        let bih = gru.biasIH[k].value.storage.map(Double.init), bhh = gru.biasHH[k].value.storage.map(Double.init)
        var out = [Double](repeating: 0, count: b * t * h)
        for e in 0..<b {
            var state = (0..<h).map { j in initialHidden.map { Double($0.storage[(k * b + e) * h + j]) } ?? 0 }
            for s in 0..<lengths[e] {
                let x = Array(layerInput[((e * t + s) * width)..<((e * t + s + 1) * width)])
                func gi(_ row: Int) -> Double { (0..<width).reduce(bih[row]) { $0 + wih[row * width + $1] * x[$1] } }
                func gh(_ row: Int) -> Double { (0..<h).reduce(bhh[row]) { $0 + whh[row * h + $1] * state[$1] } }
                var next = state
                for j in 0..<h {
                    let r = sigmoid(gi(j) + gh(j))
                    let z = sigmoid(gi(h + j) + gh(h + j))
                    let n = Foundation.tanh(gi(2 * h + j) + r * gh(2 * h + j))
                    next[j] = (1 - z) * n + z * state[j]
                }
                state = next
                for j in 0..<h { out[(e * t + s) * h + j] = state[j] }
            }
            for j in 0..<h { final[(k * b + e) * h + j] = state[j] }
        }
        layerInput = out
        width = h
    }
    return (layerInput, final)
}

final class GRUTests: XCTestCase {
    func makeGRU(input: Int = 3, hidden: Int = 5, layers: Int = 2, dropout: Float = 0, seed: UInt64 = 1) -> GRU {
        var random = EngineRandom(seed: seed)
        return GRU(inputSize: input, hiddenSize: hidden, numLayers: layers, dropout: dropout,
                   namePrefix: "gru.", random: &random)
    }

    func testParameterNamesShapesAndInitRange() {
        let gru = makeGRU(input: 3, hidden: 5, layers: 2)
        XCTAssertEqual(gru.parameters.map(\.name), [
            "gru.weight_ih_l0", "gru.weight_hh_l0", "gru.bias_ih_l0", "gru.bias_hh_l0",
            "gru.weight_ih_l1", "gru.weight_hh_l1", "gru.bias_ih_l1", "gru.bias_hh_l1",
        ])
        XCTAssertEqual(gru.parameters.map(\.value.shape), [[15, 3], [15, 5], [15], [15], [15, 5], [15, 5], [15], [15]])
        let bound = 1 / Float(5).squareRoot()
        for p in gru.parameters {
            XCTAssertTrue(p.value.storage.allSatisfy { $0 >= -bound && $0 < bound }, p.name)
            XCTAssertGreaterThan(Set(p.value.storage).count, p.value.count / 2, p.name)
        }
    }

    func testForwardMatchesNaiveReference() {
        // H = 11: eight SIMD lanes and a scalar tail in the fused gate loop.
        let gru = makeGRU(input: 4, hidden: 11, layers: 3, seed: 7)
        var g = GRUTestGenerator(state: 99)
        let input = g.tensor([3, 5, 4], scale: 3)
        let h0 = g.tensor([3, 3, 11], scale: 0.5)
        for (lengths, hidden) in [([5, 5, 5], nil), ([5, 2, 0], h0), ([1, 3, 5], h0)] as [([Int], Tensor?)] {
            let (out, final) = gru.forward(input, lengths: lengths, initialHidden: hidden)
            XCTAssertEqual(out.shape, [3, 5, 11]); XCTAssertEqual(final.shape, [3, 3, 11])
            let ref = naiveGRU(gru, input: input, lengths: lengths, initialHidden: hidden)
            for (a, e) in zip(out.storage, ref.output) { XCTAssertEqual(Double(a), e, accuracy: 1e-5) }
            for (a, e) in zip(final.storage, ref.final) { XCTAssertEqual(Double(a), e, accuracy: 1e-5) }
        }
    }

    func testPaddedStepsGiveZeroOutputAndKeepState() {
        let gru = makeGRU(input: 3, hidden: 4, layers: 2)
        var g = GRUTestGenerator(state: 5)
        let input = g.tensor([2, 6, 3])
        let (out, final) = gru.forward(input, lengths: [6, 3])
        // Example 1 alone, truncated to 3 steps, gives the same final state.
        let short = Tensor(shape: [1, 3, 3], storage: Array(input.storage[18..<27]))!
        let (shortOut, shortFinal) = gru.forward(short)
        for k in 0..<2 {
            for j in 0..<4 { XCTAssertEqual(final.storage[(k * 2 + 1) * 4 + j], shortFinal.storage[k * 4 + j], accuracy: 1e-6) }
        }
        for s in 0..<6 {
            for j in 0..<4 {
                let v = out.storage[((1 * 6) + s) * 4 + j]
                if s < 3 { XCTAssertEqual(v, shortOut.storage[s * 4 + j], accuracy: 1e-6) } else { XCTAssertEqual(v, 0) }
            }
        }
    }

    /// Loss = Σ wOut·output + Σ wFinal·finalHidden in Double; its gradient inputs are wOut, wFinal.
    func checkGradients(dropout: Float, hidden h: Int = 5) {
        let b = 2, t = 4, inSize = 3, layers = 2
        let gru = makeGRU(input: inSize, hidden: h, layers: layers, dropout: dropout, seed: 11)
        var g = GRUTestGenerator(state: 3)
        var input = g.tensor([b, t, inSize])
        var h0 = g.tensor([layers, b, h], scale: 0.5)
        let wOut = g.tensor([b, t, h]), wFinal = g.tensor([layers, b, h])
        let lengths = [4, 2]
        func loss() -> Double {
            var dropoutRNG = EngineRandom(seed: 1234)  // the same dropout masks every call
            let (out, final) = gru.forward(input, lengths: lengths, initialHidden: h0, training: true, random: &dropoutRNG)
            var sum = 0.0
            for i in 0..<out.count { sum += Double(out.storage[i]) * Double(wOut.storage[i]) }
            for i in 0..<final.count { sum += Double(final.storage[i]) * Double(wFinal.storage[i]) }
            return sum
        }
        _ = loss()
        gru.parameters.forEach { $0.zeroGrad() }
        let dInput = gru.backward(dOutput: wOut, dFinalHidden: wFinal)
        let dH0 = gru.initialHiddenGradient!
        let eps: Float = 4e-3
        func numeric(_ perturb: (Float) -> Void) -> Double {
            perturb(eps); let plus = loss()
            perturb(-2 * eps); let minus = loss()
            perturb(eps)
            return (plus - minus) / Double(2 * eps)
        }
        func compare(_ analytic: Float, _ numeric: Double, _ what: String) {
            XCTAssertEqual(Double(analytic), numeric, accuracy: 1e-3 + 1e-2 * abs(numeric), what)
        }
        for p in gru.parameters {
            for i in 0..<p.value.count {
                compare(p.grad.storage[i], numeric { p.value.storage[i] += $0 }, "\(p.name)[\(i)]")
            }
        }
        for i in 0..<input.count {
            compare(dInput.storage[i], numeric { input.storage[i] += $0 }, "input[\(i)]")
        }
        for i in 0..<h0.count {
            compare(dH0.storage[i], numeric { h0.storage[i] += $0 }, "h0[\(i)]")
        }
        // Inputs at padded steps of the short example do not matter.
        for s in 2..<t { for j in 0..<inSize { XCTAssertEqual(dInput.storage[((1 * t) + s) * inSize + j], 0) } }
    }

    func testGradientsMatchFiniteDifferences() { checkGradients(dropout: 0) }

    func testGradientsMatchFiniteDifferencesWithDropout() { checkGradients(dropout: 0.4) }

    /// H = 9: the SIMD lanes and the scalar tail of the fused gate loops.
    func testGradientsMatchFiniteDifferencesWideHidden() { checkGradients(dropout: 0, hidden: 9) }

    /// `backwardParameters` skips only layer 0's input gradient: every parameter gradient and the
    /// initial-hidden gradient are bit-identical to `backward`'s, with and without dropout.
    func testBackwardParametersGivesTheSameParameterGradients() {
        for dropout: Float in [0, 0.3] {
            let gru = makeGRU(input: 3, hidden: 4, layers: 2, dropout: dropout)
            var g = GRUTestGenerator(state: 11)
            let input = g.tensor([2, 5, 3]), dOut = g.tensor([2, 5, 4]), dFinal = g.tensor([2, 2, 4])
            func run(_ full: Bool) -> ([[Float]], Tensor?) {
                gru.parameters.forEach { $0.zeroGrad() }
                var rng = EngineRandom(seed: 3)
                _ = gru.forward(input, lengths: [5, 2], training: true, random: &rng)
                if full { _ = gru.backward(dOutput: dOut, dFinalHidden: dFinal) } else {
                    gru.backwardParameters(dOutput: dOut, dFinalHidden: dFinal)
                }
                return (gru.parameters.map(\.grad.storage), gru.initialHiddenGradient)
            }
            let (a, ha) = run(true), (b, hb) = run(false)
            XCTAssertEqual(a, b)
            XCTAssertEqual(ha, hb)
        }
    }

    func testBackwardAccumulatesAndDropoutOnlyInTraining() {
        let gru = makeGRU(input: 3, hidden: 4, layers: 2, dropout: 0.5)
        var g = GRUTestGenerator(state: 8)
        let input = g.tensor([2, 3, 3])
        let eval = gru.forward(input)
        var rng = EngineRandom(seed: 1)
        let evalViaFlag = gru.forward(input, training: false, random: &rng)
        XCTAssertEqual(eval.output, evalViaFlag.output)
        let train = gru.forward(input, training: true, random: &rng)
        XCTAssertNotEqual(eval.output, train.output)
        // The last layer's final hidden is computed from dropped inputs, but dropout is never
        // applied after the last layer: its output equals its own final hidden at step T−1.
        for e in 0..<2 { for j in 0..<4 {
            XCTAssertEqual(train.output.storage[(e * 3 + 2) * 4 + j], train.finalHidden.storage[(2 + e) * 4 + j])
        } }
        gru.parameters.forEach { $0.zeroGrad() }
        let ones = Tensor(shape: [2, 3, 4], storage: .init(repeating: 1, count: 24))!
        _ = gru.forward(input)
        _ = gru.backward(dOutput: ones, dFinalHidden: nil)
        let once = gru.weightHH[0].grad.storage
        _ = gru.forward(input)
        _ = gru.backward(dOutput: ones, dFinalHidden: nil)
        for (a, b) in zip(gru.weightHH[0].grad.storage, once) { XCTAssertEqual(a, 2 * b, accuracy: 1e-6) }
    }

    func testDropoutMasksReplayFromTheSeedAndDropAboutP() {
        let gru = makeGRU(input: 3, hidden: 16, layers: 2, dropout: 0.25)
        var g = GRUTestGenerator(state: 4)
        let input = g.tensor([8, 10, 3])
        var a = EngineRandom(seed: 77), b = EngineRandom(seed: 77)
        XCTAssertEqual(gru.forward(input, training: true, random: &a).output,
                       gru.forward(input, training: true, random: &b).output)
        XCTAssertEqual(a.counter, 8 * 10 * 16)  // one draw per inter-layer activation
        // Layer 1's input is the dropped layer-0 output: zeros where dropped, scaled by 4/3 elsewhere.
        let layer1Input = Array(UnsafeBufferPointer(start: gru.cacheForTesting(layer: 1).input.pointer, count: 8 * 10 * 16))
        let dropped = Double(layer1Input.filter { $0 == 0 }.count) / Double(layer1Input.count)
        XCTAssertEqual(dropped, 0.25, accuracy: 0.05)
    }

    func testGateFunctionsMatchLibm() {
        var x: Float = -100
        while x <= 100 {
            let e = Foundation.exp(Double(x))
            if x > -87 && x < 88 {
                XCTAssertEqual(Double(GRUKernels.exp(GRUKernels.Lanes(repeating: x))[0]), e, accuracy: 3e-7 * e, "exp(\(x))")
            }
            XCTAssertTrue(GRUKernels.exp(GRUKernels.Lanes(repeating: x))[0].isFinite)
            XCTAssertEqual(Double(GRUKernels.sigmoid(x)), 1 / (1 + Foundation.exp(-Double(x))), accuracy: 1e-7, "σ(\(x))")
            XCTAssertEqual(Double(GRUKernels.tanh(x)), Foundation.tanh(Double(x)), accuracy: 3e-7, "tanh(\(x))")
            x += 0.0371
        }
        XCTAssertEqual(GRUKernels.sigmoid(0), 0.5)
        XCTAssertEqual(GRUKernels.tanh(0), 0)
        XCTAssertTrue(GRUKernels.sigmoid(.nan).isNaN)
    }

    func testLengthsFromMask() {
        let mask = Tensor(shape: [3, 4], storage: [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0])!
        XCTAssertEqual(GRU.lengths(fromMask: mask), [4, 2, 0])
    }

    func testFrozenParametersKeepZeroGradient() {
        let gru = makeGRU()
        gru.weightIH[0].isTrainable = false
        var g = GRUTestGenerator(state: 2)
        _ = gru.forward(g.tensor([2, 4, 3]))
        _ = gru.backward(dOutput: g.tensor([2, 4, 5]), dFinalHidden: nil)
        XCTAssertTrue(gru.weightIH[0].grad.storage.allSatisfy { $0 == 0 })
        XCTAssertFalse(gru.weightIH[1].grad.storage.allSatisfy { $0 == 0 })
    }
}
