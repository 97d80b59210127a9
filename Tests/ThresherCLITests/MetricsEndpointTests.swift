import Foundation
import ThresherCoordinator
import ThresherNet
import ThresherStore
import ThresherWire
import XCTest

/// `thresher coordinator --metrics-listen`: a real coordinator process with real workers, scraped
/// over a real TCP socket; the exposition is read with a strict reader and checked against the
/// store; a bad frame sent on purpose shows up under its reason.
final class MetricsEndpointTests: XCTestCase {
    /// Starts the coordinator with `--metrics-listen 127.0.0.1:0` and returns it with its port
    /// (read from the line it prints).
    private func startCoordinator(_ cluster: FaultCluster, extra: [String] = []) throws -> (Process, UInt16) {
        let log = cluster.folder + "/coordinator.log"
        let process = try ThresherProcess.spawn(
            ["coordinator", "--listen", cluster.url, "--state", cluster.state, "--token-file", cluster.token,
             "--sweep", cluster.sweepFile, "--lease-timeout", "3", "--metrics-listen", "127.0.0.1:0"] + extra,
            in: cluster.folder, log: log, for: self)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && process.isRunning {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("metrics on http://127.0.0.1:") }),
               let port = UInt16(line.dropFirst("metrics on http://127.0.0.1:".count).prefix { $0.isNumber }) {
                return (process, port)
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw HTTPProbe.Failure(description: "the coordinator printed no metrics address:\n\(cluster.logs())")
    }

