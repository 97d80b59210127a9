import Foundation
import XCTest

/// `thresher submit / status / stop / export / fetch` against a `thresher coordinator` child over
/// loopback TCP, with a `thresher worker` child running command trials in python3.
final class ClientCommandTests: XCTestCase {
    /// A trial program: `steps` steps of `delay` seconds, a checkpoint before each step's line,
    /// resuming after the step recorded in THRESHER_RESUME_FROM (and saying so on stdout).
    static let program = #"""
        import json, os, sys, time
        args = dict(a.lstrip("-").split("=", 1) for a in sys.argv[1:] if "=" in a)
        steps, delay, lr = int(args.get("steps", 3)), float(args.get("delay", 0)), float(args.get("lr", 0.1))
        ckpt = os.environ["THRESHER_CHECKPOINT_DIR"]
        start = 1
        resume = os.environ.get("THRESHER_RESUME_FROM")
        if resume:
            with open(resume) as f:
                start = json.load(f)["step"] + 1
            print("resumed from %s at step %d" % (resume, start - 1), flush=True)
        with open(os.environ["THRESHER_METRICS_FILE"], "a") as metrics:
            for step in range(start, steps + 1):
                time.sleep(delay)
                tmp = os.path.join(ckpt, ".tmp")
                with open(tmp, "w") as f:
                    json.dump({"step": step, "lr": lr, "pad": "x" * 200}, f)
                os.rename(tmp, os.path.join(ckpt, "step-%d.safetensors" % step))
                metrics.write(json.dumps({"step": step, "loss": lr * 10 / step}) + "\n")
                metrics.flush()
        """#

    struct Cluster {
        let folder: String
        let token: String
        let url: String
        var children: [Process] = []
    }

    /// A token, the program, a coordinator child on a free loopback port.
    func startCluster(leaseTimeout: Double = 15) throws -> Cluster {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-client-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        let token = folder + "/cluster.token"
        XCTAssertEqual(try ThresherProcess.run(["token", "new", "--out", token]).status, 0)
        try Self.program.write(toFile: folder + "/train.py", atomically: true, encoding: .utf8)
        let port = Int.random(in: 20_000 ..< 60_000)
        var cluster = Cluster(folder: folder, token: token, url: "tcp://127.0.0.1:\(port)")
        cluster.children.append(try start(["coordinator", "--listen", cluster.url, "--state", folder + "/state", "--token-file", token,
                                           "--lease-timeout", "\(leaseTimeout)"], log: folder + "/coordinator.log"))
        return cluster
    }

    func sweepFile(_ cluster: Cluster, name: String, steps: Int, delay: Double, lrs: [Double], latest: Bool = false) throws -> String {
        let path = cluster.folder + "/\(name).yaml"
        try """
            program: train.py
            method: grid
            metric: {name: loss, goal: minimize}
            command: [python3, "${program}", "${args}"]
            parameters:
              lr: {values: [\(lrs.map { "\($0)" }.joined(separator: ", "))]}
              steps: {value: \(steps)}
              delay: {value: \(delay)}
            thresher:
              retention: {keep_top_k: 2, keep_latest_per_trial: \(latest), max_bytes: 1MB}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A child in `folder` (workers run command trials in their working folder, where train.py is).
    func start(_ arguments: [String], log: String) throws -> Process {
        try ThresherProcess.spawn(arguments, in: (log as NSString).deletingLastPathComponent, log: log, for: self)
    }

    func startWorker(_ cluster: Cluster, id: String) throws -> Process {
        try start(["worker", "--connect", cluster.url, "--token-file", cluster.token, "--slots", "1", "--folder", cluster.folder + "/" + id,
                   "--id", id], log: cluster.folder + "/\(id).log")
    }

    func client(_ cluster: Cluster, _ arguments: [String]) throws -> ThresherProcess.Output {
        try ThresherProcess.run(arguments + ["--coordinator", cluster.url, "--token-file", cluster.token], in: URL(fileURLWithPath: cluster.folder))
    }

