import Foundation
import XCTest
import ThresherCoordinator
import ThresherNet
import ThresherStore
import ThresherWire

/// The client requests over a real socket: roles, submit, status, stop, export paging, best
/// checkpoints and blob reads.
final class ClientRequestTests: XCTestCase {
    static let sweep = """
        method: grid
        command: [python3, train.py, "${args}"]
        metric: {name: loss, goal: minimize}
        parameters:
          x: {values: [1, 2, 3]}
        thresher:
          retention: {keep_top_k: 2, keep_top_k_per_trial: 1, keep_latest_per_trial: false, max_bytes: 100000}
        """

    private func client(_ cluster: TestCoordinator, _ id: String = "client-test") throws -> FakeWorker {
        FakeWorker(client: try ClusterClient(connect: cluster.url, token: try ClusterToken(testToken),
                                             identity: WorkerIdentity(workerID: id, slots: 0, capabilities: ["client"])))
    }

    private func error(_ message: Message) -> ErrorCode? { if case .error(let e) = message { e.code } else { nil } }

    func testRolesSubmitAndStatus() async throws {
        let dir = try temporaryDirectory(self)
        let cluster = try TestCoordinator(stateDirectory: dir, clock: TestClock(), socket: dir + "/c.sock")
        let client = try client(cluster), worker = try cluster.worker("w")
        defer { client.close(); worker.close() }

        // A worker may not submit; a client may not take trials.
        let submit = SubmitSweep(fileText: Self.sweep, fileName: "grid.yaml", baseDirectory: dir, name: nil, priority: 0)
        do { let reply = try await worker.send(.submitSweep(submit)); XCTAssertEqual(error(reply), .notPermitted) }
        do { let reply = try await worker.send(.statusRequest(StatusRequest(sweep: nil))); XCTAssertEqual(error(reply), .notPermitted) }
        do { let reply = try await client.send(.requestTrial(RequestTrial(freeSlots: 1))); XCTAssertEqual(error(reply), .notPermitted) }

        guard case .sweepSubmitted(let first) = try await client.send(.submitSweep(submit)) else { return XCTFail("no SweepSubmitted") }
        XCTAssertEqual(first.name, "grid")
        XCTAssertTrue(first.created)
        // Same name and text: the same sweep, not a copy.
        guard case .sweepSubmitted(let again) = try await client.send(.submitSweep(submit)) else { return XCTFail("no SweepSubmitted") }
        XCTAssertEqual(again, SweepSubmitted(sweepID: first.sweepID, name: "grid", created: false))
        // A file that does not parse: invalidRequest with the parser's message (a line number).
        let bad = SubmitSweep(fileText: "method: grid\nparameters:\n  x: {values: 3}\n", fileName: "bad.yaml", baseDirectory: dir,
                              name: nil, priority: 0)
        guard case .error(let refused) = try await client.send(.submitSweep(bad)) else { return XCTFail("bad file accepted") }
        XCTAssertEqual(refused.code, .invalidRequest)
        XCTAssertTrue(refused.detail.contains("bad.yaml") && refused.detail.contains("3"), refused.detail)

        _ = try await worker.assignment()
        guard case .statusReply(let status) = try await client.send(.statusRequest(StatusRequest(sweep: "grid"))),
              let document = try JSONSerialization.jsonObject(with: Data(status.json.utf8)) as? [String: Any] else {
            return XCTFail("no status")
        }
        XCTAssertEqual(document["name"] as? String, "grid")
        XCTAssertEqual((document["trials"] as? [[String: Any]])?.first?["state"] as? String, "assigned")
        XCTAssertEqual(document["total_trials"] as? Int, 3)
        do { let reply = try await client.send(.statusRequest(StatusRequest(sweep: "nope"))); XCTAssertEqual(error(reply), .notFound) }
        try await cluster.stop()
    }