    private func scrape(_ port: UInt16) throws -> (PrometheusTextReader, String) {
        let reply = try HTTPProbe.get(port: port)
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(reply.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        do { return (try PrometheusTextReader(reply.body), reply.body) } catch {
            XCTFail("\(error)\n\(reply.body)")
            throw error
        }
    }

    func testAScrapedSweepAgreesWithTheStore() async throws {
        let started = Date()
        let cluster = try FaultCluster(self, sweep: FaultCluster.sweepText(ranks: [0, 1, 2, 3], steps: 4, pause: 0.05, checkpointBytes: 1000,
                                                                           retention: "{keep_top_k: 2, max_bytes: 2500}"))
        let (coordinator, port) = try startCoordinator(cluster)

        // Before any worker: every family is there, the sweep's trials all zero.
        let (first, _) = try scrape(port)
        XCTAssertEqual(first.value("thresher_build_info", ["version": CoordinatorMetrics.version, "wire_protocol": "1.0"]), 1)
        let startTime = try XCTUnwrap(first.value("process_start_time_seconds"))
        XCTAssertGreaterThanOrEqual(startTime, started.timeIntervalSince1970 - 1)
        XCTAssertLessThanOrEqual(startTime, Date().timeIntervalSince1970)
        XCTAssertEqual(first.value("thresher_sweeps", ["state": "active"]), 1)
        XCTAssertEqual(first.value("thresher_sweep_trials_planned", ["sweep": "faults", "sweep_id": "1"]), 4)
        XCTAssertEqual(first.value("thresher_checkpoint_bytes_budget", ["sweep": "faults", "sweep_id": "1"]), 2500)
        XCTAssertEqual(first.value("thresher_workers_connected"), 0)
        XCTAssertEqual(first.value("thresher_trials_dispatched_total"), 0)

        // A garbage frame on purpose: refused and counted under the reason the codec gives it.
        let garbage = [UInt8](repeating: 0xAB, count: 64)
        var expectedReason = ""
        do { _ = try FrameCodec().decode(garbage) } catch { expectedReason = error.reasonName }
        XCTAssertFalse(expectedReason.isEmpty)
        let peer = try RequestClient(dial: cluster.url)
        let answer = try FrameCodec().decode(try await peer.request(garbage, timeout: .seconds(20)))
        peer.close()
        guard case .error(let error) = answer else { return XCTFail("garbage answered \(answer)") }
        XCTAssertEqual(error.code, .malformedFrame)

        try cluster.startWorker("w1")
        try cluster.startWorker("w2")
        // While trials run, the workers are connected.
        XCTAssertTrue(cluster.wait(timeout: 60) { store in try store.trials(sweep: 1).contains { $0.state == .running } }, cluster.logs())
        let (running, _) = try scrape(port)
        XCTAssertGreaterThanOrEqual(running.value("thresher_workers_connected") ?? 0, 1)
        XCTAssertGreaterThanOrEqual(running.value("thresher_trials_dispatched_total") ?? 0, 1)

        XCTAssertTrue(cluster.waitForFinish(timeout: 120), cluster.logs())
        let (last, body) = try scrape(port)
        let store = try SweepStore(readingAt: cluster.state + "/thresher.sqlite")
        defer { try? store.close() }
        let progress = try SweepProgress.read(from: store, sweep: 1)
        let sweep = ["sweep": "faults", "sweep_id": "1"]
        func trials(_ state: String) -> Double { last.value("thresher_trials", sweep.merging(["state": state]) { $1 }) ?? -1 }
        let states = ["pending", "assigned", "running", "completed", "stopped", "failed", "cancelled"]
        XCTAssertEqual(last.samples(named: "thresher_trials").count, states.count)
        XCTAssertEqual(states.map(trials).reduce(0, +), 4, "trials by state sum to the grid's size")
        for state in states { XCTAssertEqual(trials(state), Double(progress.counts[TrialState(rawValue: state)!] ?? 0), state) }
        XCTAssertEqual(trials("pending") + trials("assigned") + trials("running"), 0)
        XCTAssertEqual(last.value("thresher_sweeps", ["state": "finished"]), 1)
        XCTAssertNil(last.value("thresher_sweep_trials_planned", sweep), "a finished sweep has no planned gauge")

        let ended = trials("completed") + trials("stopped") + trials("failed") + trials("cancelled")
        XCTAssertGreaterThanOrEqual(last.value("thresher_trials_dispatched_total") ?? 0, ended)
        XCTAssertEqual(last.value("thresher_metric_points_ingested_total"), Double(try store.storedMetricPoints()))
        XCTAssertGreaterThan(try store.storedMetricPoints(), 0)

        XCTAssertEqual(last.value("thresher_checkpoint_bytes_stored", sweep), Double(progress.storedBytes))
        XCTAssertEqual(last.value("thresher_checkpoints_stored", sweep), Double(progress.storedCheckpoints))
        XCTAssertGreaterThan(progress.storedCheckpoints, 0)
        XCTAssertLessThanOrEqual(Double(progress.storedBytes), last.value("thresher_checkpoint_bytes_budget", sweep) ?? -1)

        XCTAssertEqual(last.value("thresher_frames_rejected_total", ["reason": expectedReason]), 1)
        XCTAssertEqual(last.samples(named: "thresher_frames_rejected_total").map(\.value).reduce(0, +), 1)
        XCTAssertEqual(last.value("thresher_workers_connected"), 2, "both workers still ask for work")
        XCTAssertEqual(last.value("thresher_worker_slots_connected"), 2)
        XCTAssertEqual(last.value("thresher_sessions_opened_total"), 2)
        XCTAssertGreaterThanOrEqual(last.value("thresher_requests_total", ["kind": "requestTrial"]) ?? 0, 4)
        XCTAssertGreaterThanOrEqual(last.value("thresher_requests_total", ["kind": "report"]) ?? 0,
                                    last.value("thresher_reports_stored_total") ?? .infinity)
        XCTAssertGreaterThan(last.value("thresher_wal_sync_seconds_count") ?? 0, 0)
        XCTAssertEqual(last.value("thresher_durability_failed"), 0)
        // Every family the operations guide promises is declared.
        for family in ["thresher_dispatch_rate_per_second", "thresher_handshakes_rejected_total", "thresher_requests_refused_total",
                       "thresher_unauthenticated_requests_total", "thresher_batch_commit_seconds", "thresher_workers_holding_leases"] {
            XCTAssertNotNil(last.families[family], family)
        }
        try checkWithPythonClient(body, samples: last.samples.count)

        coordinator.terminate()
        coordinator.waitUntilExit()
        XCTAssertEqual(coordinator.terminationStatus, 0, cluster.logs())
    }

    /// The official Python client's parser as a peer: it reads the same number of samples.
    private func checkWithPythonClient(_ body: String, samples: Int) throws {
        let script = """
            import sys
            try:
                from prometheus_client.parser import text_string_to_metric_families
            except ImportError:
                print("absent"); sys.exit(0)
            text = sys.stdin.read()
            print(sum(len(f.samples) for f in text_string_to_metric_families(text)))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        do { try process.run() } catch { throw XCTSkip("python3 is not available: \(error)") }
        input.fileHandleForWriting.write(Data(body.utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "prometheus_client could not parse the scrape")
        if text == "absent" {
            print("note: prometheus_client is not installed (pip install prometheus_client); the peer check was skipped")
            return
        }
        XCTAssertEqual(Int(text), samples, "prometheus_client read another number of samples")
    }

    /// `thresher run --metrics-listen`: the embedded coordinator serves the same endpoint while
    /// the sweep runs, and the run ends as usual.
    func testRunServesMetricsWhileTheSweepRuns() throws {
        let folder = NSTemporaryDirectory() + "thresher-metrics-run-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        try #"""
            method: grid
            metric: {name: loss, goal: minimize}
            command: [/bin/sh, -c, 'sleep 2; echo "{\"step\": 1, \"loss\": ${1#a=}}" >> "$THRESHER_METRICS_FILE"', sh, "${args_no_hyphens}"]
            parameters:
              a: {values: [1, 2]}
            """#.write(toFile: folder + "/two.yaml", atomically: true, encoding: .utf8)
        let log = folder + "/run.log"
        let run = try ThresherProcess.spawn(["run", "two.yaml", "--workers", "2", "--state", folder + "/state", "--best", "0",
                                             "--metrics-listen", "127.0.0.1:0"], in: folder, log: log, for: self)
        var port: UInt16?
        let deadline = Date().addingTimeInterval(60)
        while port == nil && Date() < deadline && run.isRunning {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            port = text.split(separator: "\n").first { $0.hasPrefix("metrics on http://127.0.0.1:") }
                .flatMap { UInt16($0.dropFirst("metrics on http://127.0.0.1:".count).prefix { $0.isNumber }) }
            if port == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        let scraped = try PrometheusTextReader(try HTTPProbe.get(port: try XCTUnwrap(port, "no metrics line")).body)
        XCTAssertEqual(scraped.value("thresher_sweeps", ["state": "active"]), 1)
        XCTAssertEqual(scraped.value("thresher_sweep_trials_planned", ["sweep": "two", "sweep_id": "1"]), 2)
        run.waitUntilExit()
        XCTAssertEqual(run.terminationStatus, 0, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
        // The endpoint closed with the run.
        XCTAssertThrowsError(try HTTPProbe.connect(port: try XCTUnwrap(port)))
    }

    func testABadMetricsAddressIsRefusedNamingTheFlag() throws {
        let folder = NSTemporaryDirectory() + "thresher-metrics-\(UUID().uuidString.prefix(8))"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        for bad in ["nonsense", "127.0.0.1:99999", "::1:9464", "http://127.0.0.1:9464"] {
            let output = try ThresherProcess.run(["coordinator", "--listen", "ipc://\(folder)/c.ipc", "--state", folder + "/state",
                                                  "--metrics-listen", bad])
            XCTAssertEqual(output.status, 2, bad)
            XCTAssertTrue(output.stderr.contains("--metrics-listen '\(bad)'"), output.stderr)
        }
        // A port already taken: the bind fails with the same clear error, and nothing keeps running.
        let taken = try MetricsHTTPServer(address: MetricsListenAddress(host: "127.0.0.1", port: 0)) { "" }
        defer { taken.close() }
        let output = try ThresherProcess.run(["coordinator", "--listen", "ipc://\(folder)/c.ipc", "--state", folder + "/state",
                                              "--metrics-listen", "127.0.0.1:\(taken.boundAddress.port)"])
        XCTAssertEqual(output.status, 2)
        XCTAssertTrue(output.stderr.contains("--metrics-listen '127.0.0.1:\(taken.boundAddress.port)': cannot bind"), output.stderr)
        let run = try ThresherProcess.run(["run", "nowhere.yaml", "--metrics-listen", "bad"])
        XCTAssertEqual(run.status, 2)
        XCTAssertTrue(run.stderr.contains("--metrics-listen 'bad'"), run.stderr)
    }
}
