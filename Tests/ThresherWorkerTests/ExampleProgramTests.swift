import Foundation
import XCTest

@testable import ThresherWorker

/// The documented Python example (Examples/train_linear.py) run for real under the worker.
final class ExampleProgramTests: XCTestCase {
    private func pythonArgv(_ arguments: [String]) throws -> [String] {
        guard let python = python3() else { throw XCTSkip("python3 is not installed; the Python example tests need it") }
        return [python, try exampleProgram()] + arguments
    }

    func testDocumentationShowsTheExampleVerbatim() throws {
        let docs = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/trial-programs.md")
        let markdown = try String(contentsOf: docs, encoding: .utf8)
        let file = try String(contentsOfFile: try exampleProgram(), encoding: .utf8)
        let fence = "```python\n"
        guard let open = markdown.range(of: fence),
              let close = markdown.range(of: "\n```\n", range: open.upperBound..<markdown.endIndex)
        else { return XCTFail("docs/trial-programs.md has no ```python block") }
        let block = String(markdown[open.upperBound..<close.lowerBound]) + "\n"
        XCTAssertEqual(block, file, "docs/trial-programs.md and Examples/train_linear.py have drifted apart")
    }

    func testRunsToCompletionWithEveryLineOnceInOrder() async throws {
        let base = try temporaryBase(self)
        let process = try start(launch(try pythonArgv(["--steps", "150", "--eval-every", "1"])), base: base)
        let (exit, events) = await finish(process)
        let stderr = await process.stderrTail()
        XCTAssertEqual(exit, .completed, "stderr: \(stderr)")
        XCTAssertEqual(events.metrics.map(\.step), Array(1...150))
        XCTAssertEqual(events.refused, [])
        let last = try XCTUnwrap(events.metrics.last)
        XCTAssertEqual(last.epoch, 50)
        XCTAssertEqual(last.values.map(\.name), ["train_loss", "val_loss", "w", "b"])
        let first = try XCTUnwrap(events.metrics.first?["val_loss"]), final = try XCTUnwrap(last["val_loss"])
        XCTAssertLessThan(final, first, "gradient descent lowers the validation loss")
        XCTAssertEqual(process.folder.checkpoints().map(\.step), Array(1...150))
        XCTAssertNotNil(process.folder.checkpoint(step: 150)?.metadataPath)
    }

    func testCheckpointsArriveBeforeTheirMetricsLines() async throws {
        let base = try temporaryBase(self)
        let (exit, events) = await finish(try start(launch(try pythonArgv(["--steps", "60", "--eval-every", "2"])), base: base))
        XCTAssertEqual(exit, .completed)
        XCTAssertEqual(events.metrics.map(\.step), Array(stride(from: 2, through: 60, by: 2)))
        for (index, event) in events.enumerated() {
            guard case .metrics(let line) = event else { continue }
            XCTAssertTrue(events[..<index].checkpoints.contains { $0.step == line.step }, "checkpoint \(line.step) after its line")
        }
        for checkpoint in events.checkpoints {
            XCTAssertEqual(checkpoint.metadataPath, try TrialFolder(base: base, trialID: "trial-1").metadataPath(step: checkpoint.step),
                           "the sidecar is written before the checkpoint")
        }
    }

    func testStopMidRunEndsWithinTheGraceLeavingACheckpoint() async throws {
        let base = try temporaryBase(self)
        let argv = try pythonArgv(["--steps", "100000", "--eval-every", "5", "--step-delay", "0.01"])
        let process = try start(launch(argv), base: base)
        let watchdog = guardTimeout(process)
        var iterator = process.events.makeAsyncIterator()
        var sawMetrics = false
        while let event = await iterator.next() {
            if case .metrics = event { sawMetrics = true; break }
        }
        XCTAssertTrue(sawMetrics)
        let exit = await process.stop(grace: .seconds(60))
        watchdog.cancel()
        XCTAssertEqual(exit, .stopped(killed: false), "the example should finish its checkpoint and exit on SIGTERM")
        var rest: [TrialEvent] = []
        while let event = await iterator.next() { rest.append(event) }
        let tail = await process.stderrTail()
        let stoppedAt = try XCTUnwrap(tail.last.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) }, "\(tail)")
        XCTAssertNotNil(process.folder.checkpoint(step: stoppedAt), "a checkpoint of the step it stopped at")
        XCTAssertEqual(rest.metrics.last?.step ?? stoppedAt, stoppedAt)
    }

    func testResumeContinuesFromTheCheckpointsStep() async throws {
        let base = try temporaryBase(self)
        let argv = try pythonArgv(["--steps", "12", "--eval-every", "3"])
        let original = try start(launch(argv), base: base, trial: "original")
        let (firstExit, firstEvents) = await finish(original)
        XCTAssertEqual(firstExit, .completed)
        let resumePoint = try XCTUnwrap(original.folder.checkpoint(step: 6))

        let resumed = try start(launch(argv, resumeFrom: resumePoint.path), base: base, trial: "resumed")
        let (secondExit, secondEvents) = await finish(resumed)
        let notes = await resumed.stderrTail()
        XCTAssertEqual(secondExit, .completed, "stderr: \(notes)")
        XCTAssertEqual(secondEvents.metrics.map(\.step), [9, 12])
        XCTAssertEqual(secondEvents.metrics, firstEvents.metrics.filter { $0.step > 6 },
                       "same seed and same state: the resumed run retraces the original exactly")
        XCTAssertEqual(notes, ["resumed from step 6"])
    }
}
