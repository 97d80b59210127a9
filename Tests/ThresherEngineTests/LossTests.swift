import XCTest
@testable import ThresherEngine

/// Losses: values and gradients against PyTorch 2.13 (computed once offline; the tests do not
/// need torch), a hand computation of the weighted, smoothed cross-entropy formula, and a
/// finite-difference check of every gradient.
final class LossTests: XCTestCase {
    private typealias G = GradientCheck

    // MARK: BCE

    func testBCELossMatchesPyTorchIncludingTheLogClamp() {
        // p = 0 with y = 1: PyTorch clamps log(0) at −100 and the gradient's denominator at 1e-12.
        let p = G.tensor([5], [0.1, 0.7, 0.999, 0, 0.4]), y = G.tensor([5], [0, 1, 1, 1, 0.3])
        let result = BCELoss()(p, y)
        XCTAssertEqual(Double(result.loss), 20.219100952, accuracy: 1e-5)
        G.assertValues(result.gradient.storage, [0.222222239, -0.285714298, -0.2002002, -199_999_995_904.0, 0.083333328], "grad")
        XCTAssertEqual(BCELoss(reduction: .sum)(p, y).loss, result.loss * 5, accuracy: 1e-4)
    }

    func testBCELossGradientCheck() {
        var rng = EngineRandom(seed: 1)
        let p = rng.uniformTensor([2, 5], low: 0.05, high: 0.95)
        let y = rng.uniformTensor([2, 5], low: 0, high: 1)
        let analytic = BCELoss()(p, y).gradient
        let numeric = G.numerical(p.storage, eps: 1e-3) { Double(BCELoss()(G.tensor(p.shape, $0), y).loss) }
        G.assertClose(analytic.storage, numeric, atol: 1e-3, "dBCE/dp")
    }

    func testBCEWithLogitsMatchesPyTorchAndIsStable() {
        let x = G.tensor([5], [-3, 0.5, 20, -40, 0]), y = G.tensor([5], [0, 1, 0.5, 1, 0.25])
        let plain = BCEWithLogitsLoss()(x, y)
        XCTAssertEqual(Double(plain.loss), 10.243162155, accuracy: 1e-5)
        G.assertValues(plain.gradient.storage, [0.009485175, -0.075508133, 0.1, -0.2, 0.05], "grad")
        let weighted = BCEWithLogitsLoss(posWeight: [2.5])(x, y)
        XCTAssertEqual(Double(weighted.loss), 22.437372208, accuracy: 1e-5)
        G.assertValues(weighted.gradient.storage, [0.009485175, -0.188770324, 0.1, -0.5, 0.0125], "grad pos_weight")
        // Hand computation for one huge logit: loss = max(x,0) − x·y + log1p(e^−|x|) = 1000·(1 − 0) exactly.
        let huge = BCEWithLogitsLoss()(G.tensor([1], [1000]), G.tensor([1], [0]))
        XCTAssertEqual(huge.loss, 1000)
        XCTAssertEqual(huge.gradient.storage, [1])
    }

    func testBCEWithLogitsGradientCheckWithPerClassPosWeight() {
        let x = G.random([3, 4], seed: 2, scale: 2)
        var rng = EngineRandom(seed: 3)
        let y = rng.uniformTensor([3, 4], low: 0, high: 1)
        let loss = BCEWithLogitsLoss(posWeight: [0.5, 1, 2, 3])
        let numeric = G.numerical(x.storage) { Double(loss(G.tensor(x.shape, $0), y).loss) }
        G.assertClose(loss(x, y).gradient.storage, numeric, atol: 2e-4, "dBCEWithLogits/dx")
    }

    // MARK: Cross-entropy

    private let logits = GradientCheck.tensor([3, 4], [1, 2, 0.5, -1, 0.3, -0.2, 0.1, 2.5, -1, 0, 1, 3])
    private let targets = [0, 3, 2]
    private let classWeight: [Float] = [0.2, 1, 2, 0.5]

