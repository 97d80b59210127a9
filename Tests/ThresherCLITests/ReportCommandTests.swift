import Foundation
import ThresherReport
import ThresherStore
import XCTest

/// `thresher report` on a real sweep (the command-trial example: 12 logistic regressions, hyperband,
/// checkpoints under a 10 MB budget), and the report rendered by headless Chromium.
final class ReportCommandTests: XCTestCase {
    private static let breastCancer = ThresherProcess.repositoryRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/data/digits/breast_cancer.csv")

    private func temporaryFolder(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    func testReportOfAHyperbandSweepShowsItAndChromiumRendersIt() throws {
        guard FileManager.default.fileExists(atPath: Self.breastCancer.path) else {
            throw XCTSkip("report: ../shared/data/digits/breast_cancer.csv is not here for the example sweep")
        }
        let state = try temporaryFolder("report")
        let run = try ThresherProcess.run(["run", "examples/command-trial.yaml", "--workers", "2", "--state", state.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let out = state.appendingPathComponent("report.html")
        let report = try ThresherProcess.run(["report", "command-trial", "--state", state.path, "--out", out.path])
        XCTAssertEqual(report.status, 0, report.stderr)
        let html = try String(contentsOf: out, encoding: .utf8)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: state.path).filter { $0.hasSuffix(".tmp") }, [],
                       "the temporary file was renamed")

        // What the store says, through the commands that already read it.
        let status = try ThresherProcess.run(["status", "command-trial", "--state", state.path, "--json"])
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let trials = try XCTUnwrap(document["trials"] as? [[String: Any]])
        let stopped = trials.filter { $0["state"] as? String == "stopped" }.count
        XCTAssertGreaterThan(stopped, 0, "hyperband stops some trials")
        XCTAssertEqual(count("<g class=\"trial ", in: html), 12, "one curve per trial")
        XCTAssertEqual(count("class=\"cut\"", in: html), stopped, "every stopped trial is cut, no other")
        XCTAssertEqual(count("class=\"pc-line\"", in: html), 12)
        XCTAssertTrue(html.contains("<b>hyperband</b>; \(stopped) trial(s) stopped early"), "the rung table")
        XCTAssertTrue(html.contains("<td>3</td><td>12</td>"), "all 12 trials reached the first band (iteration 3)")
        XCTAssertTrue(html.contains("Budget (<code>retention.max_bytes</code>): 9.5 MiB"))
        XCTAssertTrue(html.contains("class=\"storage\""))
        XCTAssertEqual(count("http://", in: html), count("xmlns=\"http://www.w3.org/2000/svg\"", in: html))
        XCTAssertFalse(html.contains("https://"))
        // The best checkpoint `thresher fetch` writes is the one the top-trials table lists.
        let fetched = try ThresherProcess.run(["fetch", "command-trial", "--state", state.path, "--out", state.appendingPathComponent("best").path])
        XCTAssertEqual(fetched.status, 0, fetched.stderr)
        let digest = try XCTUnwrap(fetched.stdout.components(separatedBy: "sha256 ").last?.prefix(12))
        XCTAssertTrue(html.contains("<code>\(digest)</code>"), "\(digest) in the top trials")

        // A bad sweep: exit 2, a clear message, no file.
        let missing = state.appendingPathComponent("missing.html")
        let bad = try ThresherProcess.run(["report", "nope", "--state", state.path, "--out", missing.path])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("no sweep nope"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing.path))

        // Chromium renders it, tall and not blank, with nothing on the console.
        let chromium = try HeadlessChromium.installed()
        let rendered = try chromium.screenshot(out)
        XCTAssertEqual(rendered.consoleLines, [], "the report loads without console messages")
        let size = try XCTUnwrap(PNGHeader.size(rendered.png), "a PNG")
        XCTAssertEqual(size.width, 1280)
        XCTAssertEqual(size.height, 4000)
        let blankPage = state.appendingPathComponent("blank.html")
        try "<!DOCTYPE html><html><body></body></html>".write(to: blankPage, atomically: true, encoding: .utf8)
        let blank = try chromium.screenshot(blankPage)
        XCTAssertEqual(PNGHeader.size(blank.png)?.height, 4000)
        XCTAssertGreaterThan(rendered.png.count, 5 * blank.png.count,
                             "the report's PNG (\(rendered.png.count) B) holds far more than a blank page's (\(blank.png.count) B)")
    }

