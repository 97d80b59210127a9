import Foundation
import XCTest
import ThresherWire
@testable import ThresherWorker

/// The worker agent end to end: real NNG sockets to a scripted coordinator, real trial programs.
final class WorkerAgentTests: AgentTestCase {

    private func expectedLines(_ count: Int) -> [MetricRecord] {
        (1...count).map { MetricRecord(step: Int64($0), name: "loss", value: Double($0) + 0.5) }
    }

    func testThreeTrialsOnTwoSlotsRunToCompletionWithEveryMetricOnceInOrder() async throws {
        let fake = try XCTUnwrap(coordinator)
        fake.state.withLock { s in
            s.assignments = (1...3).map { assignment(UInt64($0), runMap(shell(linesScript(10 + $0)))) }
        }
        let agent = try start(slots: 2)
        guard await eventually("three Done", { fake.snapshot.done.count == 3 }) else { return }
        let held = await agent.heldTrials
        XCTAssertTrue(held.count <= 2)
        let state = fake.snapshot
        XCTAssertEqual(Set(state.done.map(\.trialID)), [1, 2, 3])
        XCTAssertEqual(state.failed, [])
        for trial in UInt64(1)...3 {
            let (seqs, records) = fake.records(of: trial)
            XCTAssertEqual(seqs, Array(1...UInt64(seqs.count)), "trial \(trial): seqs without gaps")
            XCTAssertEqual(records, expectedLines(10 + Int(trial)), "trial \(trial): every line once, in order")
            let done = try XCTUnwrap(state.done.first { $0.trialID == trial })
            XCTAssertEqual(done.finalStep, Int64(10 + trial))
            XCTAssertEqual(done.finalMetrics, [MetricRecord(step: Int64(10 + trial), name: "loss", value: Double(10 + trial) + 0.5)])
            // Done comes after the trial's last report.
            let doneIndex = state.requests.firstIndex { if case .done(let d) = $0 { d.trialID == trial } else { false } }
            let lastReport = state.requests.lastIndex { if case .report(let r) = $0 { r.trialID == trial } else { false } }
            XCTAssertLessThan(try XCTUnwrap(lastReport), try XCTUnwrap(doneIndex))
        }
        // Never more than two trials asked for or held at once.
        for case .requestTrial(let request) in state.requests { XCTAssertLessThanOrEqual(request.freeSlots, 2) }
    }

    func testStopVerdictEndsTheTrialWithinTheGraceAndNoDoneFollows() async throws {
        let fake = try XCTUnwrap(coordinator)
        let script = "trap 'exit 3' TERM; " + linesScript(100_000, delay: "0.05")
        fake.state.withLock { s in
            s.assignments = [assignment(5, runMap(shell(script)))]
            s.onReport = { report, s in
                if report.seq == 2 { s.verdicts.append(TrialVerdict(trialID: report.trialID, verdict: .stop(reason: "test"))) }
            }
        }
        let agent = try start(slots: 1)
        guard await eventually("the second report", { fake.snapshot.reports[5]?[2] != nil }) else { return }
        let stopAsked = ContinuousClock.now
        guard await eventually("the trial to end", { await agent.heldTrials.isEmpty }) else { return }
        // The grace is 5 s; the program honours SIGTERM at once.
        XCTAssertLessThan(ContinuousClock.now - stopAsked, .seconds(5) + .seconds(3))
        try await Task.sleep(for: .milliseconds(600))
        let state = fake.snapshot
        XCTAssertEqual(state.done, [])
        XCTAssertEqual(state.failed, [])
        let (seqs, records) = fake.records(of: 5)
        XCTAssertEqual(seqs, Array(1...UInt64(seqs.count)))
        XCTAssertEqual(records, expectedLines(records.count), "pending lines were still reported, in order")
    }

