import Foundation
import XCTest
import ThresherCoordinator
import ThresherNet
import ThresherStore
import ThresherSweep
import ThresherWire

/// Early termination on the coordinator agrees with `thresher sweep simulate`, and lost leases
/// fence late reports.
final class StoppingTests: XCTestCase {
    static let hyperbandSweep = """
        name: hb
        method: grid
        command: [python3, train.py, "${args}"]
        metric: {name: loss, goal: minimize}
        parameters:
          x: {values: [0, 1, 2, 3, 4, 5, 6, 7]}
        early_terminate: {type: hyperband, max_iter: 8, s: 2, eta: 2}
        """

    /// Learning curves with late bloomers and early leaders, so bands cut differently over time.
    static let curves: [[Double]] = (0 ..< 8).map { (trial: Int) -> [Double] in
        (0 ..< 6).map { (k: Int) -> Double in
            let level = Double((trial * 37 + k * 11) % 17) / 10
            return level + 1.0 / Double(k + 1)
        }
    }

    func testHyperbandStopsTheSameTrialsWithTheSameExplanationsAsTheSimulator() async throws {
        try await runHyperbandAgainstSimulator(restartAfterTick: nil)
    }

    /// The rebuilt policy (stored values replayed in order) must decide exactly what the live one
    /// would have: restart the coordinator half-way and the stops still match the simulator.
    func testHyperbandDecisionsSurviveACoordinatorRestart() async throws {
        try await runHyperbandAgainstSimulator(restartAfterTick: 3)
    }

    func runHyperbandAgainstSimulator(restartAfterTick: Int?) async throws {
        let parallel = 3
        var jsonl = ""
        for (trial, values) in Self.curves.enumerated() {
            for (k, value) in values.enumerated() { jsonl += "{\"trial\": \(trial), \"step\": \(k + 1), \"value\": \(value)}\n" }
        }
        let spec = try SweepFileParser.parse(Self.hyperbandSweep, fileName: "hb.yaml").spec
        let predicted = try PolicySimulator.simulate(sweep: spec, curvesJSONL: jsonl, parallel: parallel)
        let predictedStops = Dictionary(uniqueKeysWithValues: predicted.trials.compactMap { t in t.explanation.map { (t.trial, $0.description) } })
        XCTAssertFalse(predictedStops.isEmpty, "the curves must make hyperband stop something")

        let dir = try temporaryDirectory(self)
        let clock = TestClock()
        var cluster = try TestCoordinator(stateDirectory: dir, clock: clock, socket: dir + "/c.sock")
        let sweepID = try await cluster.coordinator.submit(sweepFileText: Self.hyperbandSweep, fileName: "hb.yaml", baseDirectory: dir)
        var worker = try cluster.worker("w1", slots: UInt16(parallel))

        // The simulator's schedule: fill free slots in index order, then every running trial in
        // ascending index reports its next point; a stop or the curve's end frees the slot.
        var running: [Int: Assign] = [:]
        var reported: [Int: Int] = [:]
        var indexOf: [UInt64: Int] = [:]
        var observedStops: [Int: String] = [:]
        var tick = 0
        while true {
            if tick == restartAfterTick {
                // Leases survive the restart; the worker reconnects and carries on with its trials.
                worker.close()
                try await cluster.stop()
                cluster = try TestCoordinator(stateDirectory: dir, clock: clock, socket: dir + "/c2.sock")
                worker = try cluster.worker("w1", slots: UInt16(parallel))
            }
            tick += 1
            while running.count < parallel {
                guard case .assign(let assign) = try await worker.request() else { break }
                guard case .int(let x) = assign.params["x"] else { return XCTFail("no x in \(assign.params)") }
                running[Int(x)] = assign
                reported[Int(x)] = 0
                indexOf[assign.trialID] = Int(x)
            }
            if running.isEmpty { break }
            for index in running.keys.sorted() {
                guard let assign = running[index], let count = reported[index] else { continue }
                let ack = try worker.ack(try await worker.report(assign, seq: UInt64(count),
                                                                 [metric("loss", Int64(count + 1), Self.curves[index][count])]))
                reported[index] = count + 1
                for (trialID, reason) in ack.stops {
                    guard let stopped = indexOf[trialID] else { continue }
                    XCTAssertNotNil(running.removeValue(forKey: stopped), "trial \(stopped) stopped twice")
                    observedStops[stopped] = reason
                }
                if running[index] != nil && count + 1 == Self.curves[index].count {
                    _ = try await worker.done(assign, step: Int64(count + 1))
                    running[index] = nil
                }
            }
        }
        worker.close()
        XCTAssertEqual(observedStops, predictedStops)
        let store = cluster.coordinator.sweepStore
        for trial in try store.trials(sweep: sweepID) {
            guard let index = indexOf[UInt64(trial.id)] else { XCTFail("trial \(trial.id) never assigned"); continue }
            if let reason = predictedStops[index] {
                XCTAssertEqual(trial.state, .stopped, "trial \(index)")
                XCTAssertEqual(trial.decodedStopExplanation?.message, reason)
                XCTAssertEqual(trial.decodedStopExplanation?.rule, "hyperband")
            } else {
                XCTAssertEqual(trial.state, .completed, "trial \(index)")
            }
        }
        XCTAssertEqual(try store.sweep(sweepID).state, .finished)
        try await cluster.stop()
    }

