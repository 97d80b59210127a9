import Foundation
import ThresherStore
import XCTest

/// A real cluster for fault tests: one `thresher coordinator` process and any number of
/// `thresher worker` processes on an ipc:// socket in a fresh folder, running a sweep of
/// `Fixtures/fault_trial.py`. Processes can be killed (SIGKILL) and started again; every process
/// still running at the test's teardown is terminated and waited for, and the folder removed.
final class FaultCluster {
    let folder: String
    let state: String
    let url: String
    let token: String
    let sweepFile: String
    let testCase: XCTestCase
    private(set) var coordinator: Process?
    private(set) var workers: [String: Process] = [:]
    private var coordinatorStarts = 0
    var leaseTimeout: Double = 3

    /// A sweep of the fault trial: a grid over `rank`, `steps` steps of `pause` seconds each,
    /// hyperband judging at steps 2 and 4 (eta 2), checkpoints of `checkpointBytes`, the given retention.
    static func sweepText(ranks: [Int], steps: Int, pause: Double, checkpointBytes: Int, retention: String,
                          hyperband: Bool = true) -> String {
        """
        program: fault_trial.py
        method: grid
        metric: {name: loss, goal: minimize}
        command: [python3, "${program}", "${args}"]
        parameters:
          rank: {values: [\(ranks.map(String.init).joined(separator: ", "))]}
          steps: {value: \(steps)}
          pause: {value: \(pause)}
          ckpt_bytes: {value: \(checkpointBytes)}
        \(hyperband ? "early_terminate: {type: hyperband, min_iter: 2, eta: 2}" : "")
        thresher:
          seed: 11
          retention: \(retention)
        """
    }

    /// Makes the folder, the token, the program and the sweep file `faults.yaml`; `state` is the
    /// coordinator's state folder (default: `<folder>/state`).
    init(_ testCase: XCTestCase, sweep: String, state: String? = nil) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-faults-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        self.testCase = testCase
        self.state = state ?? folder + "/state"
        url = "ipc://" + folder + "/coordinator.ipc"
        token = folder + "/cluster.token"
        sweepFile = folder + "/faults.yaml"
        let dir = folder
        // THRESHER_FAULTS_KEEP=1 keeps the folder (logs, state) for a post-mortem.
        if ProcessInfo.processInfo.environment["THRESHER_FAULTS_KEEP"] != "1" {
            testCase.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        }
        let made = try ThresherProcess.run(["token", "new", "--out", token])
        guard made.status == 0 else { throw XCTSkip("thresher token new failed: \(made.stderr)") }
        try FileManager.default.copyItem(atPath: DeterministicTrialProgram.faultTrialPath, toPath: folder + "/fault_trial.py")
        try sweep.write(toFile: sweepFile, atomically: true, encoding: .utf8)
    }

    /// Starts (or restarts) the coordinator on the same state folder, submitting the sweep (a
    /// restart finds it already there and continues it).
    @discardableResult
    func startCoordinator() throws -> Process {
        coordinatorStarts += 1
        let process = try ThresherProcess.spawn(
            ["coordinator", "--listen", url, "--state", state, "--token-file", token, "--sweep", sweepFile,
             "--lease-timeout", String(leaseTimeout)],
            in: folder, log: folder + "/coordinator-\(coordinatorStarts).log", for: testCase)
        coordinator = process
        return process
    }

    /// Starts a worker with one slot and its own trial folder.
    @discardableResult
    func startWorker(_ id: String) throws -> Process {
        let process = try ThresherProcess.spawn(
            ["worker", "--connect", url, "--token-file", token, "--slots", "1", "--folder", folder + "/" + id, "--id", id],
            in: folder, log: folder + "/worker-\(id)-\(UUID().uuidString.prefix(4)).log", for: testCase)
        workers[id] = process
        return process
    }

    /// SIGKILL, and wait until the process is gone.
    func kill(_ process: Process) {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM every process still running and wait for each (workers first).
    func stopAll() {
        for process in Array(workers.values) + [coordinator].compactMap({ $0 }) where process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// Reads the store (read-only) until `condition` holds or `timeout` passes; returns whether it held.
    /// A store that cannot be opened yet (no file, a schema not yet migrated) counts as not holding.
    func wait(timeout: TimeInterval, every interval: TimeInterval = 0.05,
              until condition: (SweepStore) throws -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let store = try? SweepStore(readingAt: state + "/thresher.sqlite") {
                let held = (try? condition(store)) ?? false
                try? store.close()
                if held { return true }
            }
            Thread.sleep(forTimeInterval: interval)
        }
        return false
    }

    /// Waits for the sweep to be finished.
    func waitForFinish(timeout: TimeInterval = 120) -> Bool {
        wait(timeout: timeout, every: 0.2) { store in try store.sweeps().first?.state == .finished }
    }

    /// Everything the processes wrote, for failure messages.
    func logs() -> String {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".log") }.sorted()
        return names.map { name in
            let text = (try? String(contentsOfFile: folder + "/" + name, encoding: .utf8)) ?? ""
            return "--- \(name)\n" + text.split(separator: "\n").suffix(40).joined(separator: "\n")
        }.joined(separator: "\n")
    }
}
