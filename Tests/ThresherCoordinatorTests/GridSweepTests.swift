import Foundation
import XCTest
import ThresherCoordinator
import ThresherNet
import ThresherStore
import ThresherWire

/// A whole grid sweep through two fake workers over real sockets and a real SQLite file.
final class GridSweepTests: XCTestCase {
    static let gridSweep = """
        name: grid-9
        method: grid
        program: train.py
        command: [python3, "${program}", "${args}"]
        metric: {name: val_loss, goal: minimize}
        parameters:
          lr: {values: [0.1, 0.01, 0.001]}
          layers: {values: [1, 2, 3]}
        thresher:
          seed: 40
        """

    /// The value a deterministic fake worker reports for a trial at a step.
    static func loss(_ params: ParamMap, step: Int64) -> Double {
        var lr = 0.0, layers = 0.0
        if case .double(let v) = params["lr"] { lr = v }
        if case .int(let v) = params["layers"] { layers = Double(v) }
        return 1.0 / Double(step) + lr * 3 + layers * 0.01
    }

    func testNineTrialGridRunsToCompletionWithEveryMetricStoredOnce() async throws {
        let dir = try temporaryDirectory(self)
        let cluster = try TestCoordinator(stateDirectory: dir, clock: TestClock(), socket: dir + "/c.sock")
        let sweepID = try await cluster.coordinator.submit(sweepFileText: Self.gridSweep, fileName: "grid.yaml", baseDirectory: dir)
        var workers = [try cluster.worker("w1"), try cluster.worker("w2")]
        var sent = 0
        var handedOut: [UInt64] = []
        var turn = 0
        while true {
            var worker = workers[turn % 2]
            turn += 1
            let reply = try await worker.request()
            if case .noWork(let noWork) = reply {
                XCTAssertEqual(noWork.reason, .allSweepsFinished)
                break
            }
            guard case .assign(let assign) = reply else { return XCTFail("expected Assign, got \(reply)") }
            handedOut.append(assign.trialID)
            XCTAssertEqual(assign.sweepID, UInt64(sweepID))
            XCTAssertNil(assign.resumeFrom)
            XCTAssertEqual(assign.run["engine"], .bool(false))
            XCTAssertEqual(assign.run["metric"], .string("val_loss"))
            XCTAssertEqual(assign.run["goal"], .string("minimize"))
            XCTAssertEqual(assign.run["sweep_name"], .string("grid-9"))
            XCTAssertEqual(Array(assign.run.argv.prefix(2)), ["python3", "train.py"])
            for seq: UInt64 in 1 ... 3 {
                let step = Int64(seq)
                let records = [metric("val_loss", step, Self.loss(assign.params, step: step)), metric("train_loss", step, 0.5)]
                let ack = try worker.ack(try await worker.report(assign, seq: seq, records))
                XCTAssertEqual(ack.ackedSeq, seq)
                XCTAssertEqual(ack.verdict(for: assign.trialID), .proceed)
                sent += records.count
                if handedOut.count == 4 && seq == 2 {
                    // A reconnect: the worker's connection drops after its report; it comes back
                    // on a new connection and resends the report whose Ack it never saw.
                    worker.close()
                    let again = try await Self.reconnect(cluster, id: turn % 2 == 1 ? "w1" : "w2")
                    workers[(turn - 1) % 2] = again
                    worker = again
                    let resent = try again.ack(try await again.report(assign, seq: seq, records))
                    XCTAssertEqual(resent.ackedSeq, seq)
                }
            }
            // Like the real worker, Done repeats the last line's values; they are not stored again.
            _ = try await worker.done(assign, step: 3, final: [metric("val_loss", 3, Self.loss(assign.params, step: 3)),
                                                               metric("train_loss", 3, 0.5)])
        }
        XCTAssertEqual(handedOut.count, 9)
        XCTAssertEqual(Set(handedOut).count, 9)
        let store = cluster.coordinator.sweepStore
        XCTAssertEqual(try store.sweep(sweepID).state, .finished)
        XCTAssertEqual(try store.trialCounts(sweep: sweepID), [.completed: 9])
        var stored = 0
        for trial in try store.trials(sweep: sweepID) {
            let metrics = try store.metrics(trial: trial.id)
            XCTAssertEqual(metrics.map(\.seq), [1, 1, 2, 2, 3, 3], "trial \(trial.id)")
            stored += metrics.count
        }
        XCTAssertEqual(stored, sent)
        let stats = await cluster.coordinator.statistics
        XCTAssertEqual(stats.reportsStored, 27)
        XCTAssertEqual(stats.reportsDuplicate, 1)
        for worker in workers { worker.close() }
        try await cluster.stop()
    }