    func testUploadVerdictSendsTheCheckpointInResumableChunks() async throws {
        let fake = try XCTUnwrap(coordinator)
        let script = """
            head -c 10000 /dev/urandom > "$THRESHER_CHECKPOINT_DIR/.tmp" && mv "$THRESHER_CHECKPOINT_DIR/.tmp" "$THRESHER_CHECKPOINT_DIR/step-1.safetensors"
            printf '{"step": 1, "loss": 1.5}\\n' >> "$THRESHER_METRICS_FILE"
            sleep 0.5
            """
        fake.state.withLock { s in
            s.assignments = [assignment(9, runMap(shell(script)))]
            s.rewindOnce = true
            s.onReport = { report, s in
                if report.batch.records.contains(where: { $0.step == 1 }) {
                    s.verdicts.append(TrialVerdict(trialID: report.trialID, verdict: .upload(step: 1)))
                }
            }
        }
        _ = try start(slots: 1, chunkBytes: 3000)
        guard await eventually("the upload and Done", { fake.snapshot.uploads["9@1"]?.complete == true && fake.snapshot.done.count == 1 })
        else { return }
        let state = fake.snapshot
        let file = try Data(contentsOf: URL(fileURLWithPath: base + "/trials/trial-9/checkpoints/step-1.safetensors"))
        XCTAssertEqual(state.uploads["9@1"]?.bytes, Array(file), "the chunks put together are the file")
        XCTAssertEqual(state.uploads["9@1"]?.digest?.bytes, SHA256.hash(Array(file)))
        XCTAssertEqual(fake.records(of: 9).records, [MetricRecord(step: 1, name: WorkerMetric.checkpointBytes, value: 10000),
                                                     MetricRecord(step: 1, name: "loss", value: 1.5)],
                       "the checkpoint is announced with its size before its line")
        // 10,000 bytes in 3,000-byte chunks: 4 chunks, plus the one resent after the rewind.
        XCTAssertEqual(state.chunkOffsets, [0, 3000, 0, 3000, 6000, 9000])
    }

    func testCoordinatorRestartMidTrialLosesNoReport() async throws {
        let fake = try XCTUnwrap(coordinator)
        fake.state.withLock { s in
            s.assignments = [assignment(3, runMap(shell(linesScript(60, delay: "0.05"))))]
            s.hangOnSeq = 3
        }
        let agent = try start(slots: 1)
        // Seq 3 is stored, but its Ack is lost with the coordinator that goes away.
        guard await eventually("report 3 stored", { fake.snapshot.reports[3]?[3] != nil }) else { return }
        fake.close()
        // The program keeps writing while nobody listens; those lines queue up in the agent.
        try await Task.sleep(for: .seconds(1))
        fake.state.withLock { $0.hangOnSeq = nil }
        try fake.restart()
        guard await eventually("Done after the restart", { fake.snapshot.done.count == 1 }) else { return }
        let sentSeqs = fake.snapshot.requests.compactMap { if case .report(let r) = $0 { r.seq } else { nil } }
        XCTAssertGreaterThanOrEqual(sentSeqs.filter { $0 == 3 }.count, 2, "the unacknowledged report was resent")
        let (seqs, records) = fake.records(of: 3)
        XCTAssertEqual(seqs, Array(1...UInt64(seqs.count)), "no seq is missing")
        XCTAssertEqual(records, expectedLines(60), "every line exactly once after deduplication, in order")
        // A resend is the same Report: same seq, same records.
        var sent: [UInt64: Report] = [:]
        for case .report(let report) in fake.snapshot.requests {
            if let earlier = sent[report.seq] { XCTAssertEqual(earlier, report, "seq \(report.seq) resent with other content") }
            sent[report.seq] = report
        }
        let welcome = await agent.session
        XCTAssertNotNil(welcome)
    }

