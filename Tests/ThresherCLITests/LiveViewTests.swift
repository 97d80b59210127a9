import Foundation
import XCTest

/// `thresher run`'s live view as its three audiences get it, on a real 12-trial hyperband sweep
/// (examples/command-trial.yaml, two local workers): a terminal, a pipe, and a script with --json.
final class LiveViewTests: XCTestCase {
    private func state() throws -> String {
        let data = ThresherProcess.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data/digits/breast_cancer.csv")
        guard FileManager.default.fileExists(atPath: data.path) else {
            throw XCTSkip("examples/command-trial.yaml reads ../shared/data/digits/breast_cancer.csv, which is not here")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-live-\(UUID().uuidString)").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        return folder
    }

    func testATerminalGetsTheTableRedrawnInPlace() throws {
        let run = try ThresherProcess.runOnTerminal(["run", "examples/command-trial.yaml", "--workers", "2", "--state", try state()],
                                                    columns: 120, rows: 30)
        XCTAssertEqual(run.status, 0, run.stdout)
        let frames = run.stdout.components(separatedBy: "\u{1B}[?2026h").dropFirst()
        XCTAssertGreaterThan(frames.count, 1, "a redraw at least once: \(run.stdout)")
        // Every frame after the first moves the cursor back up over the one before; none clears the screen.
        XCTAssertTrue(frames.dropFirst().allSatisfy { $0.contains("A\r") }, run.stdout)
        XCTAssertFalse(run.stdout.contains("\u{1B}[2J"))
        let last = try XCTUnwrap(frames.last)
        XCTAssertTrue(last.contains("12/12 trials ended") && last.contains("100%") && last.contains("rung"), last)
        XCTAssertTrue(last.contains("r1/2") || last.contains("r2/2"), "hyperband bands 3 and 9 reached: \(last)")
        XCTAssertTrue(run.stdout.contains("\u{1B}[?25h"), "the cursor comes back")
        XCTAssertTrue(run.stdout.contains("checkpoint 1: "), run.stdout)
        XCTAssertTrue(run.stdout.contains("report: "), run.stdout)
    }

    func testAScriptGetsJSONEvents() throws {
        let folder = try state()
        let run = try ThresherProcess.run(["run", "examples/command-trial.yaml", "--workers", "2", "--state", folder, "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let events = try run.lines.map { line in
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
        let ended = events.filter { $0["event"] as? String == "trial" && ["completed", "stopped"].contains($0["state"] as? String) }
        XCTAssertEqual(Set(ended.compactMap { $0["trial"] as? Int }), Set(1...12), "every trial's end, once each")
        XCTAssertEqual(ended.count, 12)
        XCTAssertTrue(ended.allSatisfy { ($0["rungs"] as? [Int]) == [3, 9] }, "\(ended)")
        let progress = events.filter { $0["event"] as? String == "progress" }
        XCTAssertEqual(progress.last?["total_trials"] as? Int, 12)
        let finished = try XCTUnwrap(events.last)
        XCTAssertEqual(finished["event"] as? String, "finished")
        let best = try XCTUnwrap(finished["best"] as? [String: Any])
        let checkpoint = try XCTUnwrap((finished["checkpoints"] as? [[String: Any]])?.first)
        XCTAssertEqual(checkpoint["trial"] as? Int, best["trial"] as? Int)
        XCTAssertTrue(FileManager.default.fileExists(atPath: try XCTUnwrap(checkpoint["path"] as? String)))
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/coordinator.log"), "the coordinator's log is in the state folder")
        // The sweep's report is written beside its state at the end.
        XCTAssertEqual(finished["report"] as? String, folder + "/report.html")
        let page = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
        XCTAssertTrue(page.contains("<svg") && page.contains("command-trial"), String(page.prefix(300)))
    }
}
