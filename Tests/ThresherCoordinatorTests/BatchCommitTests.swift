import Foundation
import XCTest
import ThresherCoordinator
@testable import ThresherNet
@testable import ThresherStore
import ThresherWire

/// Group commit: `Coordinator.handle(batch:)` and the server's batching.
final class BatchCommitTests: XCTestCase {
    let sessionA = WorkerSession(id: 1, workerID: "wa", slots: 2, capabilities: [], pipe: PipeID(raw: 1))
    let sessionB = WorkerSession(id: 2, workerID: "wb", slots: 2, capabilities: [], pipe: PipeID(raw: 2))

    let clock = TestClock()

    private func makeCoordinator() async throws -> (Coordinator, Int64, String) {
        let dir = try temporaryDirectory(self)
        let clock = self.clock
        let options = CoordinatorOptions(leaseTimeout: 15, heartbeatInterval: 5, maxAttempts: 3, retryAfterMs: 5, clock: { clock.now() })
        let coordinator = try Coordinator(stateDirectory: dir, options: options)
        let sweep = try await coordinator.submit(sweepFileText: GridSweepTests.gridSweep, fileName: "grid.yaml", baseDirectory: dir)
        return (coordinator, sweep, dir + "/thresher.sqlite")
    }

    private func report(_ assign: Assign, seq: UInt64, epoch: UInt64? = nil, value: Double) -> Message {
        .report(Report(trialID: assign.trialID, leaseEpoch: epoch ?? assign.leaseEpoch, seq: seq,
                       batch: MetricBatch(records: [metric("val_loss", Int64(seq), value)])))
    }

    private func assigns(_ replies: [Message]) throws -> [Assign] {
        try replies.map { reply in
            guard case .assign(let assign) = reply else { throw TestFailure("expected Assign, got \(reply)") }
            return assign
        }
    }

    func testRequestsInOneBatchSeeEachOthersDecisionsAndAFailingOneLeavesItsNeighboursStored() async throws {
        let (coordinator, _, path) = try await makeCoordinator()
        // Two RequestTrials in one batch: the second sees the first's assignment and gets another trial.
        let assigned = try assigns(await coordinator.handle(batch: [BatchedRequest(session: sessionA, message: .requestTrial(RequestTrial(freeSlots: 1))),
                                                                   BatchedRequest(session: sessionB, message: .requestTrial(RequestTrial(freeSlots: 1)))]))
        XCTAssertNotEqual(assigned[0].trialID, assigned[1].trialID)
        let (a, b) = (assigned[0], assigned[1])
        let bogus = Assign(sweepID: a.sweepID, trialID: 987_654, leaseEpoch: 1, params: a.params, run: a.run, resumeFrom: nil)
        let replies = await coordinator.handle(batch: [
            BatchedRequest(session: sessionA, message: report(a, seq: 1, value: 0.4)),
            BatchedRequest(session: sessionA, message: report(bogus, seq: 1, value: 0.1)),
            BatchedRequest(session: sessionB, message: report(b, seq: 1, epoch: b.leaseEpoch + 5, value: 0.2)),
            BatchedRequest(session: sessionB, message: report(b, seq: 1, value: 0.3)),
        ])
        XCTAssertEqual(replies.count, 4)
        guard case .ack(let ackA) = replies[0], case .error(let unknown) = replies[1], case .error(let stale) = replies[2],
              case .ack(let ackB) = replies[3] else { return XCTFail("unexpected replies \(replies)") }
        XCTAssertEqual(ackA.ackedSeq, 1)
        XCTAssertEqual(ackB.ackedSeq, 1)
        XCTAssertEqual(unknown.code, .unknownTrial)
        XCTAssertEqual(stale.code, .staleLease)
        let reader = try SweepStore(readingAt: path)
        XCTAssertEqual(try reader.metrics(trial: Int64(a.trialID)).map(\.value), [0.4])
        XCTAssertEqual(try reader.metrics(trial: Int64(b.trialID)).map(\.value), [0.3])
        XCTAssertEqual(try reader.trial(Int64(a.trialID)).state, .running)
        XCTAssertEqual(try reader.trial(Int64(b.trialID)).state, .running)
        let statistics = await coordinator.statistics
        XCTAssertEqual(statistics.batchesCommitted, 2)
        XCTAssertEqual(statistics.requestsBatched, 6)
    }

