import Foundation
import XCTest
import ThresherWire
@testable import ThresherWorker

/// The agent's lifecycle against the scripted coordinator: lost leases, cancellation, draining,
/// pruning, and the Python example program run as a real trial.
final class WorkerAgentLifecycleTests: AgentTestCase {

    /// A program that records its pid, then writes a line every 50 ms until stopped.
    private func endlessScript(pidFile: String) -> [String] {
        shell("echo $$ > '\(pidFile)'; trap 'exit 0' TERM; " + linesScript(1_000_000, delay: "0.05"))
    }

    private func isAlive(_ pidFile: String) throws -> Bool {
        let text = try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let pid = try XCTUnwrap(Int32(text))
        return kill(pid, 0) == 0
    }

    func testStaleLeaseStopsTheProgramAndForgetsTheTrial() async throws {
        let fake = try XCTUnwrap(coordinator)
        let pidFile = base + "/pid"
        fake.state.withLock { s in
            s.assignments = [assignment(11, runMap(endlessScript(pidFile: pidFile)))]
            s.onReport = { report, s in if report.seq == 2 { s.staleTrials.insert(report.trialID) } }
        }
        let agent = try start(slots: 1)
        guard await eventually("the trial to be forgotten", {
            let held = await agent.heldTrials
            return fake.snapshot.reports[11]?[2] != nil && held.isEmpty
        }) else { return }
        // The trial is forgotten at once; its program is stopped by a task started then (SIGTERM,
        // the shell's trap, the reap), so its end is awaited rather than expected at the same instant.
        guard await eventually("the program to be stopped", { !((try? self.isAlive(pidFile)) ?? true) }) else { return }
        let before = fake.snapshot.requests.filter { $0.trialID == 11 }.count
        try await Task.sleep(for: .milliseconds(500))
        let state = fake.snapshot
        XCTAssertEqual(state.requests.filter { $0.trialID == 11 }.count, before, "nothing more is sent about a lost trial")
        XCTAssertEqual(state.done, [])
        XCTAssertEqual(state.failed, [])
    }

    func testCancellingTheAgentStopsItsProgramsAndSendsNoEnding() async throws {
        let fake = try XCTUnwrap(coordinator)
        let pidFile = base + "/pid"
        fake.state.withLock { s in s.assignments = [assignment(12, runMap(endlessScript(pidFile: pidFile)))] }
        _ = try start(slots: 1)
        guard await eventually("a report", { fake.snapshot.reports[12]?[1] != nil }) else { return }
        running?.cancel()
        await running?.value
        XCTAssertFalse(try isAlive(pidFile), "run() returns only once the program is gone")
        XCTAssertEqual(fake.snapshot.done, [])
        XCTAssertEqual(fake.snapshot.failed, [])
    }

    func testDrainLetsRunningTrialsFinishAndTakesNoMore() async throws {
        let fake = try XCTUnwrap(coordinator)
        fake.state.withLock { s in
            s.assignments = [assignment(13, runMap(shell(linesScript(20, delay: "0.05")))),
                             assignment(14, runMap(shell(linesScript(3))))]
        }
        let agent = try start(slots: 1)
        guard await eventually("the first trial to run", { await !agent.heldTrials.isEmpty }) else { return }
        await agent.drain()
        await running?.value
        let state = fake.snapshot
        XCTAssertEqual(state.done.map(\.trialID), [13])
        XCTAssertEqual(fake.records(of: 13).records.count, 20)
        XCTAssertEqual(state.assignments.map(\.trialID), [14], "the second trial was never asked for")
    }

    func testUploadAskedWithAStopStillCompletesAfterTheLeaseEnds() async throws {
        let fake = try XCTUnwrap(coordinator)
        let script = """
            trap 'exit 0' TERM
            head -c 20000 /dev/urandom > "$THRESHER_CHECKPOINT_DIR/.tmp" && mv "$THRESHER_CHECKPOINT_DIR/.tmp" "$THRESHER_CHECKPOINT_DIR/step-1.safetensors"
            \(linesScript(1_000_000, delay: "0.02"))
            """
        fake.state.withLock { s in
            s.assignments = [assignment(16, runMap(shell(script)))]
            s.onReport = { report, s in
                guard report.batch.records.contains(where: { $0.step == 1 && $0.name == "loss" }) else { return }
                s.verdicts = [TrialVerdict(trialID: 16, verdict: .upload(step: 1)), TrialVerdict(trialID: 16, verdict: .stop(reason: "test"))]
                s.stoppedTrials.insert(16)
            }
        }
        let agent = try WorkerAgent(options: agentOptions(url: fake.url, base: base + "/trials", slots: 1, chunkBytes: 1000))
        running = Task { await agent.run() }
        guard await eventually("the trial to end", {
            let held = await agent.heldTrials
            return fake.snapshot.stoppedTrials.contains(16) && held.isEmpty
        }) else { return }
        let state = fake.snapshot
        let upload = try XCTUnwrap(state.uploads["16@1"])
        XCTAssertTrue(upload.complete)
        XCTAssertEqual(upload.bytes.count, 20000)
        XCTAssertEqual(state.done, [])
        XCTAssertEqual(state.failed, [])
    }

