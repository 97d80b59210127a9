import XCTest
@testable import ThresherEngine

/// Finite-difference gradient checking for the engine's Float32 ops.
///
/// `numerical` perturbs one element at a time by ±eps (central differences), evaluates a scalar
/// function of the whole vector, and divides by the perturbation actually applied (the Float
/// difference of x+eps and x−eps, not 2·eps). Layers with tensor outputs are reduced to a scalar
/// by `project`: L = Σ r ⊙ y with a fixed random r, whose gradient with respect to y is r — so
/// the analytic side is `backward(r)`.
enum GradientCheck {
    /// Central-difference gradient of `f` at `values`.
    static func numerical(_ values: [Float], eps: Float = 1e-3, _ f: ([Float]) -> Double) -> [Double] {
        var x = values
        var gradient = [Double](repeating: 0, count: values.count)
        for i in values.indices {
            let original = x[i]
            let plus = original + eps, minus = original - eps
            x[i] = plus
            let fPlus = f(x)
            x[i] = minus
            let fMinus = f(x)
            x[i] = original
            gradient[i] = (fPlus - fMinus) / (Double(plus) - Double(minus))
        }
        return gradient
    }

    /// Asserts |analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|) element by element.
    static func assertClose(_ analytic: [Float], _ numeric: [Double], rtol: Double = 1e-2, atol: Double = 1e-3,
                            _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(analytic.count, numeric.count, "\(label): sizes differ", file: file, line: line)
        var worst = 0.0
        for (i, (a, n)) in zip(analytic, numeric).enumerated() {
            let error = abs(Double(a) - n)
            let bound = atol + rtol * max(abs(Double(a)), abs(n))
            worst = max(worst, error / bound)
            if error > bound {
                XCTFail("\(label)[\(i)]: analytic \(a), numeric \(n) (error \(error) > \(bound))", file: file, line: line)
                return
            }
        }
        XCTAssertLessThanOrEqual(worst, 1, label, file: file, line: line)
    }

    /// L = Σ r ⊙ y, accumulated in Double.
    static func project(_ y: Tensor, _ r: Tensor) -> Double {
        precondition(y.shape == r.shape, "project: \(y.shape) vs \(r.shape)")
        var sum = 0.0
        for i in y.storage.indices { sum += Double(y.storage[i]) * Double(r.storage[i]) }
        return sum
    }

    /// A fixed random tensor (normal, seeded) to project outputs with or to use as input.
    static func random(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var rng = EngineRandom(seed: seed, stream: 99)
        return rng.normalTensor(shape, mean: 0, std: scale)
    }

    /// Wraps storage in a tensor of `shape` (test inputs are always consistent).
    static func tensor(_ shape: [Int], _ values: [Float]) -> Tensor {
        guard let t = Tensor(shape: shape, storage: values) else {
            preconditionFailure("test tensor \(shape) with \(values.count) values")
        }
        return t
    }

    /// Elementwise comparison with an absolute-plus-relative tolerance.
    static func assertValues(_ actual: [Float], _ expected: [Double], tolerance: Double = 1e-5,
                             _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(label): sizes differ", file: file, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            XCTAssertEqual(Double(a), e, accuracy: tolerance * max(1, abs(e)), "\(label)[\(i)]", file: file, line: line)
        }
    }
}