    func testAFailedCommitAnswersEveryRequestWithAnErrorAndTheSweepContinuesFromTheStore() async throws {
        let (coordinator, sweep, path) = try await makeCoordinator()
        let a = try assigns(await coordinator.handle(batch: [BatchedRequest(session: sessionA, message: .requestTrial(RequestTrial(freeSlots: 1)))]))[0]
        _ = await coordinator.handle(batch: [BatchedRequest(session: sessionA, message: report(a, seq: 1, value: 0.4))])
        // A deferred foreign key is checked at COMMIT: this trigger makes every commit that
        // completes a trial fail there, after every statement of the batch succeeded.
        let store = coordinator.sweepStore
        try await store.pool.writeWithoutTransaction { db in
            try db.execute(sql: """
                CREATE TABLE commit_breaker (ref INTEGER REFERENCES trials(id) DEFERRABLE INITIALLY DEFERRED);
                CREATE TRIGGER break_commit AFTER INSERT ON events WHEN NEW.kind = 'trial.completed'
                BEGIN INSERT INTO commit_breaker (ref) VALUES (-1); END;
                """)
        }
        let failed = await coordinator.handle(batch: [
            BatchedRequest(session: sessionA, message: .done(Done(trialID: a.trialID, leaseEpoch: a.leaseEpoch, finalStep: 1, finalMetrics: []))),
            BatchedRequest(session: sessionB, message: .requestTrial(RequestTrial(freeSlots: 1))),
        ])
        for reply in failed {
            guard case .error(let error) = reply else { return XCTFail("a reply claimed success after a failed commit: \(reply)") }
            XCTAssertEqual(error.code, .internalError)
        }
        let reader = try SweepStore(readingAt: path)
        XCTAssertEqual(try reader.trial(Int64(a.trialID)).state, .running)
        XCTAssertEqual(try reader.trials(sweep: sweep).count, 1, "the failed batch's new trial must not exist")

        try await store.pool.writeWithoutTransaction { db in
            try db.execute(sql: "DROP TRIGGER break_commit; DROP TABLE commit_breaker")
        }
        // The worker resends Done; then the sweep runs to the end. Had the in-memory searcher kept
        // the suggestion of the failed batch, one grid point would be skipped.
        guard case .ack = await coordinator.handle(batch: [BatchedRequest(session: sessionA, message: .done(Done(
            trialID: a.trialID, leaseEpoch: a.leaseEpoch, finalStep: 1, finalMetrics: [])))])[0] else { return XCTFail("Done not acked") }
        while true {
            let reply = await coordinator.handle(batch: [BatchedRequest(session: sessionB, message: .requestTrial(RequestTrial(freeSlots: 1)))])[0]
            if case .noWork = reply { break }
            let next = try assigns([reply])[0]
            _ = await coordinator.handle(batch: [BatchedRequest(session: sessionB, message: report(next, seq: 1, value: 0.5))])
            guard case .ack = await coordinator.handle(batch: [BatchedRequest(session: sessionB, message: .done(Done(
                trialID: next.trialID, leaseEpoch: next.leaseEpoch, finalStep: 1, finalMetrics: [])))])[0] else { return XCTFail("Done not acked") }
        }
        let trials = try reader.trials(sweep: sweep)
        XCTAssertEqual(trials.count, 9)
        XCTAssertEqual(Set(trials.map(\.params)).count, 9)
        XCTAssertTrue(trials.allSatisfy { $0.state == .completed })
        XCTAssertEqual(try reader.sweep(sweep).state, .finished)
    }

