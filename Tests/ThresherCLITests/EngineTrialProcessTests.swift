import Foundation
import ThresherWorker
import XCTest

/// The worker's runner and the engine together: trial 0 of examples/digits-mlp.yaml, as
/// `sweep expand --programs` gives it, run by `TrialProcess` exactly as a worker will run it.
final class EngineTrialProcessTests: XCTestCase {
    private func digitsTrialArgv(index: Int) throws -> [String] {
        let data = ThresherProcess.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data/digits/digits.csv.gz")
        guard FileManager.default.fileExists(atPath: data.path) else {
            throw XCTSkip("engine trial process: ../shared/data/digits is not here")
        }
        let expand = try ThresherProcess.run(["sweep", "expand", "examples/digits-mlp.yaml", "--json", "--programs",
                                              "--count", String(index + 1)])
        XCTAssertEqual(expand.status, 0, expand.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(try XCTUnwrap(expand.lines.last).utf8)) as? [String: Any]
        return try XCTUnwrap(object?["argv"] as? [String])
    }

    private func collect(_ process: TrialProcess) async -> (TrialExit, [TrialEvent]) {
        var events: [TrialEvent] = []
        for await event in process.events { events.append(event) }
        return (await process.wait(), events)
    }

    func testEngineTrialStreamsEveryEpochWithItsCheckpointFirst() async throws {
        let argv = try digitsTrialArgv(index: 0)
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-engine-trial-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: base) }
        let folder = try TrialFolder(base: base, trialID: "trial-0")
        let process = try TrialProcess.start(TrialLaunch(argv: argv, sweepID: "digits", seed: 0), in: folder)
        let (exit, events) = await collect(process)
        let stderr = await process.stderrTail(20).joined(separator: "\n")
        XCTAssertEqual(exit, .completed, stderr)
        var lines: [MetricLine] = [], checkpointSteps: Set<Int> = []
        for event in events {
            switch event {
            case .metrics(let line):
                if line["val_balanced_accuracy"] != nil {
                    XCTAssertTrue(checkpointSteps.contains(line.step), "step \(line.step)'s checkpoint came after its line")
                }
                lines.append(line)
            case .checkpoint(let checkpoint): checkpointSteps.insert(checkpoint.step)
            case .malformedLine(let error): XCTFail("thresher train wrote a line the worker refuses: \(error)")
            }
        }
        let evaluations = lines.filter { $0["val_balanced_accuracy"] != nil }
        XCTAssertEqual(evaluations.count, 27, "one line per epoch")
        XCTAssertEqual(evaluations.map { Int($0.epoch ?? 0) }, Array(1...27))
        XCTAssertEqual(Set(folder.checkpoints().map(\.step)), Set(evaluations.map(\.step)))
        XCTAssertNotNil(lines.last?["test_accuracy"], "the last line is the test split's")
    }

    /// A stop verdict mid-run: SIGTERM reaches `thresher train`, which dies (its checkpoints are
    /// atomic, so whatever is on disk is whole), and the trial ends as stopped.
    func testStoppingAnEngineTrial() async throws {
        var argv = try digitsTrialArgv(index: 1)
        if let i = argv.firstIndex(of: "--epochs") { argv[i + 1] = "100000" }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-engine-stop-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: base) }
        let folder = try TrialFolder(base: base, trialID: "trial-1")
        let process = try TrialProcess.start(TrialLaunch(argv: argv, sweepID: "digits", seed: 1, stopGrace: .seconds(5)), in: folder)
        for await event in process.events {
            if case .metrics = event { break }
        }
        let exit = await process.stop()
        guard case .stopped = exit else { return XCTFail("expected stopped, got \(exit)") }
        for checkpoint in folder.checkpoints() {
            XCTAssertNoThrow(try Data(contentsOf: URL(fileURLWithPath: checkpoint.path)), "checkpoint \(checkpoint.step) readable")
        }
    }
}