    func testLateReportAfterLeaseExpiryIsRejectedAndTheTrialMovesOn() async throws {
        let dir = try temporaryDirectory(self)
        let clock = TestClock()
        let cluster = try TestCoordinator(stateDirectory: dir, clock: clock, socket: dir + "/c.sock")
        _ = try await cluster.coordinator.submit(sweepFileText: GridSweepTests.gridSweep, fileName: "grid.yaml", baseDirectory: dir)
        let lost = try cluster.worker("lost")
        defer { lost.close() }
        let assign = try await lost.assignment()
        XCTAssertEqual(assign.run["first_seq"], .int(1))
        _ = try lost.ack(try await lost.report(assign, seq: 1, [metric("val_loss", 1, 0.9)]))

        clock.advance(16)   // past the 15 s lease: the report below is late even before the reaper runs
        let late = try await lost.report(assign, seq: 2, [metric("val_loss", 2, 0.8)])
        XCTAssertEqual(GridSweepTests.errorCode(late), .staleLease)
        let reaped = try await cluster.coordinator.tick()
        XCTAssertEqual(reaped, [Int64(assign.trialID)])
        let heartbeat = try lost.ack(try await lost.send(.heartbeat(Heartbeat(trials: [HeldTrial(trialID: assign.trialID, leaseEpoch: assign.leaseEpoch, step: 2)]))))
        guard case .stop = heartbeat.verdict(for: assign.trialID) else { return XCTFail("a lost lease must be dropped: \(heartbeat)") }

        // The trial goes to the next worker under a new epoch, continuing the report sequence.
        let next = try cluster.worker("next")
        defer { next.close() }
        let again = try await next.assignment()
        XCTAssertEqual(again.trialID, assign.trialID)
        XCTAssertGreaterThan(again.leaseEpoch, assign.leaseEpoch)
        XCTAssertEqual(again.params, assign.params)
        XCTAssertEqual(again.run["first_seq"], .int(2))
        // A new attempt reusing its predecessor's seq is refused; from first_seq it is stored.
        let reused = try await next.report(again, seq: 1, [metric("val_loss", 2, 0.7)])
        XCTAssertEqual(GridSweepTests.errorCode(reused), .unexpectedMessage)
        let continued = try next.ack(try await next.report(again, seq: 2, [metric("val_loss", 2, 0.7)]))
        XCTAssertEqual(continued.ackedSeq, 2)
        let stale = try await lost.report(assign, seq: 3, [metric("val_loss", 3, 0.6)])
        XCTAssertEqual(GridSweepTests.errorCode(stale), .staleLease)
        let values = try cluster.coordinator.sweepStore.metrics(trial: Int64(assign.trialID)).map(\.value)
        XCTAssertEqual(values, [0.9, 0.7])
        try await cluster.stop()
    }
}