    /// Regression (full-disk fault test): renewals that cannot be committed used to let leases run
    /// out, and every trial lost its worker once the disk had been full for a lease timeout. Now
    /// the decision clock stands still from the first failed commit until one succeeds, which
    /// extends every held lease to a full timeout.
    func testLeasesDoNotRunOutWhileCommitsFail() async throws {
        let (coordinator, _, path) = try await makeCoordinator()
        let a = try assigns(await coordinator.handle(batch: [BatchedRequest(session: sessionA, message: .requestTrial(RequestTrial(freeSlots: 1)))]))[0]
        let beat = BatchedRequest(session: sessionA, message: .heartbeat(Heartbeat(trials: [HeldTrial(trialID: a.trialID, leaseEpoch: a.leaseEpoch, step: 1)])))
        // Every commit that changes a trial row (a renewal, an expiry) fails at COMMIT.
        let store = coordinator.sweepStore
        try await store.pool.writeWithoutTransaction { db in
            try db.execute(sql: """
                CREATE TABLE commit_breaker (ref INTEGER REFERENCES trials(id) DEFERRABLE INITIALLY DEFERRED);
                CREATE TRIGGER break_commit AFTER UPDATE ON trials BEGIN INSERT INTO commit_breaker (ref) VALUES (-1); END;
                """)
        }
        guard case .error = await coordinator.handle(batch: [beat])[0] else { return XCTFail("the renewal's commit should fail") }
        clock.advance(20)   // past the 15 s lease while nothing can be stored
        let reaped = try await coordinator.tick()
        XCTAssertEqual(reaped, [], "no lease runs out while commits fail")
        guard case .error(let still) = await coordinator.handle(batch: [beat])[0] else { return XCTFail("commits still fail") }
        XCTAssertEqual(still.code, .internalError, "a renewal refused for its commit, not a lost lease")

        try await store.pool.writeWithoutTransaction { db in try db.execute(sql: "DROP TRIGGER break_commit; DROP TABLE commit_breaker") }
        guard case .ack(let ack) = await coordinator.handle(batch: [beat])[0] else { return XCTFail("heartbeat not acked") }
        XCTAssertFalse(ack.verdicts.contains { if case .stop = $0.verdict { true } else { false } }, "the worker keeps its trial: \(ack)")
        let reader = try SweepStore(readingAt: path)
        XCTAssertEqual(try reader.trial(Int64(a.trialID)).leaseEpoch, Int64(a.leaseEpoch))
        XCTAssertTrue(try reader.trial(Int64(a.trialID)).state.isLeased)
        clock.advance(16)   // and time runs again: a worker that stops beating is reaped
        let later = try await coordinator.tick()
        XCTAssertEqual(later, [Int64(a.trialID)])
    }

    /// Through the server, with many workers at once: whenever a worker receives a reply, a second
    /// (read-only) connection already sees the decision it announces.
    func testEveryReplyIsDurableWhenTheWorkerReceivesIt() async throws {
        let dir = try temporaryDirectory(self)
        let cluster = try TestCoordinator(stateDirectory: dir, clock: TestClock(), socket: dir + "/c.sock")
        let sweep = try await cluster.coordinator.submit(sweepFileText: GridSweepTests.gridSweep, fileName: "grid.yaml", baseDirectory: dir)
        let reader = try SweepStore(readingAt: dir + "/thresher.sqlite")
        let workerCount = 12
        let requests = try await withThrowingTaskGroup(of: Int.self) { group in
            for w in 0..<workerCount {
                let worker = try cluster.worker("w\(w)")
                group.addTask {
                    defer { worker.close() }
                    var sent = 0
                    while true {
                        let reply = try await worker.request()
                        sent += 1
                        if case .noWork(let noWork) = reply {
                            if noWork.reason == .allSweepsFinished { return sent }
                            try await Task.sleep(for: .milliseconds(5))
                            continue
                        }
                        guard case .assign(let assign) = reply else { throw TestFailure("expected Assign, got \(reply)") }
                        let trial = try reader.trial(Int64(assign.trialID))
                        XCTAssertEqual(trial.leaseEpoch, Int64(assign.leaseEpoch))
                        XCTAssertEqual(trial.workerId, "w\(w)")
                        XCTAssertEqual(trial.state, .assigned)
                        for seq: UInt64 in 1...2 {
                            let ack = try worker.ack(try await worker.report(assign, seq: seq, [metric("val_loss", Int64(seq), 1.0 / Double(seq))]))
                            sent += 1
                            XCTAssertEqual(ack.ackedSeq, seq)
                            XCTAssertEqual(try reader.metrics(trial: Int64(assign.trialID)).count, Int(seq))
                        }
                        _ = try await worker.done(assign, step: 2)
                        sent += 1
                        XCTAssertEqual(try reader.trial(Int64(assign.trialID)).state, .completed)
                    }
                }
            }
            var total = 0
            for try await sent in group { total += sent }
            return total
        }
        XCTAssertEqual(try reader.trials(sweep: sweep).filter { $0.state == .completed }.count, 9)
        XCTAssertEqual(try reader.sweep(sweep).state, .finished)
        let statistics = await cluster.coordinator.statistics
        XCTAssertEqual(statistics.requestsBatched, requests)
        XCTAssertLessThanOrEqual(statistics.batchesCommitted, requests)
        try await cluster.stop()
    }
}
