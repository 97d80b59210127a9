import Foundation
import XCTest
@testable import ThresherEngine

/// AdamW, SGD and global-norm clipping against PyTorch 2.13 (CPU) on three hand-picked gradient steps.
/// The expected values were produced once with torch.optim.AdamW / SGD and clip_grad_norm_ on the same
/// tensors (a one-off script, not committed); each is also reproducible by hand from the formulas in
/// the types' documentation. Tolerance 1e-6 relative: Float32 rounding, PyTorch may fuse multiply-adds.
final class OptimizerTests: XCTestCase {
    private let grads: [([Float], [Float])] = [
        ([0.1, -0.2, 0.3, 0.0], [1.0, 0.5, -0.25]),
        ([-0.4, 0.2, 0.1, 1.0], [0.0, -1.5, 0.5]),
        ([0.05, 0.05, -0.3, 0.2], [2.0, 0.0, 0.0]),
    ]

    private func makeParameters() -> (Parameter, Parameter) {
        (Parameter(name: "fc.weight", value: Tensor(shape: [2, 2], storage: [0.5, -1.0, 2.0, 0.0])!),
         Parameter(name: "fc.bias", value: Tensor(shape: [3], storage: [1.0, -2.0, 3.0])!))
    }

    private func run(_ optimizer: any Optimizer, _ p: Parameter, _ q: Parameter, steps: Int = 3) throws {
        for (gp, gq) in grads.prefix(steps) {
            p.grad = Tensor(shape: [2, 2], storage: gp)!
            q.grad = Tensor(shape: [3], storage: gq)!
            try optimizer.step()
        }
    }

    private func assertClose(_ actual: [Float], _ expected: [Float], tolerance: Float = 1e-6,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for (a, e) in zip(actual, expected) {
            XCTAssertEqual(a, e, accuracy: tolerance * max(1, abs(e)), "\(actual) vs \(expected)", file: file, line: line)
        }
    }

    func testAdamWDefaultsMatchPyTorch() throws {
        let (p, q) = makeParameters()
        let adam = try AdamW(parameters: [p, q], learningRate: 0.1)
        XCTAssertEqual(adam.weightDecay, 0.01)
        XCTAssertEqual(adam.epsilon, 1e-8)
        try run(adam, p, q)
        assertClose(p.value.storage, [0.489836276, -0.917595446, 1.80234802, -0.143277332])
        assertClose(q.value.storage, [0.749970317, -2.0062356, 3.02593541])
        let state = adam.state
        XCTAssertEqual(state["fc.weight.step"], Tensor(shape: [], storage: [3]))
        assertClose(state["fc.weight.exp_avg"]!.storage, [-0.0229000002, 0.00679999869, 0.00329999882, 0.109999999])
        assertClose(state["fc.weight.exp_avg_sq"]!.storage, [0.00017232004, 8.23800438e-05, 0.000189810118, 0.001039])
        XCTAssertEqual(Set(state.keys), ["fc.weight.step", "fc.weight.exp_avg", "fc.weight.exp_avg_sq",
                                         "fc.bias.step", "fc.bias.exp_avg", "fc.bias.exp_avg_sq"])
    }

    /// First step by hand: m̂ = g, v̂ = g², so p ← p(1 − lr·wd) − lr·g/(|g| + eps).
    func testAdamWFirstStepByHand() throws {
        let p = Parameter(name: "w", value: Tensor(shape: [2], storage: [1, -2])!)
        p.grad = Tensor(shape: [2], storage: [0.5, -4])!
        let adam = try AdamW(parameters: [p], learningRate: 0.01, weightDecay: 0.1)
        try adam.step()
        let expected: [Float] = [1 * 0.999 - 0.01 * 0.5 / (0.5 + 1e-8), -2 * 0.999 + 0.01 * 4 / (4 + 1e-8)]
        assertClose(p.value.storage, expected)
    }

