import Foundation
import XCTest

@testable import ThresherWorker

/// Real child processes, written as `/bin/sh -c` scripts.
final class TrialProcessTests: XCTestCase {
    func testLinesArriveInOrderExactlyOnce() async throws {
        let base = try temporaryBase(self)
        let script = #"i=1; while [ $i -le 300 ]; do printf '{"step": %d, "loss": %d.5}\n' $i $i >> "$THRESHER_METRICS_FILE"; i=$((i+1)); done"#
        let (exit, events) = await finish(try start(launch(shell(script)), base: base))
        XCTAssertEqual(exit, .completed)
        XCTAssertEqual(events.metrics.map(\.step), Array(1...300))
        XCTAssertEqual(events.metrics.last?["loss"], 300.5)
        XCTAssertEqual(events.refused, [])
    }

    func testEnvironmentFollowsTheContract() async throws {
        let base = try temporaryBase(self)
        var environment = ProcessInfo.processInfo.environment
        environment["THRESHER_RESUME_FROM"] = "/stale/checkpoint"
        environment["OMP_NUM_THREADS"] = "8"
        environment["KEPT_FROM_WORKER"] = "yes"
        let script = #"echo "$THRESHER_TRIAL_ID|$THRESHER_SWEEP_ID|$THRESHER_SEED|${THRESHER_RESUME_FROM-unset}|$OPENBLAS_NUM_THREADS|$OMP_NUM_THREADS|$KEPT_FROM_WORKER|$THRESHER_CHECKPOINT_DIR|$(cat "$THRESHER_METRICS_FILE" | wc -c)""#
        let process = try start(launch(shell(script), environment: environment), base: base, trial: "t-env")
        let (exit, _) = await finish(process)
        XCTAssertEqual(exit, .completed)
        let checkpoints = process.folder.checkpointDirectory
        let tail = await process.stdoutTail(1)
        XCTAssertEqual(tail, ["t-env|sweep-1|7|unset|1|1|yes|\(checkpoints)|0"])
        var isFolder: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoints, isDirectory: &isFolder) && isFolder.boolValue)
        let log = try String(contentsOfFile: process.folder.stdoutLog, encoding: .utf8)
        XCTAssertTrue(log.hasPrefix("t-env|"), log)
    }

    func testResumeVariableIsSetOnlyWhenResuming() async throws {
        let base = try temporaryBase(self)
        let process = try start(launch(shell(#"echo "${THRESHER_RESUME_FROM-unset}""#), resumeFrom: "/ckpt/step-4.safetensors"), base: base)
        _ = await finish(process)
        let tail = await process.stdoutTail(1)
        XCTAssertEqual(tail, ["/ckpt/step-4.safetensors"])
    }

    func testCheckpointsAreReportedBeforeTheirLines() async throws {
        let base = try temporaryBase(self)
        let script = #"""
        i=1; while [ $i -le 40 ]; do
          printf 'weights %d' $i > "$THRESHER_CHECKPOINT_DIR/.step-$i.tmp"
          mv "$THRESHER_CHECKPOINT_DIR/.step-$i.tmp" "$THRESHER_CHECKPOINT_DIR/step-$i.safetensors"
          printf '{"step": %d, "v": 1}\n' $i >> "$THRESHER_METRICS_FILE"
          i=$((i+1))
        done
        """#
        let (exit, events) = await finish(try start(launch(shell(script)), base: base))
        XCTAssertEqual(exit, .completed)
        XCTAssertEqual(events.metrics.map(\.step), Array(1...40))
        XCTAssertEqual(events.checkpoints.map(\.step).sorted(), Array(1...40), "each checkpoint reported once")
        for (index, event) in events.enumerated() {
            guard case .metrics(let line) = event else { continue }
            XCTAssertTrue(events[..<index].checkpoints.contains { $0.step == line.step }, "checkpoint \(line.step) after its line")
        }
    }

    func testOldCheckpointsAreReportedOnlyWhenRewritten() async throws {
        let base = try temporaryBase(self)
        let folder = try TrialFolder(base: base, trialID: "trial-1")
        try folder.create()
        for step in [3, 5] { try Data("old".utf8).write(to: URL(fileURLWithPath: folder.checkpointPath(step: step))) }
        // A resumed run in the same folder writes step 5 again (a new file renamed over the old one).
        let script = #"""
        D="$THRESHER_CHECKPOINT_DIR"
        printf new > "$D/.tmp"; mv "$D/.tmp" "$D/step-5.safetensors"; echo '{"step": 5}' >> "$THRESHER_METRICS_FILE"
        """#
        let (_, events) = await finish(try start(launch(shell(script)), base: base))
        XCTAssertEqual(events.checkpoints.map(\.step), [5])
        XCTAssertEqual(events.first, .checkpoint(TrialCheckpoint(step: 5, path: folder.checkpointPath(step: 5))))
    }

    func testPartialLineWaitsForItsNewline() async throws {
        let base = try temporaryBase(self)
        let script = #"printf '{"step": 1, "a"' >> "$THRESHER_METRICS_FILE"; sleep 0.5; printf ': 2}\n{"b": 3}\n' >> "$THRESHER_METRICS_FILE""#
        let (exit, events) = await finish(try start(launch(shell(script)), base: base))
        XCTAssertEqual(exit, .completed)
        XCTAssertEqual(events.metrics, [MetricLine(step: 1, values: [("a", 2)]), MetricLine(step: 2, values: [("b", 3)])])
        XCTAssertEqual(events.refused, [])
    }

    func testGarbageLinesAreCountedAndTheTrialGoesOn() async throws {
        let base = try temporaryBase(self)
        let script = #"""
        M="$THRESHER_METRICS_FILE"
        echo '{"step": 1, "a": 1}' >> "$M"
        echo 'epoch 1 done' >> "$M"
        echo '[1, 2, 3]' >> "$M"
        echo '{"step": 2, "phase": "eval"}' >> "$M"
        head -c 3000 /dev/zero | tr '\0' 'x' >> "$M"; echo >> "$M"
        printf '\377\376\n' >> "$M"
        echo '{"step": 3, "a": 3}' >> "$M"
        printf '{"step": 4, "a"' >> "$M"
        """#
        var options = launch(shell(script))
        options.maxMetricsLineBytes = 1024
        let process = try start(options, base: base)
        let (exit, events) = await finish(process)
        XCTAssertEqual(exit, .completed)
        XCTAssertEqual(events.metrics.map(\.step), [1, 3])
        XCTAssertEqual(events.refused.map(\.line), [2, 3, 4, 5, 6, 8])
        XCTAssertEqual(events.refused.map(\.reason), [
            .notAnObject, .notAnObject, .notNumeric(key: "phase"), .tooLong(limit: 1024), .notAnObject, .incompleteFinalLine,
        ])
        let count = await process.malformedLineCount
        XCTAssertEqual(count, 6)
    }

    func testCrashYieldsFailedWithTheStderrTail() async throws {
        let base = try temporaryBase(self)
        let script = #"echo '{"a": 1}' >> "$THRESHER_METRICS_FILE"; i=1; while [ $i -le 30 ]; do echo "trace line $i" >&2; i=$((i+1)); done; exit 3"#
        let (exit, events) = await finish(try start(launch(shell(script)), base: base))
        XCTAssertEqual(events.metrics.count, 1, "lines written before the crash still arrive")
        guard case let .failed(reason, status) = exit else { return XCTFail("\(exit)") }
        XCTAssertEqual(status, .exited(3))
        XCTAssertEqual(reason.split(separator: "\n").map(String.init), (11...30).map { "trace line \($0)" })
    }

    func testDeathBySignalIsAFailure() async throws {
        let base = try temporaryBase(self)
        let (exit, _) = await finish(try start(launch(shell("kill -SEGV $$")), base: base))
        guard case let .failed(reason, status) = exit else { return XCTFail("\(exit)") }
        XCTAssertEqual(status, .signaled(SIGSEGV))
        XCTAssertTrue(reason.contains("signal 11"), reason)
    }

    func testStopSendsSIGTERMFirst() async throws {
        let base = try temporaryBase(self)
        let script = #"trap 'echo "got TERM" >&2; exit 0' TERM; echo '{"ready": 1}' >> "$THRESHER_METRICS_FILE"; while :; do sleep 0.05; done"#
        let process = try start(launch(shell(script)), base: base)
        let watchdog = guardTimeout(process)
        var iterator = process.events.makeAsyncIterator()
        _ = await iterator.next()
        let exit = await process.stop(grace: .seconds(60))
        watchdog.cancel()
        XCTAssertEqual(exit, .stopped(killed: false))
        let tail = await process.stderrTail()
        XCTAssertEqual(tail.last, "got TERM", "\(tail)")
    }

    func testProgramIgnoringSIGTERMIsKilledAfterTheGrace() async throws {
        let base = try temporaryBase(self)
        let script = #"trap '' TERM; echo '{"ready": 1}' >> "$THRESHER_METRICS_FILE"; while :; do sleep 0.05; done"#
        let process = try start(launch(shell(script)), base: base)
        let watchdog = guardTimeout(process)
        var iterator = process.events.makeAsyncIterator()
        let ready = await iterator.next()
        XCTAssertEqual(ready, .metrics(MetricLine(step: 1, values: [("ready", 1)])))
        let exit = await process.stop(grace: .milliseconds(300))
        watchdog.cancel()
        XCTAssertEqual(exit, .stopped(killed: true))
        XCTAssertTrue(isGone(process.pid))
    }

    func testStopIsIdempotentAndConcurrentCallsAgree() async throws {
        let base = try temporaryBase(self)
        let script = #"trap '' TERM; echo '{"ready": 1}' >> "$THRESHER_METRICS_FILE"; while :; do sleep 0.05; done"#
        let process = try start(launch(shell(script)), base: base)
        let watchdog = guardTimeout(process)
        var iterator = process.events.makeAsyncIterator()
        _ = await iterator.next()
        async let first = process.stop(grace: .seconds(600))
        async let second = process.stop(grace: .milliseconds(200))  // brings the SIGKILL closer
        let results = await [first, second]
        watchdog.cancel()
        XCTAssertEqual(results, [.stopped(killed: true), .stopped(killed: true)])
        let again = await process.stop()
        XCTAssertEqual(again, .stopped(killed: true))
    }

    func testStopAfterTheProgramEndedKeepsItsEnding() async throws {
        let base = try temporaryBase(self)
        let process = try start(launch(["true"]), base: base)
        let (exit, _) = await finish(process)
        XCTAssertEqual(exit, .completed)
        let afterStop = await process.stop()
        XCTAssertEqual(afterStop, .completed)
    }

    func testChildrenDieWithTheGroupWhenStopped() async throws {
        let base = try temporaryBase(self)
        let script = #"sleep 100 & echo "{\"child\": $!}" >> "$THRESHER_METRICS_FILE"; wait"#
        let process = try start(launch(shell(script)), base: base)
        let watchdog = guardTimeout(process)
        var iterator = process.events.makeAsyncIterator()
        guard case .metrics(let line)? = await iterator.next(), let child = line["child"] else { return XCTFail("no child pid") }
        XCTAssertFalse(isGone(Int32(child)))
        let exit = await process.stop(grace: .seconds(60))
        watchdog.cancel()
        XCTAssertEqual(exit, .stopped(killed: false))
        let gone = await eventually { isGone(Int32(child)) }
        XCTAssertTrue(gone, "the program's child outlived the stop")
    }

    func testChildrenDieWhenTheProgramExitsOnItsOwn() async throws {
        let base = try temporaryBase(self)
        let script = #"sleep 100 & echo "{\"child\": $!}" >> "$THRESHER_METRICS_FILE"; exit 0"#
        let (exit, events) = await finish(try start(launch(shell(script)), base: base))
        XCTAssertEqual(exit, .completed)
        let child = try XCTUnwrap(events.metrics.first?["child"])
        let gone = await eventually { isGone(Int32(child)) }
        XCTAssertTrue(gone, "a background child was left running")
    }

    func testLogsAreBoundedAndKeepTheNewestOutput() async throws {
        let base = try temporaryBase(self)
        var options = launch(shell(#"i=1; while [ $i -le 3000 ]; do echo "line $i of output"; i=$((i+1)); done"#))
        options.logLimitBytes = 4096
        let process = try start(options, base: base)
        let (exit, _) = await finish(process)
        XCTAssertEqual(exit, .completed)
        let current = try Data(contentsOf: URL(fileURLWithPath: process.folder.stdoutLog))
        let previous = try Data(contentsOf: URL(fileURLWithPath: process.folder.stdoutLog + ".1"))
        XCTAssertLessThanOrEqual(current.count, 4096)
        XCTAssertEqual(previous.count, 4096, "a file is rotated when full")
        XCTAssertTrue(String(decoding: current, as: UTF8.self).hasSuffix("line 3000 of output\n"))
        let tail = await process.stdoutTail(2)
        XCTAssertEqual(tail, ["line 2999 of output", "line 3000 of output"])
    }

    func testStartErrors() throws {
        let base = try temporaryBase(self)
        XCTAssertThrowsError(try start(launch([]), base: base)) { XCTAssertEqual($0 as? TrialProcessError, .emptyCommand) }
        XCTAssertThrowsError(try start(launch(["no-such-program-thresher"]), base: base)) {
            XCTAssertEqual($0 as? TrialProcessError, .executableNotFound("no-such-program-thresher"))
        }
        XCTAssertThrowsError(try start(launch(["/nonexistent/prog"]), base: base)) {
            XCTAssertEqual($0 as? TrialProcessError, .spawnFailed(executable: "/nonexistent/prog", errno: ENOENT))
        }
        XCTAssertThrowsError(try start(launch(["/bin/echo", "a\0b"]), base: base)) {
            XCTAssertEqual($0 as? TrialProcessError, .nulByte("a\0b"))
        }
    }

    func testWorkingDirectoryIsHonoured() async throws {
        let base = try temporaryBase(self)
        var options = launch(["/bin/sh", "-c", "pwd"])
        options.workingDirectory = base
        let process = try start(options, base: base)
        _ = await finish(process)
        let tail = await process.stdoutTail(1)
        XCTAssertEqual(tail.first.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path },
                       URL(fileURLWithPath: base).resolvingSymlinksInPath().path)
    }
}

/// What the program inherits besides its environment.
final class TrialProcessInheritanceTests: XCTestCase {
    func testNoWorkerDescriptorLeaksIntoTheProgram() async throws {
        let base = try temporaryBase(self)
        // Deliberately without O_CLOEXEC: the spawn itself must close it.
        let leaky = open("/dev/null", O_RDONLY)
        defer { close(leaky) }
        XCTAssertGreaterThan(leaky, 2)
        // `test -e` is a shell builtin, so the check itself opens nothing.
        let script = "for fd in 0 1 2 \(leaky); do if [ -e /proc/$$/fd/$fd ]; then echo \"$fd open\"; else echo \"$fd closed\"; fi; done"
        let process = try start(launch(shell(script)), base: base)
        _ = await finish(process)
        let tail = await process.stdoutTail(4)
        XCTAssertEqual(tail, ["0 open", "1 open", "2 open", "\(leaky) closed"])
    }

    func testStdinIsEmptyAndSignalsStartAtTheirDefaults() async throws {
        let base = try temporaryBase(self)
        // SigBlk and SigIgn in /proc are hexadecimal masks, bit n-1 for signal n.
        let script = "cat; grep -E '^Sig(Blk|Ign)' /proc/$$/status | tr -s '\\t ' ' '"
        let process = try start(launch(shell(script)), base: base)
        let (exit, _) = await finish(process)
        XCTAssertEqual(exit, .completed, "cat read /dev/null to its end at once")
        let tail = await process.stdoutTail(2)
        XCTAssertEqual(tail.first, "SigBlk: 0000000000000000")
        let ignored = try XCTUnwrap(tail.last.flatMap { UInt64($0.replacingOccurrences(of: "SigIgn: ", with: ""), radix: 16) })
        // glibc's posix_spawn leaves its two internal signals (32, 33) ignored on purpose; every
        // ordinary signal — SIGTERM and SIGPIPE above all — must be at its default.
        XCTAssertEqual(ignored & 0x7FFF_FFFF, 0, String(ignored, radix: 16))
    }

    func testAPreviousLaunchsLogIsKeptAsTheRotatedFile() async throws {
        let base = try temporaryBase(self)
        _ = await finish(try start(launch(shell("echo first run")), base: base))
        let second = try start(launch(shell("echo second run")), base: base)
        _ = await finish(second)
        XCTAssertEqual(try String(contentsOfFile: second.folder.stdoutLog, encoding: .utf8), "second run\n")
        XCTAssertEqual(try String(contentsOfFile: second.folder.stdoutLog + ".1", encoding: .utf8), "first run\n")
    }
}