    func status(_ cluster: Cluster, _ sweep: String) throws -> [String: Any] {
        let out = try client(cluster, ["status", sweep, "--json"])
        XCTAssertEqual(out.status, 0, out.stderr)
        return (try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    /// Polls `status` until `done` holds (at most 90 s).
    func waitFor(_ cluster: Cluster, _ sweep: String, _ what: String, _ done: ([String: Any]) -> Bool) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(90)
        var last: [String: Any] = [:]
        while Date() < deadline {
            last = try status(cluster, sweep)
            if done(last) { return last }
            Thread.sleep(forTimeInterval: 0.3)
        }
        let logs = (try? String(contentsOfFile: cluster.folder + "/coordinator.log", encoding: .utf8)) ?? ""
        XCTFail("timed out waiting for \(what): \(last)\n\(logs)")
        return last
    }

    func testSubmitStatusExportFetchAndStopAgainstARunningCoordinator() throws {
        let cluster = try startCluster()
        // A broken file is refused here, with its line, before anything is sent.
        let broken = cluster.folder + "/broken.yaml"
        try "method: grid\nparameters:\n  lr: {values: 3}\n".write(toFile: broken, atomically: true, encoding: .utf8)
        let refused = try client(cluster, ["submit", broken])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("broken.yaml") && refused.stderr.contains("3"), refused.stderr)

        let file = try sweepFile(cluster, name: "small", steps: 3, delay: 0, lrs: [0.1, 0.2])
        let submitted = try client(cluster, ["submit", file])
        XCTAssertEqual(submitted.status, 0, submitted.stderr)
        XCTAssertEqual(submitted.stdout, "sweep 1 small submitted\n")
        let again = try client(cluster, ["submit", file])
        XCTAssertTrue(again.stdout.hasPrefix("sweep 1 small already there"), again.stdout)
        // --set: a bad override is refused here naming it; a good one is what the coordinator stores.
        let badSet = try client(cluster, ["submit", file, "--set", "parameters.lr.valuez=[0.5]"])
        XCTAssertEqual(badSet.status, 2)
        XCTAssertTrue(badSet.stderr.contains("--set parameters.lr.valuez"), badSet.stderr)
        let overridden = try client(cluster, ["submit", file, "--name", "small-set", "--set", "parameters.lr.values=[0.5]"])
        XCTAssertEqual(overridden.stdout, "sweep 2 small-set submitted\n", overridden.stderr)
        XCTAssertEqual(try status(cluster, "small-set")["total_trials"] as? Int, 1)

        _ = try startWorker(cluster, id: "w1")
        // --watch returns once the sweep has ended; not a terminal, so plain JSON lines.
        let watched = try client(cluster, ["status", "small", "--watch", "--interval", "0.2", "--json"])
        XCTAssertEqual(watched.status, 0, watched.stderr)
        let final = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try XCTUnwrap(watched.lines.last).utf8)) as? [String: Any])
        XCTAssertEqual(final["state"] as? String, "finished")
        let trials = try XCTUnwrap(final["trials"] as? [[String: Any]])
        XCTAssertEqual(trials.map { $0["state"] as? String }, ["completed", "completed"])
        XCTAssertEqual(trials.map { $0["reports"] as? Int }, [3, 3])
        // Not a terminal, no --json: one line per trial event, then the summary.
        let plain = try client(cluster, ["status", "small", "--watch", "--interval", "0.2"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertEqual(plain.lines.filter { $0.hasPrefix("trial ") && $0.contains(" completed after ") }.count, 2, plain.stdout)
        XCTAssertEqual(plain.lines.last?.hasPrefix("2/2 trials ended, 2 completed"), true, plain.stdout)
        // A terminal: the live table, drawn from the coordinator's status document.
        let table = try ThresherProcess.runOnTerminal(["status", "small", "--watch", "--interval", "0.2",
                                                       "--coordinator", cluster.url, "--token-file", cluster.token],
                                                      columns: 100, rows: 20, in: URL(fileURLWithPath: cluster.folder))
        XCTAssertEqual(table.status, 0, table.stdout)
        XCTAssertTrue(table.stdout.contains("rung") && table.stdout.contains("100%"), table.stdout)
        XCTAssertFalse(table.stdout.contains("\u{1B}[2J"), "no screen clear")
        XCTAssertTrue(table.stdout.hasSuffix("\u{1B}[?25h"), "the cursor comes back: \(table.stdout.suffix(40).debugDescription)")
        // The remote status is the local one, byte for byte.
        let local = try ThresherProcess.run(["status", "small", "--state", cluster.folder + "/state", "--json"])
        XCTAssertEqual(try client(cluster, ["status", "small", "--json"]).stdout, local.stdout)
        // report --coordinator: the coordinator renders the page a local report of its state gives
        // (they differ only in when they were made).
        let remoteReport = cluster.folder + "/remote.html", localReport = cluster.folder + "/local.html"
        let reported = try client(cluster, ["report", "small", "--out", remoteReport])
        XCTAssertEqual(reported.status, 0, reported.stderr)
        let localRun = try ThresherProcess.run(["report", "small", "--state", cluster.folder + "/state", "--out", localReport])
        XCTAssertEqual(localRun.status, 0, localRun.stderr)
        func withoutTime(_ path: String) throws -> String {
            try String(contentsOfFile: path, encoding: .utf8)
                .replacingOccurrences(of: #"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"#, with: "TIME", options: .regularExpression)
        }
        let page = try withoutTime(remoteReport)
        XCTAssertTrue(page.contains("<svg") && page.contains("small"), String(page.prefix(300)))
        XCTAssertEqual(page, try withoutTime(localReport))
        let unknown = try client(cluster, ["report", "nope", "--out", cluster.folder + "/nope.html"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.contains("no sweep nope") && unknown.stderr.contains("small"), unknown.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: cluster.folder + "/nope.html"))
        let text = try client(cluster, ["status"])
        XCTAssertTrue(text.stdout.contains("1\tsmall\tfinished\t2/2 trials ended"), text.stdout)

        // Export in small pages, both formats, equals the local export; one loss row per step.
        for format in ["csv", "jsonl"] {
            let remote = cluster.folder + "/remote.\(format)", localOut = cluster.folder + "/local.\(format)"
            let r = try client(cluster, ["export", "small", "--format", format, "--out", remote, "--page-size", "2"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let l = try ThresherProcess.run(["export", "small", "--format", format, "--out", localOut, "--state", cluster.folder + "/state"])
            XCTAssertEqual(l.status, 0, l.stderr)
            let remoteText = try String(contentsOfFile: remote, encoding: .utf8)
            XCTAssertEqual(remoteText, try String(contentsOfFile: localOut, encoding: .utf8))
            let lossLines = remoteText.split(separator: "\n").filter { $0.contains(format == "csv" ? ",loss," : "\"name\":\"loss\"") }
            XCTAssertEqual(lossLines.count, 6, remoteText)
            guard lossLines.count == 6 else { continue }
            if format == "csv" {
                XCTAssertTrue(remoteText.hasPrefix("trial,index,state,seq,step,name,value,time,params\n"))
                XCTAssertTrue(remoteText.contains(",completed,"), remoteText)
            } else {
                let row = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lossLines[0].utf8)) as? [String: Any])
                XCTAssertEqual((row["params"] as? [String: Any])?["lr"] as? Double, 0.1)
            }
        }

        // Remote fetch writes the same files and sidecars as a local fetch, digest-checked.
        let remoteBest = cluster.folder + "/best-remote", localBest = cluster.folder + "/best-local"
        let fetched = try client(cluster, ["fetch", "small", "--best", "2", "--out", remoteBest])
        XCTAssertEqual(fetched.status, 0, fetched.stderr)
        XCTAssertEqual(fetched.lines.count, 2, fetched.stdout)
        XCTAssertEqual(try ThresherProcess.run(["fetch", "small", "--best", "2", "--out", localBest, "--state", cluster.folder + "/state"]).status, 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: remoteBest).sorted()
        XCTAssertEqual(names, try FileManager.default.contentsOfDirectory(atPath: localBest).sorted())
        XCTAssertEqual(names.filter { $0.hasSuffix(".safetensors") }.count, 2)
        for name in names {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: remoteBest + "/" + name))
            XCTAssertEqual(bytes, try Data(contentsOf: URL(fileURLWithPath: localBest + "/" + name)), name)
            guard name.hasSuffix(".json") else { continue }
            let sidecar = try XCTUnwrap(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
            let weights = try Data(contentsOf: URL(fileURLWithPath: remoteBest + "/" + name.replacingOccurrences(of: ".json", with: ".safetensors")))
            XCTAssertEqual(sidecar["sha256"] as? String, try sha256(weights))
        }

        // Stop: a long sweep, one trial running; the sweep stops, the running trial is stopped with
        // the user's reason and the waiting one never runs.
        let long = try sweepFile(cluster, name: "long", steps: 200, delay: 0.1, lrs: [0.1, 0.2])
        XCTAssertEqual(try client(cluster, ["submit", long]).status, 0)
        _ = try waitFor(cluster, "long", "a running trial") { s in
            (s["trials"] as? [[String: Any]])?.contains { $0["state"] as? String == "running" && ($0["reports"] as? Int ?? 0) > 0 } ?? false
        }
        let stop = try client(cluster, ["stop", "long"])
        XCTAssertEqual(stop.status, 0, stop.stderr)
        XCTAssertTrue(stop.stdout.contains("1 running trial(s) told to stop"), stop.stdout)
        let stopped = try status(cluster, "long")
        XCTAssertEqual(stopped["state"] as? String, "stopped")
        let first = try XCTUnwrap((stopped["trials"] as? [[String: Any]])?.first)
        XCTAssertEqual(first["state"] as? String, "stopped")
        XCTAssertEqual((first["stop_explanation"] as? [String: Any])?["message"] as? String, "stopped by user")
        XCTAssertTrue(try client(cluster, ["status", "long"]).stdout.contains("stopped by user"))
        let twice = try client(cluster, ["stop", "trial:\(first["trial"] as? Int ?? 0)"])
        XCTAssertTrue(twice.stdout.contains("already ended"), twice.stdout)

        // Errors name what to fix, with exit status 2.
        let missing = try client(cluster, ["stop", "nope"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("no sweep nope"), missing.stderr)
        let wrongToken = cluster.folder + "/wrong.token"
        XCTAssertEqual(try ThresherProcess.run(["token", "new", "--out", wrongToken]).status, 0)
        let wrong = try ThresherProcess.run(["status", "--coordinator", cluster.url, "--token-file", wrongToken])
        XCTAssertEqual(wrong.status, 2)
        XCTAssertTrue(wrong.stderr.contains("wrong token"), wrong.stderr)
        let both = try ThresherProcess.run(["status", "--coordinator", cluster.url, "--state", cluster.folder])
        XCTAssertEqual(both.status, 2)
        XCTAssertTrue(both.stderr.contains("either --state or --coordinator"), both.stderr)
    }

    /// A local coordinator without a token keeps one in its state folder; a client given only the
    /// ipc:// URL inside that folder finds it there (as for `thresher run`).
    func testLocalIPCCoordinatorNeedsNoTokenFlag() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-client-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/state", withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        let url = "ipc://\(folder)/state/coordinator.ipc"
        _ = try start(["coordinator", "--listen", url, "--state", folder + "/state"], log: folder + "/coordinator.log")
        var out = ThresherProcess.Output(status: -1, stdout: "", stderr: "")
        for _ in 0 ..< 50 where out.status != 0 {
            out = try ThresherProcess.run(["status", "--coordinator", url, "--json"], environment: ["THRESHER_TOKEN_FILE": "", "THRESHER_TOKEN": ""])
            if out.status != 0 { Thread.sleep(forTimeInterval: 0.2) }
        }
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual(out.stdout, "{\"sweeps\":[]}\n")
    }

    func testUnreachableCoordinatorNamesTheURL() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-client-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        XCTAssertEqual(try ThresherProcess.run(["token", "new", "--out", folder + "/t"]).status, 0)
        let url = "ipc://\(folder)/nobody.ipc"
        let out = try ThresherProcess.run(["status", "--coordinator", url, "--token-file", folder + "/t"])
        XCTAssertEqual(out.status, 2)
        XCTAssertTrue(out.stderr.contains("cannot reach the coordinator at \(url)"), out.stderr)
    }

    /// A trial whose worker goes away resumes on another worker, with another folder, from the
    /// coordinator's copy of its latest checkpoint (keep_latest_per_trial).
    func testTrialResumesOnAnotherWorkerFromTheCoordinatorsCheckpoint() throws {
        let cluster = try startCluster(leaseTimeout: 2)
        let file = try sweepFile(cluster, name: "resume", steps: 14, delay: 0.3, lrs: [0.1], latest: true)
        XCTAssertEqual(try client(cluster, ["submit", file]).status, 0)
        let a = try startWorker(cluster, id: "wa")
        _ = try waitFor(cluster, "resume", "a stored checkpoint at step 3 or later") { s in
            (s["stored_checkpoints"] as? Int ?? 0) >= 1 && ((s["trials"] as? [[String: Any]])?.first?["last_step"] as? Int ?? 0) >= 3
        }
        // The worker goes away without a word (SIGTERM: it stops its trial and sends nothing); the
        // lease expires and the trial waits for another worker.
        a.terminate()
        a.waitUntilExit()
        _ = try startWorker(cluster, id: "wb")
        let done = try waitFor(cluster, "resume", "the sweep to finish") { $0["state"] as? String == "finished" }
        let trial = try XCTUnwrap((done["trials"] as? [[String: Any]])?.first)
        XCTAssertEqual(trial["state"] as? String, "completed")
        XCTAssertEqual(trial["worker"] as? String, "wb")

        // Worker B downloaded the checkpoint into its own folder, the program saw
        // THRESHER_RESUME_FROM there, and its metrics continue after that step.
        let folderB = cluster.folder + "/wb/trial-1"
        let stdout = try String(contentsOfFile: folderB + "/stdout.log", encoding: .utf8)
        let logB = (try? String(contentsOfFile: cluster.folder + "/wb.log", encoding: .utf8)) ?? ""
        let resumeLine = try XCTUnwrap(stdout.split(separator: "\n").first { $0.hasPrefix("resumed from ") }, "\(stdout)\n\(logB)")
        XCTAssertTrue(resumeLine.contains(folderB + "/checkpoints/step-"), String(resumeLine))
        let resumedStep = try XCTUnwrap(Int(try XCTUnwrap(resumeLine.split(separator: " ").last)))
        XCTAssertGreaterThanOrEqual(resumedStep, 1)
        let metrics = try String(contentsOfFile: folderB + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let firstB = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try XCTUnwrap(metrics.first).utf8)) as? [String: Any])
        XCTAssertEqual(firstB["step"] as? Int, resumedStep + 1)
        XCTAssertEqual(metrics.count, 14 - resumedStep)
        XCTAssertTrue(logB.contains("downloaded the coordinator's step-\(resumedStep) checkpoint"), logB)
    }

    private func sha256(_ data: Data) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(data)
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(text.prefix(64))
    }
}
