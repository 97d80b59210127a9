import Foundation
import ThresherStore
import XCTest

/// Process faults with real `thresher coordinator` and `thresher worker` processes, each test
/// ending with the invariant checker (`FaultInvariants`). Figures in docs/reliability.md.
final class ProcessFaultTests: XCTestCase {
    static let retention = "{keep_top_k: 3, keep_top_k_per_trial: 1, keep_latest_per_trial: true, max_bytes: 200000}"
    static let budget = 200_000

    /// The same sweep without faults: the reference the fault runs are compared with.
    func testFaultFreeRunMeetsEveryInvariant() throws {
        let cluster = try FaultCluster(self, sweep: FaultCluster.sweepText(ranks: [3, 0, 4, 1, 5, 2], steps: 8, pause: 0.1,
                                                                           checkpointBytes: 6000, retention: Self.retention))
        try cluster.startCoordinator()
        try cluster.startWorker("w1")
        try cluster.startWorker("w2")
        let observer = StorageObserver(stateDirectory: cluster.state, budget: Self.budget)
        let finished = cluster.waitForFinish()
        let seen = observer.stop()
        cluster.stopAll()
        XCTAssertTrue(finished, cluster.logs())
        let report = try FaultInvariants.check(state: cluster.state, budget: Self.budget, storage: seen, expectedBest: ["rank": 0])
        print("fault-free: \(report)")
        XCTAssertEqual(report.trials, 6)
        XCTAssertEqual(report.redoneSteps, 0, "nothing is redone without a fault")
        XCTAssertGreaterThan(report.checkpointsVerified, 0)
    }

    /// A worker SIGKILLed in the middle of a trial: its lease expires, another worker takes the
    /// trial and resumes it from the coordinator's copy of its latest checkpoint.
    func testWorkerKilledMidTrialIsResumedElsewhereFromTheLatestCheckpoint() throws {
        let cluster = try FaultCluster(self, sweep: FaultCluster.sweepText(ranks: [0, 1, 2, 3], steps: 10, pause: 0.15,
                                                                           checkpointBytes: 4000, retention: Self.retention,
                                                                           hyperband: false))
        try cluster.startCoordinator()
        let victim = try cluster.startWorker("victim")
        let observer = StorageObserver(stateDirectory: cluster.state, budget: Self.budget)
        // Kill once the victim's trial has a stored checkpoint past step 3 and is still running.
        let midTrial = cluster.wait(timeout: 60) { store in
            guard let sweep = try store.sweeps().first else { return false }
            return try store.trials(sweep: sweep.id, states: [.running]).contains { trial in
                try store.checkpoints(trial: trial.id).contains { $0.state == .stored && $0.step >= 3 }
            }
        }
        XCTAssertTrue(midTrial, cluster.logs())
        cluster.kill(victim)
        try cluster.startWorker("rescuer")
        let finished = cluster.waitForFinish()
        let seen = observer.stop()
        cluster.stopAll()
        XCTAssertTrue(finished, cluster.logs())
        let report = try FaultInvariants.check(state: cluster.state, budget: Self.budget, storage: seen, expectedBest: ["rank": 0])
        print("worker SIGKILL mid-trial: \(report)")
        XCTAssertEqual(report.trialStates[.completed], 4, "every trial completes despite the kill")
        // The killed trial was assigned again and resumed from a stored checkpoint, not from step 1.
        let store = try SweepStore(readingAt: cluster.state + "/thresher.sqlite")
        defer { try? store.close() }
        let resumed = try store.events(limit: 10_000).filter { $0.kind == "trial.assigned" && !$0.detail.contains("\"resume\":null") }
        XCTAssertEqual(resumed.count, 1, "exactly one trial was resumed from a checkpoint: \(resumed.map(\.detail))")
    }

