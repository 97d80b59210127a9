import XCTest
@testable import ThresherReport

final class ReportPageTests: XCTestCase {
    typealias F = ReportFixtures

    /// Every attribute value in the page's SVG: where a NaN or infinity would break a drawing.
    private func svgAttributeValues(_ html: String) -> [String] {
        var values: [String] = []
        var rest = Substring(html)
        while let open = rest.range(of: "<svg"), let close = rest.range(of: "</svg>", range: open.upperBound..<rest.endIndex) {
            let svg = String(rest[open.lowerBound..<close.upperBound])
            let regex = try! NSRegularExpression(pattern: "<[a-zA-Z][^>]*>")
            for tag in regex.matches(in: svg, range: NSRange(svg.startIndex..., in: svg)) {
                let text = (svg as NSString).substring(with: tag.range)
                let attribute = try! NSRegularExpression(pattern: "=\"([^\"]*)\"")
                for m in attribute.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    values.append((text as NSString).substring(with: m.range(at: 1)))
                }
            }
            rest = rest[close.upperBound...]
        }
        return values
    }

    private func assertSound(_ html: String, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"), label, file: file, line: line)
        XCTAssertTrue(html.hasSuffix("</html>"), label, file: file, line: line)
        let urls = html.components(separatedBy: "://").count - 1
        let xmlns = html.components(separatedBy: "xmlns=\"http://www.w3.org/2000/svg\"").count - 1
        XCTAssertEqual(urls, xmlns, "\(label): the only URL is SVG's namespace", file: file, line: line)
        XCTAssertFalse(html.lowercased().contains("<script"), label, file: file, line: line)
        for tag in ["<img", "<link", "<iframe", "<object", "<embed", "@import", "url(http"] {
            XCTAssertFalse(html.lowercased().contains(tag), "\(label): \(tag)", file: file, line: line)
        }
        for value in svgAttributeValues(html) {
            XCTAssertFalse(value.lowercased().contains("nan") || value.lowercased().contains("inf"),
                           "\(label): \(value)", file: file, line: line)
        }
    }

    func testEmptyAndDegenerateSweepsRender() {
        let cases: [(String, SweepReport)] = [
            ("no trials", F.report([])),
            ("no values", F.report([F.trial(1, "running", []), F.trial(2, "pending", [])])),
            ("one trial, one value", F.report([F.trial(1, "completed", [0.5], params: [("lr", .number(0.1))])])),
            ("non-finite values", F.report([F.trial(1, "completed", [.nan, .infinity, -.infinity]),
                                            F.trial(2, "stopped", [.nan, 1, .infinity, 2], stop: ReportStop(rule: "median", message: "m"))])),
            ("all equal", F.report([F.trial(1, "completed", [1, 1, 1], params: [("x", .number(0))]),
                                    F.trial(2, "completed", [1, 1], params: [("x", .number(0))])],
                                   storage: ReportStorage(maxBytes: 0, changes: [StorageChange(time: F.t0, checkpoint: 1, bytes: 0, kind: .stored)]))),
            ("only infinities", F.report([F.trial(1, "failed", [.infinity, .infinity])])),
        ]
        for (label, report) in cases {
            let html = ReportPage(report: report).html()
            assertSound(html, label)
        }
        XCTAssertTrue(ReportPage(report: F.report([])).html().contains("No trial has reported a finite value"))
    }

    func testUserTextIsEscapedEverywhere() {
        let hostile = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>"
        let stop = ReportStop(rule: "user", message: hostile)
        var trial = F.trial(1, "stopped", [0.3, 0.2], params: [(hostile, .text(hostile)), ("lr", .number(0.1))], stop: stop)
        trial.storedCheckpoints = [ReportCheckpoint(step: 2, bytes: 10, digest: hostile, metric: 0.2)]
        var report = F.report([trial, F.trial(2, "completed", [0.4], params: [(hostile, .text("b")), ("lr", .number(1))])],
                              name: hostile)
        report.method = hostile
        report.counts = [StateCount(state: hostile, count: 1)]
        let html = ReportPage(report: report).html()
        assertSound(html, "hostile")
        XCTAssertTrue(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"), "the quote cannot close an attribute, the tag cannot open")
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
    }

    func testTheWholePageNamesEverySection() {
        let stop = ReportStop(rule: "hyperband", rungIteration: 1, threshold: 0.5, value: 0.9, message: "stopped at band 1")
        var best = F.trial(1, "completed", [0.6, 0.3], params: [("lr", .number(0.1))])
        best.storedCheckpoints = [ReportCheckpoint(step: 2, bytes: 2048, digest: String(repeating: "ab", count: 32), metric: 0.3)]
        let report = F.report([best, F.trial(2, "stopped", [0.9], params: [("lr", .number(0.001))], stop: stop)],
                              schedule: ReportSchedule(policy: "hyperband", brackets: [[1, 3]]),
                              storage: ReportStorage(maxBytes: 4096, changes: [StorageChange(time: F.t0.addingTimeInterval(5), checkpoint: 1, bytes: 2048, kind: .stored)]))
        let html = ReportPage(report: report).html()
        assertSound(html, "full")
        for heading in ["Learning curves", "Best so far against compute", "Parameters against the final metric", "Top trials",
                        "Brackets and rungs", "Storage over time"] {
            XCTAssertTrue(html.contains("<h2>\(heading)</h2>"), heading)
        }
        XCTAssertTrue(html.contains("step 2 · 2.0 KiB · <code>abababababab</code> · 0.3"), "the checkpoint fetch would give")
        XCTAssertTrue(html.contains("1 completed") || html.contains("2 completed"))
        XCTAssertTrue(html.contains("0.3 — trial 1 (#0)"), "the header names the best trial")
    }

    func testWallTimeEndsAtTheLastEventOfAFinishedSweep() {
        var late = F.trial(1, "failed", [1])
        late.endedAt = F.t0.addingTimeInterval(90)
        XCTAssertEqual(ReportHeader(report: F.report([late, F.trial(2, "completed", [1, 2])])).wallTime().seconds, 90)
        var open = F.report([F.trial(1, "running", [1])])
        open.state = "active"
        XCTAssertEqual(ReportHeader(report: open).wallTime().ongoing, true)
        XCTAssertEqual(ReportHeader(report: open).wallTime().seconds, 3600, "an open sweep runs to the report's making")
    }

    func testLongCurvesAreThinnedAndSaySo() {
        let long = F.trial(1, "completed", (0..<2000).map { 1 / Double($0 + 1) })
        let html = ReportPage(report: F.report([long])).html()
        XCTAssertTrue(html.contains("thinned to 500"))
        let curve = try! XCTUnwrap(html.range(of: "class=\"curve\" d=\"")).upperBound
        let d = html[curve...].prefix { $0 != "\"" }
        XCTAssertLessThanOrEqual(d.split(separator: " ").count / 2, 500)
        XCTAssertFalse(ReportPage(report: F.report([F.trial(1, "completed", [1, 2])])).html().contains("thinned"))
    }
}
