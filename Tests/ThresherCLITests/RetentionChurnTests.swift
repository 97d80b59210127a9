import Foundation
import XCTest

/// `max_bytes` is a hard budget while checkpoints churn: a real `thresher run` (coordinator and two
/// worker processes) on trials that checkpoint every step with sizes that vary, watched from outside
/// by listing the state folder's blobs and partial uploads as fast as it can.
final class RetentionChurnTests: XCTestCase {
    static let budget = 40_000

    /// Each step: a checkpoint of 3–9 KB (size varies with lr and step), then a noisy loss, so the
    /// top-k set keeps changing and the latest copies keep being replaced.
    static let program = #"""
        import json, os, random, sys, time
        args = dict(a.lstrip("-").split("=", 1) for a in sys.argv[1:] if "=" in a)
        lr, steps = float(args["lr"]), int(args["steps"])
        rng = random.Random(int(lr * 1000))
        ckpt = os.environ["THRESHER_CHECKPOINT_DIR"]
        with open(os.environ["THRESHER_METRICS_FILE"], "a") as metrics:
            for step in range(1, steps + 1):
                time.sleep(0.03)
                size = 3000 + (int(lr * 7919) * step) % 6000
                tmp = os.path.join(ckpt, ".tmp")
                with open(tmp, "wb") as f:
                    f.write(os.urandom(size))
                os.rename(tmp, os.path.join(ckpt, "step-%d.safetensors" % step))
                loss = lr / step + rng.random() * 0.5
                metrics.write(json.dumps({"step": step, "loss": loss}) + "\n")
                metrics.flush()
        """#

    func testStoredBytesNeverExceedTheBudgetWhileCheckpointsChurn() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-churn-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        try Self.program.write(toFile: folder + "/churn.py", atomically: true, encoding: .utf8)
        try """
            program: churn.py
            method: grid
            metric: {name: loss, goal: minimize}
            command: [python3, "${program}", "${args}"]
            parameters:
              lr: {values: [0.11, 0.23, 0.37, 0.41, 0.53, 0.67, 0.71, 0.89]}
              steps: {value: 12}
            thresher:
              seed: 3
              retention: {keep_top_k: 3, keep_top_k_per_trial: 1, keep_latest_per_trial: true, max_bytes: \(Self.budget)}
            """.write(toFile: folder + "/churn.yaml", atomically: true, encoding: .utf8)

        let state = folder + "/state"
        let run = try ThresherProcess.spawn(["run", "churn.yaml", "--workers", "2", "--state", state, "--best", "3"],
                                            in: folder, log: folder + "/run.log", for: self)
        let log = folder + "/run.log"

        let observer = StorageObserver(stateDirectory: state, budget: Self.budget)
        let deadline = Date().addingTimeInterval(240)
        while run.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        run.waitUntilExit()
        let seen = observer.stop()
        let (observations, peak, everSeen) = (seen.observations, seen.peakBytes, seen.blobsSeen)
        for over in seen.overBudget {
            XCTFail("\(over.bytes) bytes held at one moment, over the \(Self.budget)-byte budget: \(over.files)")
        }
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        XCTAssertEqual(run.terminationStatus, 0, output)
        let final = Set(StorageObserver.files(under: state + "/blobs").map(\.path))
        print("retention churn: peak \(peak) of \(Self.budget) bytes over \(observations) observations; \(everSeen.count) blobs stored, \(final.count) kept")
        XCTAssertGreaterThan(observations, 20, "the run was too quick to watch")
        XCTAssertGreaterThan(peak, 0, "no checkpoint was ever stored")
        XCTAssertFalse(everSeen.subtracting(final).isEmpty,
                       "no stored checkpoint was ever evicted, so nothing churned (seen \(everSeen.count), kept \(final.count))")
        XCTAssertLessThanOrEqual(StorageObserver.files(under: state + "/blobs").reduce(0) { $0 + $1.bytes }, Self.budget)
        // What is kept at the end is the best and intact: fetch checks each file against its digest.
        let best = try FileManager.default.contentsOfDirectory(atPath: state + "/best").filter { $0.hasSuffix(".safetensors") }
        XCTAssertFalse(best.isEmpty, output)
        XCTAssertLessThanOrEqual(best.count, 3)
    }
}