    /// Reports are answered beside the batches (ClientReadService), with the same roles, errors and
    /// counters as every client request.
    func testReportsAreServedBesideTheBatchesWithRolesErrorsAndCounts() async throws {
        let dir = try temporaryDirectory(self)
        let cluster = try TestCoordinator(stateDirectory: dir, clock: TestClock(), socket: dir + "/c.sock")
        let client = try client(cluster), worker = try cluster.worker("w")
        defer { client.close(); worker.close() }
        let submit = SubmitSweep(fileText: Self.sweep, fileName: "grid.yaml", baseDirectory: dir, name: nil, priority: 0)
        guard case .sweepSubmitted = try await client.send(.submitSweep(submit)) else { return XCTFail("no SweepSubmitted") }
        let running = try await worker.assignment()
        _ = try await worker.report(running, seq: 0, [metric("loss", 1, 0.5)])

        do { let reply = try await worker.send(.reportRequest(ReportRequest(sweep: "grid"))); XCTAssertEqual(error(reply), .notPermitted) }
        do { let reply = try await client.send(.reportRequest(ReportRequest(sweep: "nope"))); XCTAssertEqual(error(reply), .notFound) }
        // Several at once, while the worker keeps reporting through the batches.
        async let first = client.send(.reportRequest(ReportRequest(sweep: "grid")))
        async let second = client.send(.reportRequest(ReportRequest(sweep: "grid")))
        _ = try await worker.report(running, seq: 1, [metric("loss", 2, 0.4)])
        for reply in try await [first, second] {
            guard case .reportReply(let page) = reply else { return XCTFail("no ReportReply: \(reply)") }
            XCTAssertTrue(page.html.hasPrefix("<!DOCTYPE html>"), String(page.html.prefix(80)))
            XCTAssertTrue(page.html.contains("grid"))
        }
        let counted = await cluster.coordinator.metricsSnapshot().statistics
        XCTAssertEqual(counted.requests[.reportRequest], 4)
        XCTAssertEqual(counted.rejected["notPermitted"], 1)
        XCTAssertEqual(counted.rejected["notFound"], 1)
        try await cluster.stop()
    }

    func testStopSweepCancelsWaitingAndStopsRunningTrialsDurably() async throws {
        let dir = try temporaryDirectory(self)
        let cluster = try TestCoordinator(stateDirectory: dir, clock: TestClock(), socket: dir + "/c.sock")
        let id = try await cluster.coordinator.submit(sweepFileText: Self.sweep, fileName: "grid.yaml", baseDirectory: dir, name: "grid")
        let client = try client(cluster), worker = try cluster.worker("w", slots: 2)
        defer { client.close(); worker.close() }
        let running = try await worker.assignment()
        _ = try await worker.report(running, seq: 0, [metric("loss", 1, 0.5)])

        guard case .stopReply(let reply) = try await client.send(.stopRequest(StopRequest(target: .sweep("grid"), reason: "stopped by user"))) else {
            return XCTFail("no StopReply")
        }
        XCTAssertEqual(reply.stopped, 1)
        // The searcher had suggested only the trial it handed out; nothing else waits.
        XCTAssertEqual(reply.cancelled, 0)
        let store = cluster.coordinator.sweepStore
        XCTAssertEqual(try store.sweep(id).state, .stopped)
        let trial = try store.trial(Int64(running.trialID))
        XCTAssertEqual(trial.state, .stopped)
        XCTAssertEqual(trial.decodedStopExplanation?.rule, "user")
        XCTAssertEqual(trial.decodedStopExplanation?.message, "stopped by user")
        // The worker is told on its next Ack, and no further trial of the sweep is handed out.
        let ack = try worker.ack(try await worker.send(.heartbeat(Heartbeat(trials: [
            HeldTrial(trialID: running.trialID, leaseEpoch: running.leaseEpoch, step: 1)]))))
        XCTAssertEqual(ack.stops[running.trialID], "stopped by user")
        guard case .noWork = try await worker.request() else { return XCTFail("a stopped sweep handed out a trial") }
        // Stopping again, or a trial that ended, changes nothing and says so.
        guard case .stopReply(let twice) = try await client.send(.stopRequest(StopRequest(target: .trial(running.trialID), reason: ""))) else {
            return XCTFail("no StopReply")
        }
        XCTAssertEqual(twice.stopped + twice.cancelled, 0)
        XCTAssertTrue(twice.detail.contains("already ended"), twice.detail)
        do { let reply = try await client.send(.stopRequest(StopRequest(target: .trial(999), reason: ""))); XCTAssertEqual(error(reply), .notFound) }
        try await cluster.stop()
    }

    func testStopCancelsATrialWaitingAfterALostLeaseAndStopsOneTrialAlone() async throws {
        let dir = try temporaryDirectory(self)
        let clock = TestClock()
        let cluster = try TestCoordinator(stateDirectory: dir, clock: clock, socket: dir + "/c.sock")
        _ = try await cluster.coordinator.submit(sweepFileText: Self.sweep, fileName: "grid.yaml", baseDirectory: dir, name: "grid")
        _ = try await cluster.coordinator.submit(sweepFileText: Self.sweep, fileName: "other.yaml", baseDirectory: dir, name: "other")
        let client = try client(cluster), worker = try cluster.worker("w", slots: 2)
        defer { client.close(); worker.close() }
        let lost = try await worker.assignment()
        clock.advance(60)
        let reaped = try await cluster.coordinator.tick()
        XCTAssertEqual(reaped, [Int64(lost.trialID)])   // back in the queue
        let store = cluster.coordinator.sweepStore
        XCTAssertEqual(try store.trial(Int64(lost.trialID)).state, .pending)

        // One trial alone: the waiting one is cancelled, its sweep goes on.
        guard case .stopReply(let one) = try await client.send(.stopRequest(StopRequest(target: .trial(lost.trialID), reason: "bad idea"))) else {
            return XCTFail("no StopReply")
        }
        XCTAssertEqual([one.cancelled, one.stopped], [1, 0])
        let cancelled = try store.trial(Int64(lost.trialID))
        XCTAssertEqual(cancelled.state, .cancelled)
        XCTAssertEqual(cancelled.lastError, "bad idea")
        XCTAssertEqual(try store.sweep(Int64(lost.sweepID)).state, .active)
        let next = try await worker.assignment()
        XCTAssertEqual(next.sweepID, lost.sweepID, "the sweep hands out its next trial")
        XCTAssertNotEqual(next.trialID, lost.trialID)
        // The stop is in the event log with its reason.
        let events = try store.events(trial: Int64(lost.trialID)).map(\.kind)
        XCTAssertEqual(events.last, "trial.cancelled")
        try await cluster.stop()
    }