    func testBadStateOrOutIsExitTwoAndAnEmptySweepRenders() throws {
        let folder = try temporaryFolder("report-missing")
        let missing = try ThresherProcess.run(["report", "1", "--state", folder.appendingPathComponent("none").path,
                                               "--out", folder.appendingPathComponent("r.html").path])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("no Thresher state"), missing.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [], "nothing written")

        // A sweep with no trial yet renders; an --out in a folder that does not exist is refused.
        let store = try SweepStore(path: folder.appendingPathComponent("thresher.sqlite").path)
        _ = try store.createSweep(name: "empty", spec: "method: random\nmetric: {name: loss}\nparameters: {x: {min: 0.0, max: 1.0}}\n",
                                  seed: 1, now: Date())
        try store.close()
        let unwritable = try ThresherProcess.run(["report", "empty", "--state", folder.path,
                                                  "--out", folder.appendingPathComponent("no/such/r.html").path])
        XCTAssertEqual(unwritable.status, 2)
        XCTAssertTrue(unwritable.stderr.contains("cannot write"), unwritable.stderr)
        let out = folder.appendingPathComponent("empty.html")
        let empty = try ThresherProcess.run(["report", "empty", "--state", folder.path, "--out", out.path])
        XCTAssertEqual(empty.status, 0, empty.stderr)
        XCTAssertTrue(try String(contentsOf: out, encoding: .utf8).contains("No trial has reported a finite value"))
    }

    /// The console check can fail: a page with an uncaught script error and an SVG path holding NaN
    /// (what a renderer bug would write) is caught on both counts.
    func testTheConsoleCheckSeesADeliberateError() throws {
        let chromium = try HeadlessChromium.installed()
        let folder = try temporaryFolder("chromium-proof")
        let page = folder.appendingPathComponent("broken.html")
        try """
            <!DOCTYPE html><html><body><p>broken on purpose</p>
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><path d="M nan 0 L 1 1"/></svg>
            <script>undefinedFunction();</script></body></html>
            """.write(to: page, atomically: true, encoding: .utf8)
        let rendered = try chromium.screenshot(page, width: 800, height: 600)
        XCTAssertTrue(rendered.consoleLines.contains { $0.contains("Uncaught ReferenceError: undefinedFunction") }, rendered.stderr)
        XCTAssertTrue(rendered.consoleLines.contains { $0.contains("attribute d: Expected number") }, rendered.stderr)
    }

    /// A degenerate sweep with hostile names (no values, NaN and infinities, markup in the name and
    /// parameters) loads without a console message: no broken SVG, no injected script.
    func testADegenerateHostileReportLoadsCleanly() throws {
        let chromium = try HeadlessChromium.installed()
        let folder = try temporaryFolder("chromium-degenerate")
        let hostile = "<script>undefinedFunction()</script>\"'"
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        func points(_ values: [Double]) -> [CurvePoint] {
            values.enumerated().map { CurvePoint(step: Int64($0.offset), value: $0.element, storedAt: t0.addingTimeInterval(Double($0.offset))) }
        }
        let report = SweepReport(
            sweepID: 7, name: hostile, method: "random", state: "active", metric: hostile, goal: .maximize, createdAt: t0,
            generatedAt: t0.addingTimeInterval(60), counts: [StateCount(state: "running", count: 3)],
            trials: [
                ReportTrial(id: 1, index: 0, state: "running", params: [(hostile, .text(hostile))], curve: points([.nan, .infinity])),
                ReportTrial(id: 2, index: 1, state: "stopped", params: [(hostile, .text("x"))], curve: points([1, 1, 1]),
                            stop: ReportStop(rule: "median", message: hostile)),
                ReportTrial(id: 3, index: 2, state: "failed", params: [], curve: [], lastError: hostile),
            ],
            schedule: ReportSchedule(policy: "median", brackets: []),
            storage: ReportStorage(maxBytes: 0, changes: []))
        let page = folder.appendingPathComponent("degenerate.html")
        try ReportPage(report: report).html().write(to: page, atomically: true, encoding: .utf8)
        let rendered = try chromium.screenshot(page, width: 1280, height: 2000)
        XCTAssertEqual(rendered.consoleLines, [])
        XCTAssertEqual(PNGHeader.size(rendered.png)?.width, 1280)
    }
}