/// A stop decided from a report that was stored just before the coordinator died is stored at
/// the next start, not lost.
final class LostStopTests: XCTestCase {
    static let sweep = """
        name: median
        method: grid
        command: [python3, train.py, "${args}"]
        metric: {name: loss, goal: minimize}
        parameters:
          x: {values: [0, 1, 2]}
        early_terminate: {type: median, warmup_steps: 0, min_trials: 1}
        """

    /// Trial 0 reports a good value; trial 1 a much worse one, which the median rule stops.
    /// With `crash`, trial 1's report goes into the store behind the coordinator's back (as if the
    /// process died after storing it), and the coordinator is then reopened.
    func run(crash: Bool) async throws -> Trial {
        let dir = try temporaryDirectory(self)
        let clock = TestClock()
        var cluster = try TestCoordinator(stateDirectory: dir, clock: clock, socket: dir + "/c.sock")
        _ = try await cluster.coordinator.submit(sweepFileText: Self.sweep, fileName: "m.yaml", baseDirectory: dir)
        let worker = try cluster.worker("w", slots: 2)
        let good = try await worker.assignment()
        let bad = try await worker.assignment()
        _ = try worker.ack(try await worker.report(good, seq: 0, [metric("loss", 1, 1.0)]))
        if crash {
            worker.close()
            try await cluster.stop()
            let store = try SweepStore(path: dir + "/thresher.sqlite")
            let outcome = try store.appendReport(trial: Int64(bad.trialID), seq: 0, epoch: Int64(bad.leaseEpoch),
                                                 points: [MetricPoint(step: 1, name: "loss", value: 50, time: clock.now())], now: clock.now())
            XCTAssertEqual(outcome, .stored(points: 1))
            try store.close()
            cluster = try TestCoordinator(stateDirectory: dir, clock: clock, socket: dir + "/c2.sock")
        } else {
            let ack = try worker.ack(try await worker.report(bad, seq: 0, [metric("loss", 1, 50)]))
            XCTAssertNotNil(ack.stops[bad.trialID])
            worker.close()
        }
        let trial = try cluster.coordinator.sweepStore.trial(Int64(bad.trialID))
        try await cluster.stop()
        return trial
    }

    func testStopLostInACrashIsStoredOnRestart() async throws {
        let live = try await run(crash: false)
        XCTAssertEqual(live.state, .stopped)
        let rebuilt = try await run(crash: true)
        XCTAssertEqual(rebuilt.state, .stopped)
        XCTAssertEqual(rebuilt.decodedStopExplanation?.message, live.decodedStopExplanation?.message)
        XCTAssertEqual(rebuilt.decodedStopExplanation?.rule, "median")
    }

    func testStoppedTrialStillUploadsACheckpointThatEntersTheTopK() async throws {
        let dir = try temporaryDirectory(self)
        let cluster = try TestCoordinator(stateDirectory: dir, clock: TestClock(), socket: dir + "/c.sock")
        _ = try await cluster.coordinator.submit(sweepFileText: Self.sweep, fileName: "m.yaml", baseDirectory: dir)
        let worker = try cluster.worker("w", slots: 2)
        defer { worker.close() }
        let good = try await worker.assignment()
        let bad = try await worker.assignment()
        _ = try worker.ack(try await worker.report(good, seq: 1, [metric("loss", 1, 1.0)]))
        // keep_top_k 3 (default) with two trials: the bad trial's checkpoint is still in the top-k.
        let ack = try worker.ack(try await worker.report(bad, seq: 1, [metric(ReservedMetric.checkpointBytes, 1, 64), metric("loss", 1, 50)]))
        XCTAssertNotNil(ack.stops[bad.trialID])
        XCTAssertTrue(ack.verdicts.contains(TrialVerdict(trialID: bad.trialID, verdict: .upload(step: 1))), "\(ack)")
        let file = CheckpointUploadTests.file(64, seed: 2)
        let reply = try await worker.send(CheckpointUploadTests.chunk(bad, step: 1, file, offset: 0, count: 64))
        XCTAssertEqual(reply, .chunkAck(ChunkAck(trialID: bad.trialID, step: 1, nextOffset: 64, status: .complete)))
        let trial = try cluster.coordinator.sweepStore.trial(Int64(bad.trialID))
        XCTAssertEqual(trial.state, .stopped)
        try await cluster.stop()
    }
}