    func testCrossEntropyMatchesPyTorch() {
        let cases: [(CrossEntropyLoss, Double, [Double])] = [
            (CrossEntropyLoss(), 1.306126118,
             [-0.258597404, 0.203153357, 0.045329638, 0.010114411, 0.029111382, 0.017656945,
              0.023834383, -0.0706027, 0.005073142, 0.013790231, -0.295847595, 0.276984215]),
            (CrossEntropyLoss(weight: classWeight, labelSmoothing: 0.1), 1.816858172,
             [-0.04589013, 0.05225106, -0.004793713, -0.001567211, 0.01569584, 0.001383954,
              -0.004151683, -0.012928101, 0.008815838, 0.019738531, -0.606360972, 0.577806592]),
            (CrossEntropyLoss(labelSmoothing: 0.2), 1.469459414,
             [-0.208597407, 0.186486721, 0.028662978, -0.006552255, 0.012444716, 0.000990279,
              0.007167718, -0.020602692, -0.011593524, -0.002876435, -0.245847628, 0.260317594]),
            (CrossEntropyLoss(weight: classWeight), 1.773484468,
             [-0.05746609, 0.045145191, 0.010073252, 0.002247647, 0.016172988, 0.009809413,
              0.013241323, -0.039223719, 0.011273649, 0.030644957, -0.657439113, 0.615520477]),
            (CrossEntropyLoss(weight: classWeight, labelSmoothing: 0.1, ignoreIndex: 3), 2.080861568,
             [-0.056319706, 0.064126305, -0.005883193, -0.001923395, 0, 0, 0, 0,
              0.010819437, 0.024224557, -0.744170249, 0.709126234]),
            (CrossEntropyLoss(weight: classWeight, labelSmoothing: 0.1, reduction: .sum), 4.905517578,
             [-0.123903364, 0.141077846, -0.012943027, -0.004231471, 0.042378768, 0.003736675,
              -0.011209547, -0.034905896, 0.023802763, 0.053294033, -1.637174606, 1.560077786]),
        ]
        for (index, (loss, expectedLoss, expectedGradient)) in cases.enumerated() {
            let result = loss(logits, targets)
            XCTAssertEqual(Double(result.loss), expectedLoss, accuracy: 1e-5, "case \(index)")
            G.assertValues(result.gradient.storage, expectedGradient, "case \(index) gradient")
        }
    }

    /// The documented formula, evaluated in Double by hand: numerator over the sum of the
    /// target classes' weights (0.2 + 0.5 + 2 = 2.7), smoothing term weighted too.
    func testCrossEntropyWeightedSmoothedFormulaByHand() {
        let eps = 0.1, classes = 4.0
        var nll = 0.0, smooth = 0.0, weightOfTargets = 0.0
        for i in 0..<3 {
            let row = (0..<4).map { Double(logits.storage[i * 4 + $0]) }
            let m = row.max() ?? 0
            let lse = m + log(row.reduce(0) { $0 + exp($1 - m) })
            let w = classWeight.map(Double.init)
            nll += -w[targets[i]] * (row[targets[i]] - lse)
            smooth += (0..<4).reduce(0) { $0 - w[$1] * (row[$1] - lse) }
            weightOfTargets += w[targets[i]]
        }
        XCTAssertEqual(weightOfTargets, 2.7, accuracy: 1e-6)
        let expected = ((1 - eps) * nll + eps / classes * smooth) / weightOfTargets
        let result = CrossEntropyLoss(weight: classWeight, labelSmoothing: 0.1)(logits, targets)
        XCTAssertEqual(Double(result.loss), expected, accuracy: 1e-6)
        XCTAssertEqual(expected, 1.816858172, accuracy: 1e-6, "and PyTorch agrees")
    }

    func testCrossEntropyGradientCheckWithWeightsSmoothingAndIgnore() {
        let x = G.random([5, 6], seed: 4, scale: 2)
        let t = [0, 5, 2, 2, 1]
        let w: [Float] = [0.5, 1, 2, 0.1, 1.5, 3]
        for loss in [CrossEntropyLoss(weight: w, labelSmoothing: 0.15),
                     CrossEntropyLoss(weight: w, labelSmoothing: 0.15, ignoreIndex: 2),
                     CrossEntropyLoss(labelSmoothing: 0.3, reduction: .sum)] {
            // eps 1e-2: the loss is returned as Float, so a smaller step drowns in its rounding.
            let numeric = G.numerical(x.storage, eps: 1e-2) { Double(loss(G.tensor(x.shape, $0), t).loss) }
            G.assertClose(loss(x, t).gradient.storage, numeric, atol: 2e-4, "dCE/dx \(loss)")
        }
    }

    func testCrossEntropyIsStableForLargeLogits() {
        let result = CrossEntropyLoss()(G.tensor([1, 3], [1000, 0, -1000]), [1])
        XCTAssertEqual(result.loss, 1000)
        G.assertValues(result.gradient.storage, [1, -1, 0], "grad")
    }
}