    /// A worker SIGKILLed while it uploads a checkpoint of several 1 MiB chunks (the coordinator
    /// shows it `uploading`, a part file is being assembled): the partial upload never becomes a
    /// stored blob, the budget holds, and the trial finishes on another worker.
    func testWorkerKilledMidUploadLeavesNoPartialBlobAndTheBudgetHolds() throws {
        // Four 1 MiB chunks, small enough for a debug build to hash in about a second; steps far
        // enough apart that each upload finishes before the next step's checkpoint is saved.
        let size = 4 << 20, budget = 40 << 20
        let cluster = try FaultCluster(self, sweep: FaultCluster.sweepText(
            ranks: [0], steps: 3, pause: 2.5, checkpointBytes: size,
            retention: "{keep_top_k: 1, keep_top_k_per_trial: 1, keep_latest_per_trial: true, max_bytes: \(budget)}",
            hyperband: false))
        // The coordinator hashes a finished upload on its actor (docs/coordinator.md, Known gaps):
        // in a debug build that holds heartbeats for seconds, so the lease is longer here.
        cluster.leaseTimeout = 8
        try cluster.startCoordinator()
        let victim = try cluster.startWorker("victim")
        let observer = StorageObserver(stateDirectory: cluster.state, budget: budget)
        // A part file with at least one chunk in it and not yet all of them.
        var partial: (path: String, bytes: Int)?
        let deadline = Date().addingTimeInterval(90)
        while partial == nil && Date() < deadline && victim.isRunning {
            // The last step's upload, so earlier steps have a stored copy to resume from.
            partial = StorageObserver.files(under: cluster.state + "/uploads")
                .first { $0.path.contains("_s3_") && $0.bytes >= 1 << 20 && $0.bytes < size }
            if partial == nil { Thread.sleep(forTimeInterval: 0.0005) }
        }
        let mid = try XCTUnwrap(partial, "never saw a partial upload\n" + cluster.logs())
        cluster.kill(victim)
        let store = try SweepStore(readingAt: cluster.state + "/thresher.sqlite")
        let rows = try store.trials(sweep: try XCTUnwrap(store.sweeps().first).id).flatMap { try store.checkpoints(trial: $0.id) }
        try store.close()
        XCTAssertEqual(rows.filter { $0.state == .uploading }.map(\.step), [3], "the coordinator shows the killed upload as uploading")
        // What a resume can start from: the newest stored copy (step 2 unless its own upload was
        // still running when step 3 was saved, on a slow machine).
        let resumeStep = Int(rows.filter { $0.state == .stored }.map(\.step).max() ?? 0)
        print("worker SIGKILL mid-upload: killed with \(mid.bytes) of \(size) bytes in \(mid.path); newest stored step \(resumeStep)")

        try cluster.startWorker("rescuer")
        let finished = cluster.waitForFinish()
        let seen = observer.stop()
        cluster.stopAll()
        XCTAssertTrue(finished, cluster.logs())
        let report = try FaultInvariants.check(state: cluster.state, budget: budget, storage: seen, expectedBest: ["rank": 0])
        print("worker SIGKILL mid-upload: \(report)")
        XCTAssertEqual(report.trialStates[.completed], 1)
        XCTAssertEqual(report.checkpointsUploadingAtEnd, 0, "no reservation is left uploading once the sweep is finished")
        // The previous stored copy was kept while the killed upload ran: the trial resumed from it
        // and redid only the steps after it.
        XCTAssertEqual(report.redoneSteps, 3 - resumeStep, "only the work since the last stored checkpoint is redone")
        let after = try SweepStore(readingAt: cluster.state + "/thresher.sqlite")
        defer { try? after.close() }
        let resumed = try after.events(limit: 10_000).filter { $0.kind == "trial.assigned" && $0.detail.contains("\"resume\":") }
            .filter { !$0.detail.contains("\"resume\":null") }
        XCTAssertEqual(resumed.count, resumeStep > 0 ? 1 : 0, "the second attempt resumed from step \(resumeStep): \(resumed.map(\.detail))")
        XCTAssertEqual(StorageObserver.files(under: cluster.state + "/uploads").map(\.path), [], "no part file is left behind")
        XCTAssertGreaterThan(report.checkpointsVerified, 0)
    }