    func testUnexpectedRepliesAreRetriedAndNothingIsLostOrDoubled() async throws {
        let fake = try XCTUnwrap(coordinator)
        fake.state.withLock { s in
            s.assignments = [assignment(2, runMap(shell(linesScript(30, delay: "0.03"))))]
            s.hiccups = [2: .noWork(NoWork(reason: .nothingPending, retryAfterMs: 1)),
                         3: .error(ErrorReply(code: .overloaded, detail: "busy")),
                         4: .ack(Ack(ackedSeq: 1, verdicts: [])),
                         5: .chunkAck(ChunkAck(trialID: 2, step: 0, nextOffset: 0, status: .accepted))]
        }
        _ = try start(slots: 1)
        guard await eventually("Done", { fake.snapshot.done.count == 1 }) else { return }
        let state = fake.snapshot
        XCTAssertEqual(state.hiccups.count, 0, "every odd reply was given")
        let (seqs, records) = fake.records(of: 2)
        XCTAssertEqual(seqs, Array(1...UInt64(seqs.count)))
        XCTAssertEqual(records, expectedLines(30))
        let sent = state.requests.compactMap { if case .report(let r) = $0 { r.seq } else { nil } }
        for seq in UInt64(2)...5 { XCTAssertEqual(sent.filter { $0 == seq }.count, 2, "seq \(seq) sent again after its odd reply") }
    }

    func testMalformedAssignmentIsFailedAndTheAgentKeepsWorking() async throws {
        let fake = try XCTUnwrap(coordinator)
        var missingArgv = runMap([])
        missingArgv["argv"] = nil
        var badSeed = runMap(["true"])
        badSeed["seed"] = .string("seven")
        fake.state.withLock { s in
            s.assignments = [assignment(1, missingArgv), assignment(2, badSeed), assignment(3, runMap(shell(linesScript(3))))]
        }
        _ = try start(slots: 1)
        guard await eventually("Done of the good trial", { fake.snapshot.done.count == 1 }) else { return }
        let state = fake.snapshot
        XCTAssertEqual(state.failed.map(\.trialID), [1, 2])
        for failed in state.failed {
            XCTAssertTrue(failed.reason.hasPrefix("bad assignment: "), failed.reason)
            XCTAssertNil(failed.exitCode)
        }
        XCTAssertTrue(state.failed[0].reason.contains("argv"))
        XCTAssertTrue(state.failed[1].reason.contains("seed"))
        XCTAssertEqual(state.done.map(\.trialID), [3])
    }

    func testReportsOfAReassignedTrialStartAtFirstSeq() async throws {
        let fake = try XCTUnwrap(coordinator)
        var run = runMap(shell(linesScript(5)))
        run["first_seq"] = .int(40)
        fake.state.withLock { s in s.assignments = [assignment(15, run, epoch: 2)] }
        _ = try start(slots: 1)
        guard await eventually("Done", { fake.snapshot.done.count == 1 }) else { return }
        let sent = fake.snapshot.requests.compactMap { if case .report(let r) = $0 { r } else { nil } }
        XCTAssertEqual(sent.first?.seq, 40)
        XCTAssertEqual(Set(sent.map(\.leaseEpoch)), [2])
        XCTAssertEqual(sent.flatMap(\.batch.records), expectedLines(5))
    }

    func testFailingProgramSendsFailedWithItsExitCode() async throws {
        let fake = try XCTUnwrap(coordinator)
        fake.state.withLock { s in s.assignments = [assignment(4, runMap(shell("echo out of memory >&2; exit 7")))] }
        _ = try start(slots: 1)
        guard await eventually("Failed", { fake.snapshot.failed.count == 1 }) else { return }
        let failed = fake.snapshot.failed[0]
        XCTAssertEqual(failed.exitCode, 7)
        XCTAssertTrue(failed.reason.contains("out of memory"), failed.reason)
        XCTAssertEqual(fake.snapshot.done, [])
    }