    func testExportPagesVisitEveryRowOnceAndBlobsAreReadByDigest() async throws {
        let dir = try temporaryDirectory(self)
        let cluster = try TestCoordinator(stateDirectory: dir, clock: TestClock(), socket: dir + "/c.sock")
        _ = try await cluster.coordinator.submit(sweepFileText: Self.sweep, fileName: "grid.yaml", baseDirectory: dir, name: "grid")
        let client = try client(cluster), worker = try cluster.worker("w", slots: 3)
        defer { client.close(); worker.close() }
        var expected: [String] = []
        var uploaded: (assign: Assign, file: [UInt8])?
        for t in 0 ..< 3 {
            let assign = try await worker.assignment()
            for seq in 0 ..< 3 {
                let step = Int64(seq + 1)
                var records = [metric("loss", step, Double(t * 10 + seq))]
                if t == 0 && seq == 0 { records.insert(metric("thresher.checkpoint_bytes", step, 100), at: 0) }
                let ack = try worker.ack(try await worker.report(assign, seq: UInt64(seq), records))
                expected += records.map { "\(assign.trialID)/\(seq)/\($0.name)/\($0.step)" }
                if ack.verdict(for: assign.trialID) == .upload(step: step) { uploaded = (assign, CheckpointUploadTests.file(100, seed: 7)) }
            }
        }
        // Pages of 4 rows: every row once, in order, and each page names its rows' trials.
        var seen: [String] = []
        var cursor = ExportCursor.start
        while true {
            guard case .exportPage(let page) = try await client.send(.exportRequest(ExportRequest(sweep: "grid", after: cursor, limit: 4))) else {
                return XCTFail("no ExportPage")
            }
            XCTAssertLessThanOrEqual(page.rows.count, 4)
            for row in page.rows {
                XCTAssertTrue(page.trials.contains { $0.trialID == row.trialID && $0.params["x"] != nil })
                seen.append("\(row.trialID)/\(row.seq)/\(row.name)/\(row.step)")
            }
            cursor = page.next
            if page.complete { break }
        }
        XCTAssertEqual(seen, expected)

        // The uploaded checkpoint is the best; it can be read back in pieces by digest.
        let (assign, file) = try XCTUnwrap(uploaded, "the first checkpoint should have been asked for")
        let chunk = CheckpointUploadTests.chunk(assign, step: 1, file, offset: 0, count: file.count)
        guard case .chunkAck(let stored) = try await worker.send(chunk), stored.status == .complete else { return XCTFail("upload failed") }
        guard case .bestCheckpoints(let best) = try await client.send(.bestRequest(BestRequest(sweep: "grid", count: 5))) else {
            return XCTFail("no BestCheckpoints")
        }
        XCTAssertEqual(best.checkpoints.map(\.trialID), [assign.trialID])
        XCTAssertEqual(best.checkpoints.first?.digest, CheckpointUploadTests.digest(file))
        var read: [UInt8] = []
        while read.count < file.count {
            // Any authenticated session may read blobs: this is how workers download resume points.
            guard case .blobData(let piece) = try await worker.send(.blobRead(BlobRead(digest: CheckpointUploadTests.digest(file),
                                                                                     offset: UInt64(read.count), maxBytes: 33))) else {
                return XCTFail("no BlobData")
            }
            XCTAssertEqual(piece.totalBytes, 100)
            read += piece.data
        }
        XCTAssertEqual(read, file)
        do { let reply = try await client.send(.blobRead(BlobRead(digest: .zero, offset: 0, maxBytes: 10))); XCTAssertEqual(error(reply), .notFound) }
        do { let reply = try await client.send(.blobRead(BlobRead(digest: CheckpointUploadTests.digest(file), offset: 101, maxBytes: 10))); XCTAssertEqual(error(reply), .invalidRequest) }
        try await cluster.stop()
    }
}
