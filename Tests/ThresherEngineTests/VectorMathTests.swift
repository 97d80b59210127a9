import Foundation
import XCTest
@testable import ThresherEngine

/// Accuracy of the branch-free `exp`/`tanh` against Double references on a dense grid.
final class VectorMathTests: XCTestCase {
    /// Distance in units in the last place between a Float and the Float nearest the exact value.
    private func ulps(_ value: Float, _ exact: Double) -> Int {
        let rounded = Float(exact)
        if value == rounded { return 0 }
        if !value.isFinite || !rounded.isFinite { return Int.max }
        return abs(Int(Int32(bitPattern: value.bitPattern)) - Int(Int32(bitPattern: rounded.bitPattern)))
    }

    func testExpWithinTwoUlpsOverTheWholeRange() {
        var worst = 0
        var x: Float = -104
        while x < 89 {
            worst = max(worst, ulps(Elementwise.exp(x), Foundation.exp(Double(x))))
            x += 0.000_731
        }
        XCTAssertLessThanOrEqual(worst, 2)
    }

    func testExpSpecialValues() {
        XCTAssertEqual(Elementwise.exp(0), 1)
        XCTAssertEqual(Elementwise.exp(1), Float(M_E))
        XCTAssertEqual(Elementwise.exp(-Float.infinity), 0)
        XCTAssertEqual(Elementwise.exp(Float.infinity), Float.infinity)
        XCTAssertEqual(Elementwise.exp(89), Float.infinity, "overflows where expf does")
        XCTAssertEqual(Elementwise.exp(88.7), Float(Foundation.exp(Double(Float(88.7)))), accuracy: 1e32)
        XCTAssertEqual(Elementwise.exp(-1000), 0)
        XCTAssertGreaterThan(Elementwise.exp(-100), 0, "denormal results are kept")
        XCTAssert(Elementwise.exp(Float.nan).isNaN)
    }

    func testTanhRelativeErrorAndSaturation() {
        var worst = 0.0
        var x: Float = -20
        while x < 20 {
            let exact = Foundation.tanh(Double(x))
            if exact != 0 { worst = max(worst, abs(Double(Elementwise.tanh(x)) - exact) / abs(exact)) }
            x += 0.000_37
        }
        XCTAssertLessThan(worst, 3e-7)
        for tiny: Float in [1e-3, 1e-8, 1e-30, -1e-20] {
            XCTAssertEqual(Double(Elementwise.tanh(tiny)) / Foundation.tanh(Double(tiny)), 1, accuracy: 2e-7)
        }
        XCTAssertEqual(Elementwise.tanh(0), 0)
        XCTAssertEqual(Elementwise.tanh(50), 1)
        XCTAssertEqual(Elementwise.tanh(-Float.infinity), -1)
        XCTAssert(Elementwise.tanh(Float.nan).isNaN)
    }

    func testSigmoidRelativeError() {
        var worst = 0.0
        var x: Float = -80
        while x < 30 {
            let exact = 1 / (1 + Foundation.exp(-Double(x)))
            worst = max(worst, abs(Double(Elementwise.sigmoid(x)) - exact) / exact)
            x += 0.000_91
        }
        XCTAssertLessThan(worst, 4e-7)
    }
}