    /// The coordinator SIGKILLed in the middle of a hyperband sweep and restarted on the same state
    /// folder: the workers reconnect, keep their leases, and the sweep finishes with every invariant.
    func testCoordinatorKilledMidSweepAndRestartedFinishesTheSweep() throws {
        let cluster = try FaultCluster(self, sweep: FaultCluster.sweepText(ranks: [3, 0, 4, 1, 5, 2], steps: 8, pause: 0.15,
                                                                           checkpointBytes: 6000, retention: Self.retention))
        cluster.leaseTimeout = 6
        let first = try cluster.startCoordinator()
        try cluster.startWorker("w1")
        try cluster.startWorker("w2")
        let observer = StorageObserver(stateDirectory: cluster.state, budget: Self.budget)
        // Kill once two trials have ended and others are running.
        let midSweep = cluster.wait(timeout: 60) { store in
            guard let sweep = try store.sweeps().first else { return false }
            let counts = try store.trialCounts(sweep: sweep.id)
            return (counts[.completed] ?? 0) + (counts[.stopped] ?? 0) >= 2 && (counts[.running] ?? 0) >= 1
        }
        XCTAssertTrue(midSweep, cluster.logs())
        cluster.kill(first)
        Thread.sleep(forTimeInterval: 0.5)
        try cluster.startCoordinator()
        let finished = cluster.waitForFinish()
        let seen = observer.stop()
        cluster.stopAll()
        XCTAssertTrue(finished, cluster.logs())
        let report = try FaultInvariants.check(state: cluster.state, budget: Self.budget, storage: seen, expectedBest: ["rank": 0])
        print("coordinator SIGKILL mid-sweep: \(report)")
        XCTAssertEqual(report.trials, 6)
        XCTAssertEqual(report.trialStates[.failed] ?? 0, 0, "no trial failed because of the restart")
        // The restart gives held leases a full timeout: the workers reconnect within it and carry on.
        XCTAssertEqual(report.assignments, 6, "no lease was reaped over the outage")
    }

    /// A worker SIGKILLed and started again at once with the same id and trial folder (what a
    /// service manager does): the killed worker's trial program is still running when the trial,
    /// its lease expired, is handed to the new worker and relaunched in the same trial folder.
    func testWorkerKilledAndRestartedOnTheSameFolderWhileItsTrialProgramStillRuns() throws {
        let cluster = try FaultCluster(self, sweep: FaultCluster.sweepText(ranks: [0], steps: 16, pause: 0.5,
                                                                           checkpointBytes: 3000, retention: Self.retention,
                                                                           hyperband: false))
        try cluster.startCoordinator()
        let first = try cluster.startWorker("w1")
        let midTrial = cluster.wait(timeout: 60) { store in
            guard let sweep = try store.sweeps().first else { return false }
            return try store.trials(sweep: sweep.id, states: [.running]).contains { trial in
                try store.checkpoints(trial: trial.id).contains { $0.state == .stored && $0.step >= 2 }
            }
        }
        XCTAssertTrue(midTrial, cluster.logs())
        cluster.kill(first)
        try cluster.startWorker("w1")
        let finished = cluster.waitForFinish()
        cluster.stopAll()
        XCTAssertTrue(finished, cluster.logs())
        let report = try FaultInvariants.check(state: cluster.state, budget: nil, expectedBest: ["rank": 0])
        print("worker SIGKILL, restarted on the same folder: \(report)")
        XCTAssertEqual(report.trialStates[.completed], 1)
        XCTAssertEqual(report.assignments, 2)
        XCTAssertTrue(cluster.logs().contains("left running in its folder by an earlier worker"),
                      "the killed worker's program was still running and was ended\n" + cluster.logs())
    }
}
