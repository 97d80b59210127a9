import XCTest
@testable import ThresherEngine

final class ElementwiseTests: XCTestCase {
    private func apply(_ x: [Float], _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in kernel(xp.baseAddress!, yp.baseAddress!, x.count) }
        }
        return y
    }

    func testArithmetic() {
        let a: [Float] = [1, 2, 3], b: [Float] = [4, -5, 0.5]
        var y = [Float](repeating: 0, count: 3)
        Elementwise.add(a, b, into: &y, count: 3)
        XCTAssertEqual(y, [5, -3, 3.5])
        Elementwise.hadamard(a, b, into: &y, count: 3)
        XCTAssertEqual(y, [4, -10, 1.5])
        Elementwise.hadamardAccumulate(a, b, into: &y, count: 3)
        XCTAssertEqual(y, [8, -20, 3])
        Elementwise.axpy(alpha: 2, x: a, y: &y, count: 3)
        XCTAssertEqual(y, [10, -16, 9])
        Elementwise.scale(&y, by: 0.5, count: 3)
        XCTAssertEqual(y, [5, -8, 4.5])
    }

    func testActivationsForward() {
        let x: [Float] = [-3, -0.5, 0, 0.5, 3]
        XCTAssertEqual(apply(x, Elementwise.relu), [0, 0, 0, 0.5, 3])
        let t = apply(x, Elementwise.tanh)
        for (v, e) in zip(t, [-0.9950547537, -0.4621171573, 0, 0.4621171573, 0.9950547537]) {
            XCTAssertEqual(Double(v), e, accuracy: 1e-6)
        }
        let s = apply(x, Elementwise.sigmoid)
        for (v, e) in zip(s, [0.0474258732, 0.3775406688, 0.5, 0.6224593312, 0.9525741268]) {
            XCTAssertEqual(Double(v), e, accuracy: 1e-6)
        }
    }

    func testSigmoidIsStableAtExtremes() {
        XCTAssertEqual(Double(Elementwise.sigmoid(Float(-80))) / exp(-80.0), 1, accuracy: 1e-5)
        XCTAssertGreaterThan(Elementwise.sigmoid(Float(-100)), 0)
        XCTAssertEqual(Elementwise.sigmoid(Float(100)), 1)
        XCTAssertEqual(Elementwise.sigmoid(-Float.infinity), 0)
        XCTAssertEqual(Elementwise.sigmoid(Float.infinity), 1)
        // Relative accuracy in the far negative tail (no 1 − σ cancellation).
        XCTAssertEqual(Double(Elementwise.sigmoid(Float(-30))) / 9.357622968839299e-14, 1, accuracy: 1e-5)
    }

    func testBackwardFromOutputs() {
        let y: [Float] = [0, 0.25, 0.5, 2]
        let dy: [Float] = [1, 2, 3, 4]
        var dx = [Float](repeating: 0, count: 4)
        Elementwise.reluBackward(output: y, gradOutput: dy, into: &dx, count: 4)
        XCTAssertEqual(dx, [0, 2, 3, 4])
        Elementwise.tanhBackward(output: y, gradOutput: dy, into: &dx, count: 4)
        XCTAssertEqual(dx, [1, 2 * (1 - 0.0625), 3 * 0.75, 4 * (1 - 4)])
        Elementwise.sigmoidBackward(output: y, gradOutput: dy, into: &dx, count: 4)
        XCTAssertEqual(dx, [0, 2 * 0.25 * 0.75, 3 * 0.25, 4 * 2 * -1])
    }

    func testInPlaceIsAllowed() {
        var x: [Float] = [-1, 2]
        x.withUnsafeMutableBufferPointer { p in Elementwise.relu(p.baseAddress!, into: p.baseAddress!, count: 2) }
        XCTAssertEqual(x, [0, 2])
    }
}