    func testEngineAssignmentRunsTheConfiguredThresherExecutable() async throws {
        let fake = try XCTUnwrap(coordinator)
        let thresher = base + "/fake-thresher"
        try """
            #!/bin/sh
            [ "$1" = train ] && t=1 || t=0
            printf '{"step": 1, "is_train": %d, "argc": %d, "seed": %s}\\n' $t $# "$THRESHER_SEED" >> "$THRESHER_METRICS_FILE"
            """.write(toFile: thresher, atomically: true, encoding: .utf8)
        XCTAssertEqual(chmod(thresher, 0o755), 0)
        fake.state.withLock { s in s.assignments = [assignment(8, runMap(["train", "--epochs", "2"], engine: true, seed: 41))] }
        _ = try start(slots: 1, thresher: thresher)
        guard await eventually("Done", { fake.snapshot.done.count == 1 }) else { return }
        XCTAssertEqual(fake.snapshot.done[0].finalMetrics.map(\.value), [1, 3, 41])
    }

    func testResumesFromALocalCheckpointWithTheCoordinatorsDigest() async throws {
        let fake = try XCTUnwrap(coordinator)
        let bytes = Array("checkpoint of step 4".utf8)
        try FileManager.default.createDirectory(atPath: base + "/trials", withIntermediateDirectories: true)
        for trial in ["trial-6", "trial-7"] {
            let folder = try TrialFolder(base: base + "/trials", trialID: trial)
            try folder.create()
            XCTAssertTrue(FileManager.default.createFile(atPath: folder.checkpointPath(step: 4), contents: Data(bytes)))
        }
        let point = ResumePoint(step: 4, digest: try XCTUnwrap(Digest32(SHA256.hash(bytes))), byteCount: UInt64(bytes.count))
        let wrong = ResumePoint(step: 4, digest: .zero, byteCount: UInt64(bytes.count))
        let script = #"[ -n "$THRESHER_RESUME_FROM" ] && r=1 || r=0; printf '{"step": 5, "resumed": %d}\n' $r >> "$THRESHER_METRICS_FILE""#
        fake.state.withLock { s in
            s.assignments = [assignment(6, runMap(shell(script)), resumeFrom: point),
                             assignment(7, runMap(shell(script)), resumeFrom: wrong)]
        }
        _ = try start(slots: 1)
        guard await eventually("two Done", { fake.snapshot.done.count == 2 }) else { return }
        let done = fake.snapshot.done
        XCTAssertEqual(done.first { $0.trialID == 6 }?.finalMetrics.map(\.value), [1], "matching digest: resumed")
        XCTAssertEqual(done.first { $0.trialID == 7 }?.finalMetrics.map(\.value), [0], "another digest: fresh start")
    }