    func testRunningTrialKeepsOnlyItsLatestCheckpointOnceTheOthersAreAcknowledged() async throws {
        let fake = try XCTUnwrap(coordinator)
        var script = "trap 'exit 0' TERM; d=\"$THRESHER_CHECKPOINT_DIR\"; "
        for step in 1...3 {
            script += "echo \(step) > \"$d/.t\" && mv \"$d/.t\" \"$d/step-\(step).safetensors\"; "
            script += "printf '{\"step\": \(step), \"loss\": 1}\\n' >> \"$THRESHER_METRICS_FILE\"; sleep 0.1; "
        }
        script += "while true; do sleep 0.05; done"
        fake.state.withLock { s in s.assignments = [assignment(17, runMap(shell(script)))] }
        let agent = try start(slots: 1)
        let folder = try TrialFolder(base: base + "/trials", trialID: "trial-17")
        guard await eventually("the line of step 3 acknowledged and older checkpoints pruned", {
            fake.records(of: 17).records.contains { $0.step == 3 && $0.name == "loss" } && folder.checkpoints().map(\.step) == [3]
        }) else { return }
        let held = await agent.heldTrials
        XCTAssertEqual(held.map(\.trialID), [17], "pruned while the trial still runs")
        XCTAssertEqual(held.first?.step, 3)
    }

    func testPythonExampleUnderTheAgentUploadsWhatIsAskedAndKeepsOnlyTheLatestCheckpoint() async throws {
        guard let python = python3() else { throw XCTSkip("python3 is not installed; the Python example tests need it") }
        let program = try exampleProgram()
        let fake = try XCTUnwrap(coordinator)
        fake.state.withLock { s in
            s.assignments = (21...22).map { assignment(UInt64($0), runMap([python, program, "--steps", "12", "--eval-every", "3",
                                                                          "--step-delay", "0.02"], seed: Int64($0))) }
            s.onReport = { report, s in
                if report.trialID == 21, report.batch.records.contains(where: { $0.step == 6 }) {
                    s.verdicts.append(TrialVerdict(trialID: 21, verdict: .upload(step: 6)))
                }
            }
        }
        _ = try start(slots: 2)
        guard await eventually("two Done", { fake.snapshot.done.count == 2 }) else { return }
        let state = fake.snapshot
        for trial in UInt64(21)...22 {
            let (seqs, records) = fake.records(of: trial)
            XCTAssertEqual(seqs, Array(1...UInt64(seqs.count)))
            XCTAssertEqual(records.filter { $0.name == "val_loss" }.map(\.step), [3, 6, 9, 12])
            XCTAssertEqual(Set(records.map(\.name)), ["epoch", "train_loss", "val_loss", "w", "b", WorkerMetric.checkpointBytes])
            // Each checkpoint is announced (with its size) before the line of its step.
            let announced = records.enumerated().filter { $0.element.name == WorkerMetric.checkpointBytes }
            XCTAssertEqual(announced.map(\.element.step), [3, 6, 9, 12])
            for (index, record) in announced {
                XCTAssertGreaterThan(record.value, 0)
                XCTAssertFalse(records[..<index].contains { $0.step == record.step && $0.name == "val_loss" })
            }
            let done = try XCTUnwrap(state.done.first { $0.trialID == trial })
            XCTAssertEqual(done.finalStep, 12)
            XCTAssertEqual(done.finalMetrics.map(\.name), ["train_loss", "val_loss", "w", "b"])
            let folder = try TrialFolder(base: base + "/trials", trialID: "trial-\(trial)")
            XCTAssertEqual(folder.checkpoints().map(\.step), [12], "a finished trial keeps only its latest checkpoint")
        }
        let upload = try XCTUnwrap(state.uploads["21@6"])
        XCTAssertTrue(upload.complete, "the digest matched the bytes")
        // A safetensors file: 8-byte header size, then a JSON header naming step 6.
        let headerSize = upload.bytes.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
        let header = String(decoding: upload.bytes.dropFirst(8).prefix(headerSize), as: UTF8.self)
        XCTAssertTrue(header.contains(#""step":"6""#), header)
    }
}
