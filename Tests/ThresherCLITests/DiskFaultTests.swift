import Foundation
import ThresherStore
import XCTest

/// Disk faults under real `thresher coordinator` and `thresher worker` processes, each test ending
/// with the invariant checker (`FaultInvariants`). Figures in docs/reliability.md.
final class DiskFaultTests: XCTestCase {
    static let retention = "{keep_top_k: 3, keep_top_k_per_trial: 1, keep_latest_per_trial: true, max_bytes: 200000}"
    static let budget = 200_000

    /// Flips bytes in the middle of a file, in place.
    static func flipBytes(_ path: String) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2)
        let original = try handle.read(upToCount: 8) ?? Data()
        try handle.seek(toOffset: size / 2)
        try handle.write(contentsOf: Data(original.map { $0 ^ 0x5a }))
    }

    /// A stored checkpoint damaged on disk: the trial that should resume from it is handed the
    /// resume point, the coordinator checks the blob when the new worker starts reading it, refuses
    /// it (never sends its bytes), evicts it and reports it; the trial starts over and the sweep
    /// finishes with every invariant. Afterwards `thresher fetch` refuses a damaged best checkpoint.
    func testCorruptedBlobIsDetectedEvictedAndNeverServed() throws {
        let cluster = try FaultCluster(self, sweep: FaultCluster.sweepText(ranks: [0, 1, 2, 3], steps: 10, pause: 0.15,
                                                                           checkpointBytes: 5000, retention: Self.retention,
                                                                           hyperband: false))
        try cluster.startCoordinator()
        let victim = try cluster.startWorker("victim")
        let observer = StorageObserver(stateDirectory: cluster.state, budget: Self.budget)
        var running: Int64?
        let midTrial = cluster.wait(timeout: 60) { store in
            guard let sweep = try store.sweeps().first else { return false }
            running = try store.trials(sweep: sweep.id, states: [.running]).first { trial in
                try store.checkpoints(trial: trial.id).contains { $0.state == .stored && $0.step >= 3 }
            }?.id
            return running != nil
        }
        XCTAssertTrue(midTrial, cluster.logs())
        cluster.kill(victim)
        // The checkpoint the trial will resume from: its highest stored step, now that nothing moves.
        let store = try SweepStore(readingAt: cluster.state + "/thresher.sqlite")
        let trial = try XCTUnwrap(running)
        let resumePoint = try XCTUnwrap(store.checkpoints(trial: trial).filter { $0.state == .stored }.last)
        try store.close()
        let digest = try XCTUnwrap(resumePoint.digest)
        try Self.flipBytes(try BlobStore(stateDirectory: cluster.state).blobPath(digest))

        try cluster.startWorker("rescuer")
        let finished = cluster.waitForFinish()
        let seen = observer.stop()
        XCTAssertTrue(finished, cluster.logs())
        let report = try FaultInvariants.check(state: cluster.state, budget: Self.budget, storage: seen, expectedBest: ["rank": 0])
        print("corrupted blob: \(report)")
        XCTAssertEqual(report.trialStates[.completed], 4, "the rest of the sweep is unaffected")
        let after = try SweepStore(readingAt: cluster.state + "/thresher.sqlite")
        defer { try? after.close() }
        XCTAssertEqual(try after.checkpoint(resumePoint.id).state, .evicted)
        let events = try after.events(trial: trial).filter { $0.kind == "checkpoint.evicted" && $0.detail.contains("blob corrupt on disk") }
        XCTAssertEqual(events.count, 1, "the corruption is reported in the event log")
        XCTAssertGreaterThanOrEqual(report.redoneSteps, Int(resumePoint.step), "the trial started over instead of resuming from bad bytes")
        let logs = cluster.logs()
        XCTAssertTrue(logs.contains("is corrupt on disk"), "the coordinator logs it\n" + logs)
        XCTAssertTrue(logs.contains("cannot download the step-\(resumePoint.step) checkpoint"), "the worker was refused\n" + logs)

        // The best checkpoint damaged after the sweep: `thresher fetch` refuses it (digest) and writes nothing for it.
        let best = try XCTUnwrap(after.bestCheckpoints(sweep: 1, goal: .minimize, limit: 1).first?.digest)
        try Self.flipBytes(try BlobStore(stateDirectory: cluster.state).blobPath(best))
        cluster.stopAll()
        let out = cluster.folder + "/best"
        let fetch = try ThresherProcess.run(["fetch", "faults", "--state", cluster.state, "--best", "1", "--out", out])
        XCTAssertEqual(fetch.status, 2, fetch.stdout + fetch.stderr)
        XCTAssertTrue(fetch.stderr.contains(best), fetch.stderr)
        let written = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
        XCTAssertFalse(written.contains { $0.hasSuffix(".safetensors") }, "nothing is written from a corrupt blob: \(written)")
    }

    /// Mounts a tmpfs of `bytes` at `path` (we are root in CI; skips where mount is not permitted)
    /// and unmounts it at teardown, also on failure.
    func mountSmallFilesystem(at path: String, bytes: Int) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=\(bytes)", "tmpfs", path]
        mount.standardError = FileHandle.nullDevice
        do { try mount.run() } catch { throw XCTSkip("cannot run mount: \(error)") }
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else { throw XCTSkip("mounting a tmpfs is not permitted here (mount exit \(mount.terminationStatus))") }
        addTeardownBlock {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = ["-l", path]
            try? umount.run()
            umount.waitUntilExit()
        }
    }

    /// Fills the file system holding `folder` with one file until a write fails (ENOSPC); returns its path.
    static func fill(_ folder: String) throws -> String {
        let path = folder + "/filler"
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let block = Data(count: 64 << 10)
        while (try? handle.write(contentsOf: block)) != nil {}
        return path
    }

    /// The state folder fills up mid-sweep (a small tmpfs, filled by another file): the coordinator
    /// keeps running and answers errors — failed uploads, failed commits — without corrupting what
    /// it stored; once space is freed the sweep finishes and every invariant holds.
    func testStateFolderFillingUpCorruptsNothingAndTheSweepFinishesOnceSpaceIsFreed() throws {
        let cluster = try FaultCluster(self, sweep: FaultCluster.sweepText(
            ranks: [0, 1, 2, 3], steps: 10, pause: 0.15, checkpointBytes: 200_000,
            retention: "{keep_top_k: 3, keep_top_k_per_trial: 1, keep_latest_per_trial: true, max_bytes: 50000000}",
            hyperband: false))
        try mountSmallFilesystem(at: cluster.state, bytes: 24 << 20)
        let coordinator = try cluster.startCoordinator()
        try cluster.startWorker("w1")
        try cluster.startWorker("w2")
        let started = cluster.wait(timeout: 60) { store in
            guard let sweep = try store.sweeps().first else { return false }
            return try store.trials(sweep: sweep.id).contains { trial in try store.checkpoints(trial: trial.id).contains { $0.state == .stored } }
        }
        XCTAssertTrue(started, cluster.logs())
        let filler = try Self.fill(cluster.state)
        Thread.sleep(forTimeInterval: 6)   // trials report and upload against a full disk, past the 3 s lease
        XCTAssertTrue(coordinator.isRunning, "the coordinator survives a full disk\n" + cluster.logs())
        let fullLog = cluster.logs()
        try FileManager.default.removeItem(atPath: filler)
        let finished = cluster.waitForFinish()
        cluster.stopAll()
        XCTAssertTrue(finished, cluster.logs())
        let report = try FaultInvariants.check(state: cluster.state, storage: nil, expectedBest: ["rank": 0])
        print("state folder full: \(report)")
        XCTAssertEqual(report.trialStates[.failed] ?? 0, 0, "no trial failed for good because of the full disk\n" + cluster.logs())
        // Leases stand still while commits fail: no trial lost its lease to the full disk.
        XCTAssertEqual(report.assignments, 4, "no lease ran out while renewals could not be stored\n" + cluster.logs())
        XCTAssertEqual(report.redoneSteps, 0)
        let integrity = Process()
        integrity.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") {
            let pipe = Pipe()
            integrity.arguments = [cluster.state + "/thresher.sqlite", "PRAGMA integrity_check"]
            integrity.standardOutput = pipe
            try integrity.run()
            integrity.waitUntilExit()
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(text.trimmingCharacters(in: .whitespacesAndNewlines), "ok")
        }
        print("state folder full: errors while full:\n" + fullLog.split(separator: "\n").filter { $0.contains("error") || $0.contains("warning") }.prefix(12).joined(separator: "\n"))
    }
}