    func testDownloadsAResumeCheckpointItDoesNotHoldAndNeverResumesFromABadOne() async throws {
        let fake = try XCTUnwrap(coordinator)
        let bytes = Array("checkpoint of step 4, held by the coordinator only".utf8)
        let digest = try XCTUnwrap(Digest32(SHA256.hash(bytes)))
        let point = ResumePoint(step: 4, digest: digest, byteCount: UInt64(bytes.count))
        // The same size under another digest, served with the first file's bytes: a corrupt download.
        let corrupt = ResumePoint(step: 4, digest: try XCTUnwrap(Digest32([UInt8](repeating: 7, count: 32))), byteCount: UInt64(bytes.count))
        let script = #"[ -n "$THRESHER_RESUME_FROM" ] && cmp -s "$THRESHER_RESUME_FROM" "$THRESHER_CHECKPOINT_DIR/step-4.safetensors" && r=1 || r=0; printf '{"step": 5, "resumed": %d}\n' $r >> "$THRESHER_METRICS_FILE""#
        fake.state.withLock { s in
            s.blobs = [digest: bytes, corrupt.digest: bytes]
            s.assignments = [assignment(9, runMap(shell(script)), resumeFrom: point),
                             assignment(10, runMap(shell(script)), resumeFrom: corrupt)]
        }
        _ = try start(slots: 1)
        guard await eventually("two Done", { fake.snapshot.done.count == 2 }) else { return }
        let done = fake.snapshot.done
        XCTAssertEqual(done.first { $0.trialID == 9 }?.finalMetrics.map(\.value), [1], "downloaded into the trial folder and resumed")
        XCTAssertEqual(done.first { $0.trialID == 10 }?.finalMetrics.map(\.value), [0], "a download that fails its digest: fresh start")
        let downloaded = try TrialFolder(base: base + "/trials", trialID: "trial-9")
        XCTAssertEqual(FileManager.default.contents(atPath: downloaded.checkpointPath(step: 4)).map { Array($0) }, bytes)
        let refused = try TrialFolder(base: base + "/trials", trialID: "trial-10")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: refused.checkpointDirectory), [],
                       "nothing of the bad download is left, not even its temporary file")
        // Several BlobReads of at most 7 bytes each, every one for the announced digest.
        let reads = fake.snapshot.requests.compactMap { if case .blobRead(let r) = $0, r.digest == digest { r.offset } else { nil } }
        XCTAssertEqual(reads, Array(stride(from: UInt64(0), to: UInt64(bytes.count), by: 7)))
    }

    func testASlowResumeDownloadKeepsTheLeaseWithHeartbeats() async throws {
        let fake = try XCTUnwrap(coordinator)
        let bytes = Array("a checkpoint that takes a while to arrive".utf8)
        let digest = try XCTUnwrap(Digest32(SHA256.hash(bytes)))
        fake.state.withLock { s in
            s.blobs = [digest: bytes]
            s.blobDelay = .milliseconds(150)   // 6 pieces of 7 bytes: ~0.9 s, heartbeats every 0.2 s
            s.assignments = [assignment(11, runMap(shell(linesScript(1))), resumeFrom: ResumePoint(step: 2, digest: digest,
                                                                                                    byteCount: UInt64(bytes.count)))]
        }
        _ = try start(slots: 1)
        guard await eventually("Done", { fake.snapshot.done.count == 1 }) else { return }
        let requests = fake.snapshot.requests
        let firstReport = try XCTUnwrap(requests.firstIndex { if case .report = $0 { true } else { false } })
        let beats = requests[..<firstReport].filter { request in
            if case .heartbeat(let h) = request { h.trials.contains { $0.trialID == 11 && $0.leaseEpoch == 1 } } else { false }
        }
        XCTAssertGreaterThanOrEqual(beats.count, 2, "the lease is renewed while the checkpoint downloads")
    }

    func testRunSpecParsesTheConventionAndNamesTheBadKey() throws {
        let spec = try RunSpec(run: runMap(["train", "--lr", "0.1"], engine: true, seed: 3))
        XCTAssertEqual(spec.programArgv(thresherExecutable: "/opt/thresher"), ["/opt/thresher", "train", "--lr", "0.1"])
        XCTAssertEqual(spec.seed, 3)
        XCTAssertEqual(spec.goal, "minimize")
        var bad = runMap(["x"])
        bad["goal"] = .string("sideways")
        XCTAssertThrowsError(try RunSpec(run: bad)) { XCTAssertTrue(String(describing: $0).contains("goal")) }
        bad = runMap(["x"])
        bad["argv"] = .list([.int(1)])
        XCTAssertThrowsError(try RunSpec(run: bad)) { XCTAssertTrue(String(describing: $0).contains("argv")) }
        bad = runMap(["x"])
        bad["first_seq"] = .int(0)
        XCTAssertThrowsError(try RunSpec(run: bad)) { XCTAssertTrue(String(describing: $0).contains("first_seq")) }
        XCTAssertThrowsError(try RunSpec(run: runMap([], engine: true)), "an engine run still needs its subcommand")
        // A u64 seed travels as its i64 bit pattern.
        XCTAssertEqual(try RunSpec(run: runMap(["x"], seed: -1)).seed, UInt64.max)
        XCTAssertEqual(try RunSpec(run: runMap(["x"])).firstSeq, 1)
    }
}
