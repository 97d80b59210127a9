import Foundation
import XCTest
@testable import ThresherEngine

/// PyTorch parity for `Linear`, the losses and 20 training steps of the `gru-classifier` model.
/// Fixtures/model_parity.safetensors is written by scripts/parity/model_fixture.py (torch 2.13 CPU);
/// its docstring lists every tensor, the metadata the settings.
///
/// "Relative" error here is |actual − expected| / max(1, |expected|), as in GRUParityTests: relative
/// for values above 1, absolute below (gradients near zero carry no relative precision). Single
/// ops must agree to 1e-5, the model after 20 AdamW steps to 1e-4. Each comparison also prints its
/// largest error and the largest plain relative error |a − e| / |e| over elements with
/// |e| ≥ 1e-3·max|e|, to see how much margin is left.
final class ModelParityTests: XCTestCase {
    private var fixture: [String: Tensor] = [:]

    override func setUpWithError() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "model_parity", withExtension: "safetensors", subdirectory: "Fixtures"))
        fixture = try SafeTensorsFile(contentsOfFile: url.path).tensors
    }

    private func tensor(_ name: String) throws -> Tensor {
        try XCTUnwrap(fixture[name], "fixture has no tensor \(name)")
    }

    private func scalar(_ name: String) throws -> Float {
        let t = try tensor(name)
        XCTAssertEqual(t.count, 1, "\(name) is not a scalar")
        return try XCTUnwrap(t.storage.first, name)
    }

    /// Integer tensors (int64 in the file) arrive as exact Floats.
    private func integers(_ t: Tensor) throws -> [Int] {
        try t.storage.map { v in try XCTUnwrap(Int(exactly: v), "not an integer: \(v)") }
    }

    /// Rows `index` of a tensor whose first dimension stacks `shape`-sized blocks.
    private func block(_ t: Tensor, _ index: Int, shape: [Int]) throws -> Tensor {
        let n = shape.reduce(1, *)
        XCTAssertGreaterThanOrEqual(t.count, (index + 1) * n)
        return try XCTUnwrap(Tensor(shape: shape, storage: Array(t.storage[(index * n)..<((index + 1) * n)])))
    }

    /// Asserts every element within `tolerance`·max(1, |expected|) and returns the largest
    /// |a − e| / max(1, |e|).
    @discardableResult
    private func assertClose(_ actual: [Float], _ expected: [Float], tolerance: Double, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) -> Double {
        XCTAssertEqual(actual.count, expected.count, "\(what): sizes differ", file: file, line: line)
        var worst = 0.0, worstPlain = 0.0, failures = 0
        let magnitude = expected.reduce(0) { max($0, abs(Double($1))) }
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            let difference = abs(Double(a) - Double(e))
            let error = difference / max(1, abs(Double(e)))
            worst = max(worst, error.isNaN ? .infinity : error)
            if abs(Double(e)) >= 1e-3 * magnitude && e != 0 { worstPlain = max(worstPlain, difference / abs(Double(e))) }
            if !(error <= tolerance) {
                failures += 1
                if failures <= 5 {
                    XCTFail("\(what)[\(i)]: engine \(a), PyTorch \(e), relative error \(error) > \(tolerance)", file: file, line: line)
                }
            }
        }
        if failures > 5 { XCTFail("\(what): \(failures) elements out of tolerance in all", file: file, line: line) }
        print(String(format: "parity %@: max error %.3g (plain relative %.3g) over %d values", what, worst, worstPlain, expected.count))
        return worst
    }

    // MARK: Linear

    func testLinearMatchesPyTorch() throws {
        let weight = Parameter(name: "linear.weight", value: try tensor("linear.weight"))
        let bias = Parameter(name: "linear.bias", value: try tensor("linear.bias"))
        let layer = Linear(weight: weight, bias: bias)
        let x = try tensor("linear.input")
        XCTAssertEqual(x.shape, [2, 3, 7])
        let y = layer.forward(x)
        XCTAssertEqual(y.shape, [2, 3, 5])
        assertClose(y.storage, try tensor("linear.output").storage, tolerance: 1e-5, "linear output")
        let dx = layer.backward(try tensor("linear.w_out"))
        assertClose(dx.storage, try tensor("linear.grad.input").storage, tolerance: 1e-5, "linear d_input")
        assertClose(weight.grad.storage, try tensor("linear.grad.weight").storage, tolerance: 1e-5, "linear d_weight")
        assertClose(bias.grad.storage, try tensor("linear.grad.bias").storage, tolerance: 1e-5, "linear d_bias")
    }

    // MARK: Losses

    private func checkLoss(_ prefix: String, inputKey: String = "logits", _ compute: (Tensor, Tensor) throws -> LossResult) throws {
        let input = try tensor("\(prefix).\(inputKey)")
        let result = try compute(input, try tensor("\(prefix).targets"))
        XCTAssertEqual(result.gradient.shape, input.shape)
        assertClose([result.loss], [try scalar("\(prefix).loss")], tolerance: 1e-5, "\(prefix) loss")
        assertClose(result.gradient.storage, try tensor("\(prefix).grad").storage, tolerance: 1e-5, "\(prefix) gradient")
    }

    func testCrossEntropyWithWeightsSmoothingAndIgnoreIndexMatchesPyTorch() throws {
        let weight: [Float] = [2, 1.2, 1]
        try checkLoss("ce") { x, t in CrossEntropyLoss(weight: weight, labelSmoothing: 0.2)(x, try integers(t)) }
        try checkLoss("ce_ignore") { x, t in
            let targets = try integers(t)
            XCTAssertEqual(targets.filter { $0 == -100 }.count, 2)
            return CrossEntropyLoss(weight: weight, labelSmoothing: 0.2, ignoreIndex: -100)(x, targets)
        }
    }

    func testBCEWithLogitsWithPosWeightMatchesPyTorch() throws {
        try checkLoss("bcel") { x, y in BCEWithLogitsLoss(posWeight: [3, 0.5, 1])(x, y) }
    }

    func testBCELossNearZeroAndOneMatchesPyTorch() throws {
        try checkLoss("bce", inputKey: "probabilities") { p, y in BCELoss()(p, y) }
        try checkLoss("bce_clamp", inputKey: "probabilities") { p, y in BCELoss()(p, y) }
    }

    /// Confident, correct negatives (p in [1e-7, 3e-5], target 0): the loss is mean(−log(1 − p)) ≈ 7.6e-6.
    /// PyTorch's `binary_cross_entropy` takes log1p(−p), and so does the engine: `log(1 − p)` would
    /// round 1 − p to Float first, putting each term off by up to 19 % at p = 1e-7 (4.1e-4 on this
    /// mean, which the absolute check alone would not catch). The plain relative error must be ≤ 1e-5.
    func testBCELossOfTinyProbabilitiesMatchesPyTorch() throws {
        try checkLoss("bce_small", inputKey: "probabilities") { p, y in BCELoss()(p, y) }
        let result = BCELoss()(try tensor("bce_small.probabilities"), try tensor("bce_small.targets"))
        let expected = try scalar("bce_small.loss")
        let relative = abs(Double(result.loss) - Double(expected)) / Double(expected)
        print(String(format: "parity bce_small loss: plain relative error %.3g (engine %.9g, PyTorch %.9g)",
                     relative, Double(result.loss), Double(expected)))
        XCTAssertLessThan(relative, 1e-5, "BCELoss of tiny probabilities")
    }

    // MARK: gru-classifier, 20 steps

    func testGRUClassifierTwentyAdamWStepsMatchPyTorch() throws {
        let model = try GRUClassifier(inputSize: 5, hiddenSize: 6, numLayers: 2, dropout: 0, seed: 1)
        let names = model.parameters.map(\.name)
        var initial: [String: Tensor] = [:]
        for name in names { initial[name] = try tensor("gru.init.\(name)") }
        XCTAssertEqual(Set(fixture.keys.filter { $0.hasPrefix("gru.init.") }.map { String($0.dropFirst("gru.init.".count)) }),
                       Set(names), "the engine's parameter names are PyTorch's state_dict names")
        try model.load(weights: initial)

        let xs = try tensor("gru.x"), ys = try tensor("gru.y")
        let lengths = try integers(try tensor("gru.lengths"))
        let expectedLosses = try tensor("gru.losses").storage
        let (steps, batch, time, features) = (20, 4, 7, 5)
        XCTAssertEqual(xs.shape, [steps, batch, time, features])
        XCTAssertEqual(lengths.count, steps * batch)
        XCTAssertEqual(expectedLosses.count, steps)

        let base = 1e-2
        let schedule = try LinearLR(startFactor: 0.1, totalIterations: 5)
        let optimizer = try AdamW(parameters: model.parameters, learningRate: base, weightDecay: 0.01)
        let loss = BCEWithLogitsLoss()
        var losses: [Float] = []
        for step in 0..<steps {
            optimizer.zeroGrad()
            let x = try block(xs, step, shape: [batch, time, features])
            let y = try block(ys, step, shape: [batch, 1])
            let logits = try model.forward(.sequences(x, lengths: Array(lengths[(step * batch)..<((step + 1) * batch)])))
            XCTAssertEqual(logits.shape, [batch, 1])
            let result = loss(logits, y)
            model.backward(result.gradient)
            if step == 0 {
                // Before any update the single-op tolerance applies.
                assertClose(logits.storage, try tensor("gru.step0.logits").storage, tolerance: 1e-5, "gru step 0 logits")
                for p in model.parameters {
                    assertClose(p.grad.storage, try tensor("gru.step0.grad.\(p.name)").storage, tolerance: 1e-5, "gru step 0 grad \(p.name)")
                }
            }
            optimizer.learningRate = schedule.learningRate(base: base, step: step)
            try optimizer.step()
            losses.append(result.loss)
        }
        assertClose(losses, expectedLosses, tolerance: 1e-4, "gru losses per step")
        var worst = 0.0
        for p in model.parameters {
            worst = max(worst, assertClose(p.value.storage, try tensor("gru.final.\(p.name)").storage, tolerance: 1e-4, "gru final \(p.name)"))
        }
        print(String(format: "parity gru final parameters: max error %.3g", worst))
    }
}
