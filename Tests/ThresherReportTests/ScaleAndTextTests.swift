import XCTest
@testable import ThresherReport

final class ScaleAndTextTests: XCTestCase {
    func testEscapingLeavesNoMarkupCharacters() {
        let escaped = HTMLText.escape("<script>alert('x')</script> & \"q\"")
        XCTAssertEqual(escaped, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;")
        XCTAssertEqual(HTMLText.escape("a\u{1}b"), "a\u{FFFD}b", "control characters are not valid HTML text")
    }

    func testLinearScaleMapsTheDomainOntoTheRange() {
        let scale = AxisScale.fitting([2, 4, 6], range: (100, 0))
        XCTAssertFalse(scale.isLog)
        XCTAssertEqual(scale.position(2), 100)
        XCTAssertEqual(scale.position(6), 0)
        XCTAssertEqual(scale.position(4), 50)
        XCTAssertTrue(scale.position(.nan).isNaN, "a NaN stays NaN so paths drop it")
    }

    func testLogScalePlacesDecadesEvenly() {
        let scale = AxisScale.fitting([1, 100], log: true, range: (0, 200))
        XCTAssertTrue(scale.isLog)
        XCTAssertEqual(scale.position(10), 100, accuracy: 1e-9)
        XCTAssertEqual(scale.ticks(), [1, 10, 100])
        XCTAssertTrue(scale.position(0).isNaN, "zero has no place on a log axis")
        XCTAssertFalse(AxisScale.fitting([0, 1, 100], log: true, range: (0, 1)).isLog, "a log scale needs positive values")
    }

    func testDegenerateDomainsGiveFinitePositions() {
        for values in [[], [5.0], [3, 3, 3], [0, 0], [.nan, .infinity], [-.infinity, 1]] {
            for log in [false, true] {
                let scale = AxisScale.fitting(values, log: log, range: (10, 90))
                XCTAssertTrue(scale.upper > scale.lower, "\(values) log \(log)")
                for v in values where v.isFinite { XCTAssertTrue(scale.position(v).isFinite, "\(v) in \(values)") }
                XCTAssertFalse(scale.ticks().isEmpty)
                XCTAssertTrue(scale.ticks().allSatisfy(\.isFinite))
            }
        }
        XCTAssertTrue(AxisScale.fitting([-1e308, 1e308], range: (0, 1)).position(0).isFinite)
    }

    func testDecadeSpanDecidesLog() {
        XCTAssertTrue(AxisScale.spansDecades([0.001, 0.01, 1]))
        XCTAssertTrue(AxisScale.spansDecades([0.001, 0.01, 0.1]), "two decades")
        XCTAssertFalse(AxisScale.spansDecades([1, 50]))
        XCTAssertFalse(AxisScale.spansDecades([-1, 1000]))
    }

    func testPathDropsNonFinitePointsAsGaps() {
        var path = SVGPath()
        path.add(0, 0); path.add(1, .nan); path.add(2, 2); path.add(3, 3)
        XCTAssertEqual(path.d, "M0 0 M2 2 L3 3")
        XCTAssertTrue(SVGPath.line([(.infinity, 1)]).isEmpty)
    }

    func testNumberTexts() {
        XCTAssertEqual(ReportNumber.text(3), "3")
        XCTAssertEqual(ReportNumber.text(0.076219942), "0.07622")
        XCTAssertEqual(ReportNumber.text(.nan), "nan")
        XCTAssertEqual(ReportNumber.bytes(10 * 1024 * 1024), "10.0 MiB")
        XCTAssertEqual(ReportNumber.bytes(512), "512 B")
        XCTAssertEqual(ReportNumber.coordinate(.nan), "0")
        XCTAssertEqual(ReportNumber.coordinate(12.34), "12.3")
        XCTAssertEqual(ReportNumber.duration(3725), "1h 02m")
        XCTAssertEqual(ReportNumber.duration(1e300), "-")
        XCTAssertEqual(ReportNumber.duration(2.5), "2.5s")
        XCTAssertEqual(ReportNumber.byteAmount(.infinity), "-")
    }

    func testColorRampDarkensTowardTheBest() {
        let minimize = ColorRamp(values: [1, 2, 3], goal: .minimize)
        XCTAssertEqual(minimize.fraction(1), 1)
        XCTAssertEqual(minimize.fraction(3), 0)
        XCTAssertEqual(ColorRamp(values: [1, 2, 3], goal: .maximize).fraction(3), 1)
        XCTAssertEqual(ColorRamp(values: [2, 2], goal: .minimize).fraction(2), 1, "all equal: no division by zero")
        XCTAssertEqual(minimize.color(.nan), ColorRamp.color(atFraction: 0))
        XCTAssertTrue(minimize.color(2).hasPrefix("#") && minimize.color(2).count == 7)
    }

    func testDownsamplingKeepsEndsAndExtremesWithinTheLimit() {
        var values = (0..<5000).map { sin(Double($0) / 100) }
        values[2345] = 50
        values[4000] = -50
        let points = ReportFixtures.curve(values)
        let reduced = CurveDownsampler(limit: 500).reduce(points)
        XCTAssertLessThanOrEqual(reduced.count, 500)
        XCTAssertEqual(reduced.first, points.first)
        XCTAssertEqual(reduced.last, points.last)
        XCTAssertTrue(reduced.contains { $0.value == 50 } && reduced.contains { $0.value == -50 }, "spikes survive")
        XCTAssertEqual(reduced.map(\.step), reduced.map(\.step).sorted(), "order is kept")
        let short = ReportFixtures.curve([1, .nan, 2])
        XCTAssertEqual(CurveDownsampler(limit: 500).reduce(short).map(\.value), [1, 2], "short curves only lose non-finite points")
    }
}