    func testAdamWAmsgradAndBetas() throws {
        let (p, q) = makeParameters()
        let adam = try AdamW(parameters: [p, q], learningRate: 0.05, betas: (0.8, 0.9), weightDecay: 0.1, amsgrad: true)
        try run(adam, p, q)
        assertClose(p.value.storage, [0.489595562, -0.951135397, 1.87998736, -0.0718313456])
        assertClose(q.value.storage, [0.864489019, -1.97414327, 2.96944308])
        assertClose(adam.state["fc.weight.max_exp_avg_sq"]!.storage, [0.0169000011, 0.00760000059, 0.0171900019, 0.100000001])
    }

    func testSGDMomentumWeightDecayNesterovPlain() throws {
        var (p, q) = makeParameters()
        let momentum = try SGD(parameters: [p, q], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        try run(momentum, p, q)
        assertClose(p.value.storage, [0.541095436, -0.983250737, 1.91861355, -0.209900007])
        assertClose(q.value.storage, [0.523774683, -1.83924973, 2.95588946])
        assertClose(momentum.state["fc.weight.momentum_buffer"]!.storage, [-0.215348899, 0.0412977934, 0.0861843228, 1.09899998])

        (p, q) = makeParameters()
        let nesterov = try SGD(parameters: [p, q], learningRate: 0.1, momentum: 0.9, nesterov: true)
        try run(nesterov, p, q)
        assertClose(p.value.storage, [0.564509988, -0.994920015, 1.92672992, -0.309000015])
        assertClose(q.value.storage, [0.276100039, -1.76545, 2.95047498])

        (p, q) = makeParameters()
        let plain = try SGD(parameters: [p, q], learningRate: 0.1)
        try run(plain, p, q)
        assertClose(p.value.storage, [0.525000036, -1.005, 1.99000001, -0.120000005])
        XCTAssertTrue(plain.state.isEmpty)
    }

    func testFrozenParametersAreSkippedAndGetNoState() throws {
        let (p, q) = makeParameters()
        q.isTrainable = false
        let adam = try AdamW(parameters: [p, q], learningRate: 0.1)
        try run(adam, p, q)
        XCTAssertEqual(q.value.storage, [1.0, -2.0, 3.0])
        XCTAssertNil(adam.state["fc.bias.step"])
        // Unfrozen later, it starts from step 1 with fresh moments, as in PyTorch.
        q.isTrainable = true
        try adam.step()
        XCTAssertEqual(adam.state["fc.bias.step"], Tensor(shape: [], storage: [1]))
        XCTAssertEqual(adam.state["fc.weight.step"], Tensor(shape: [], storage: [4]))
    }

    /// Saving after one step and restoring into a fresh optimizer continues exactly like an uninterrupted run.
    func testStateRoundTripIsBitIdentical() throws {
        let (p1, q1) = makeParameters()
        let a = try AdamW(parameters: [p1, q1], learningRate: 0.1, amsgrad: true)
        try run(a, p1, q1)

        let (p2, q2) = makeParameters()
        let b = try AdamW(parameters: [p2, q2], learningRate: 0.1, amsgrad: true)
        try run(b, p2, q2, steps: 1)
        let saved = b.state
        let c = try AdamW(parameters: [p2, q2], learningRate: 0.1, amsgrad: true)
        try c.loadState(saved)
        XCTAssertEqual(c.state, saved)
        for (gp, gq) in grads.dropFirst() {
            p2.grad = Tensor(shape: [2, 2], storage: gp)!
            q2.grad = Tensor(shape: [3], storage: gq)!
            try c.step()
        }
        XCTAssertEqual(p1.value, p2.value)
        XCTAssertEqual(q1.value, q2.value)
        XCTAssertEqual(a.state, c.state)

        let (p3, q3) = makeParameters()
        let s1 = try SGD(parameters: [p3, q3], learningRate: 0.1, momentum: 0.9)
        try run(s1, p3, q3, steps: 2)
        let s2 = try SGD(parameters: [p3, q3], learningRate: 0.1, momentum: 0.9)
        try s2.loadState(s1.state)
        XCTAssertEqual(s2.state, s1.state)
    }

    func testLoadStateRejectsBadStateAndKeepsOld() throws {
        let (p, q) = makeParameters()
        let adam = try AdamW(parameters: [p, q])
        try run(adam, p, q, steps: 1)
        let good = adam.state
        var bad = good
        bad["fc.weight.exp_avg"] = Tensor(zeros: [4])
        XCTAssertThrowsError(try adam.loadState(bad)) {
            XCTAssertEqual($0 as? OptimizerError, .stateShapeMismatch(key: "fc.weight.exp_avg", expected: [2, 2], found: [4]))
        }
        bad = good
        bad["fc.other.exp_avg"] = Tensor(zeros: [1])
        XCTAssertThrowsError(try adam.loadState(bad)) { XCTAssertEqual($0 as? OptimizerError, .unexpectedStateKey("fc.other.exp_avg")) }
        bad = good
        bad["fc.bias.exp_avg_sq"] = nil
        XCTAssertThrowsError(try adam.loadState(bad)) {
            XCTAssertEqual($0 as? OptimizerError, .incompleteState(parameter: "fc.bias", missing: "exp_avg_sq"))
        }
        bad = good
        bad["fc.bias.step"] = Tensor(shape: [], storage: [1.5])
        XCTAssertThrowsError(try adam.loadState(bad)) {
            XCTAssertEqual($0 as? OptimizerError, .invalidStepCount(key: "fc.bias.step", value: 1.5))
        }
        bad = good
        bad["fc.bias.step"] = Tensor(shape: [1], storage: [1])
        XCTAssertThrowsError(try adam.loadState(bad)) {
            XCTAssertEqual($0 as? OptimizerError, .stateShapeMismatch(key: "fc.bias.step", expected: [], found: [1]))
        }
        XCTAssertEqual(adam.state, good)
        let sgd = try SGD(parameters: [p, q])
        XCTAssertThrowsError(try sgd.loadState(["fc.bias.momentum_buffer": Tensor(zeros: [3])]))
    }

    func testInvalidConfigurationAndGradientShape() throws {
        let (p, q) = makeParameters()
        XCTAssertThrowsError(try AdamW(parameters: [p], learningRate: -1)) {
            XCTAssertEqual($0 as? OptimizerError, .invalidHyperparameter(name: "lr", value: -1, requirement: "≥ 0"))
        }
        XCTAssertThrowsError(try AdamW(parameters: [p], betas: (1.0, 0.999)))
        XCTAssertThrowsError(try AdamW(parameters: [p], learningRate: .nan))
        XCTAssertThrowsError(try SGD(parameters: [p], nesterov: true))
        XCTAssertThrowsError(try SGD(parameters: [p], momentum: 0.9, dampening: 0.1, nesterov: true))
        XCTAssertThrowsError(try SGD(parameters: [p, p])) { XCTAssertEqual($0 as? OptimizerError, .duplicateParameterName("fc.weight")) }
        q.grad = Tensor(zeros: [2])
        let sgd = try SGD(parameters: [p, q], learningRate: 0.1)
        XCTAssertThrowsError(try sgd.step()) {
            XCTAssertEqual($0 as? OptimizerError, .gradientShapeMismatch(parameter: "fc.bias", value: [3], gradient: [2]))
        }
    }

    /// Twenty steps of a training loop (clip_grad_norm_ to 1.0, step, schedule) against PyTorch 2.13:
    /// Fixtures/optimizer_parity.safetensors holds the initial weights [6, 4] and [4], twenty seeded
    /// gradients, and PyTorch's results for AdamW (lr 1e-2, weight_decay 0.01, LinearLR(0.1, 1, 5)) and
    /// nesterov SGD (lr 0.05, momentum 0.9, weight_decay 1e-3, CosineAnnealingLR(20, 1e-3)); its
    /// metadata records the settings. Tolerance 1e-5 relative (issue 4 asks 1e-4 after 20 steps).
    func testTwentyStepsWithClippingAndSchedulesMatchPyTorch() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "optimizer_parity", withExtension: "safetensors", subdirectory: "Fixtures"))
        let fixture = try SafeTensorsFile(contentsOfFile: url.path).tensors
        func tensor(_ name: String) throws -> Tensor { try XCTUnwrap(fixture[name], name) }
        func train(_ makeOptimizer: ([Parameter]) throws -> any Optimizer, _ schedule: any LearningRateSchedule, base: Double)
            throws -> (Parameter, Parameter, any Optimizer, [Float]) {
            let w = Parameter(name: "w", value: try tensor("init.w"))
            let b = Parameter(name: "b", value: try tensor("init.b"))
            let optimizer = try makeOptimizer([w, b])
            var norms: [Float] = []
            for i in 0..<20 {
                w.grad = try tensor(String(format: "grad.%02d.w", i))
                b.grad = try tensor(String(format: "grad.%02d.b", i))
                norms.append(GradientClipping.clipGlobalNorm([w, b], maxNorm: 1))
                optimizer.learningRate = schedule.learningRate(base: base, step: i)
                try optimizer.step()
            }
            return (w, b, optimizer, norms)
        }
        let (w, b, adam, norms) = try train({ try AdamW(parameters: $0, learningRate: 1e-2) },
                                            LinearLR(startFactor: 0.1, totalIterations: 5), base: 1e-2)
        assertClose(norms, try tensor("norms").storage, tolerance: 1e-6)
        assertClose(w.value.storage, try tensor("adamw.w").storage, tolerance: 1e-5)
        assertClose(b.value.storage, try tensor("adamw.b").storage, tolerance: 1e-5)
        assertClose(try XCTUnwrap(adam.state["w.exp_avg"]).storage, try tensor("adamw.w.exp_avg").storage, tolerance: 1e-5)
        assertClose(try XCTUnwrap(adam.state["w.exp_avg_sq"]).storage, try tensor("adamw.w.exp_avg_sq").storage, tolerance: 1e-5)

        let (sw, sb, _, _) = try train({ try SGD(parameters: $0, learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3, nesterov: true) },
                                       CosineAnnealingLR(maxSteps: 20, minimumLearningRate: 1e-3), base: 0.05)
        assertClose(sw.value.storage, try tensor("sgd.w").storage, tolerance: 1e-5)
        assertClose(sb.value.storage, try tensor("sgd.b").storage, tolerance: 1e-5)
    }

    func testClipGradNormMatchesPyTorch() {
        let p = Parameter(name: "a", value: Tensor(zeros: [2]))
        let q = Parameter(name: "b", value: Tensor(zeros: [1]))
        let frozen = Parameter(name: "c", value: Tensor(zeros: [1]), isTrainable: false)
        p.grad = Tensor(shape: [2], storage: [3, 4])!
        q.grad = Tensor(shape: [1], storage: [12])!
        frozen.grad = Tensor(shape: [1], storage: [100])!
        let norm = GradientClipping.clipGlobalNorm([p, q, frozen], maxNorm: 1)
        XCTAssertEqual(norm, 13)
        assertClose(p.grad.storage, [0.230769217, 0.307692289])
        assertClose(q.grad.storage, [0.923076868])
        XCTAssertEqual(frozen.grad.storage, [100])
        // Below the threshold nothing changes.
        XCTAssertEqual(GradientClipping.clipGlobalNorm([p, q], maxNorm: 5), 1, accuracy: 1e-6)
        assertClose(q.grad.storage, [0.923076868])
        XCTAssertEqual(GradientClipping.clipGlobalNorm([], maxNorm: 1), 0)
        q.grad.storage[0] = .infinity
        XCTAssertFalse(GradientClipping.clipGlobalNorm([p, q], maxNorm: 1).isFinite)
    }
}
