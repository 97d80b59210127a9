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

    /// `thresher run` killed outright (SIGKILL: no chance to stop anything) leaves no worker and no
    /// trial program behind: its workers run with --exit-with-parent and stop their trials.
    func testAKilledRunLeavesNoWorkerOrTrialBehind() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-orphans-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        try ClientCommandTests.program.write(toFile: folder + "/train.py", atomically: true, encoding: .utf8)
        try """
            program: train.py
            method: grid
            metric: {name: loss, goal: minimize}
            command: [python3, "${program}", "${args}"]
            parameters:
              lr: {values: [0.1, 0.2, 0.3]}
              steps: {value: 400}
              delay: {value: 0.5}
            """.write(toFile: folder + "/slow.yaml", atomically: true, encoding: .utf8)
        let run = try ThresherProcess.spawn(["run", "slow.yaml", "--workers", "2", "--state", folder + "/state"],
                                            in: folder, log: folder + "/run.log", for: self)
        let workerID = "local-\(run.processIdentifier)-"
        func workers() -> [pid_t] { Self.processes { $0.cmdline.contains(workerID) } }
        // Local workers start trial programs in the run's folder (as W&B's agent does).
        func trials() -> [pid_t] { Self.processes { $0.cmdline.contains("train.py") && $0.cwd == folder } }
        XCTAssertTrue(eventually(seconds: 60) { workers().count == 2 && !trials().isEmpty },
                      "the run's workers and a trial program start: \((try? String(contentsOfFile: folder + "/run.log", encoding: .utf8)) ?? "")")
        kill(run.processIdentifier, SIGKILL)
        run.waitUntilExit()
        XCTAssertTrue(eventually(seconds: 60) { workers().isEmpty && trials().isEmpty },
                      "still running: workers \(workers()), trial programs \(trials())")
    }

    /// Processes visible in /proc that `matches` selects (command line NUL-joined with spaces, cwd).
    static func processes(_ matches: ((cmdline: String, cwd: String)) -> Bool) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { name -> pid_t? in
            guard let pid = pid_t(name),
                  let data = FileManager.default.contents(atPath: "/proc/\(name)/cmdline"), !data.isEmpty else { return nil }
            let cmdline = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            let cwd = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(name)/cwd")) ?? ""
            return matches((cmdline, cwd)) ? pid : nil
        }
    }
}