    /// A new connection for a worker id whose old connection closed. The coordinator may not
    /// have seen the close yet (then the id still looks live); try again briefly.
    static func reconnect(_ cluster: TestCoordinator, id: String) async throws -> FakeWorker {
        for _ in 0 ..< 50 {
            let worker = try cluster.worker(id)
            if await handshakeSucceeded(worker) { return worker }
            worker.close()
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("could not reconnect \(id)")
    }

    /// True once welcomed; false when rejected as a duplicate (or any other failure, retried).
    static func handshakeSucceeded(_ worker: FakeWorker) async -> Bool {
        do {
            _ = try await worker.client.handshake()
            return true
        } catch {
            return false
        }
    }

    func testHostileAndConfusedRequestsGetErrorsAndAreCounted() async throws {
        let dir = try temporaryDirectory(self)
        let cluster = try TestCoordinator(stateDirectory: dir, clock: TestClock(), socket: dir + "/c.sock")
        _ = try await cluster.coordinator.submit(sweepFileText: Self.gridSweep, fileName: "grid.yaml", baseDirectory: dir)
        let worker = try cluster.worker("w1")
        defer { worker.close() }

        let replyType = try await worker.send(.ack(Ack(ackedSeq: 0, verdicts: [])))
        XCTAssertEqual(Self.errorCode(replyType), .unexpectedMessage)
        let unknown = try await worker.send(.report(Report(trialID: 999, leaseEpoch: 1, seq: 0, batch: MetricBatch(records: []))))
        XCTAssertEqual(Self.errorCode(unknown), .unknownTrial)
        let huge = try await worker.send(.done(Done(trialID: .max, leaseEpoch: .max, finalStep: 0, finalMetrics: [])))
        XCTAssertEqual(Self.errorCode(huge), .unknownTrial)

        let assign = try await worker.assignment()
        let forged = try await worker.send(.report(Report(trialID: assign.trialID, leaseEpoch: assign.leaseEpoch + 7, seq: 0,
                                                          batch: MetricBatch(records: [metric("val_loss", 1, 0.3)]))))
        XCTAssertEqual(Self.errorCode(forged), .staleLease)
        let chunk = try await worker.send(.checkpointChunk(CheckpointChunk(trialID: assign.trialID, leaseEpoch: assign.leaseEpoch, step: 5,
                                                                          offset: 0, totalBytes: 3, digest: .zero, data: [1, 2, 3])))
        XCTAssertEqual(chunk, .chunkAck(ChunkAck(trialID: assign.trialID, step: 5, nextOffset: 0, status: .refused)))
        XCTAssertTrue(try cluster.coordinator.sweepStore.metrics(trial: Int64(assign.trialID)).isEmpty)

        let stats = await cluster.coordinator.statistics
        // A reply type sent as a request is answered by ThresherNet before it reaches the coordinator.
        XCTAssertNil(stats.rejected["unexpectedMessage"])
        XCTAssertEqual(stats.rejected["unknownTrial"], 2)
        XCTAssertEqual(stats.rejected["staleLease"], 1)
        try await cluster.stop()
    }

    static func errorCode(_ message: Message) -> ErrorCode? {
        if case .error(let e) = message { e.code } else { nil }
    }
}
