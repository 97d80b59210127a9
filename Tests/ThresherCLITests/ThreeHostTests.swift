import Foundation
import XCTest

/// Three hosts in network namespaces on a bridge (10.200.0.0/24, see ../shared/PLATFORM.md): the
/// coordinator in one, a worker in each of the other two, talking TCP with a shared token. Skips
/// with a message where `ip netns add` is not permitted; removes every namespace and link it made.
final class ThreeHostTests: XCTestCase {
    private var namespaces: [String] = []
    private var bridge = ""
    private var processes: [Process] = []

    private func ip(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    override func tearDown() {
        for p in processes where p.isRunning { p.terminate() }
        for p in processes { p.waitUntilExit() }
        for ns in namespaces { _ = try? ip(["netns", "del", ns]) }
        if !bridge.isEmpty { _ = try? ip(["link", "del", bridge]) }
    }

    /// Starts `thresher ARGS` inside namespace `ns`, output to `log`.
    private func start(in ns: String, _ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", ns, try ThresherProcess.executable().path] + arguments
        process.currentDirectoryURL = ThresherProcess.repositoryRoot
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = FileHandle(forWritingAtPath: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        processes.append(process)
        return process
    }

    func testCoordinatorAndTwoWorkersOnThreeHosts() throws {
        let data = ThresherProcess.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data/digits/digits.csv.gz")
        guard FileManager.default.fileExists(atPath: data.path) else { throw XCTSkip("three hosts: ../shared/data/digits is not here") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") else { throw XCTSkip("three hosts: no /usr/sbin/ip (iproute2)") }
        let tag = String(getpid() % 10_000)
        guard try ip(["netns", "add", "thr\(tag)h1"]) == 0 else {
            throw XCTSkip("three hosts: `ip netns add` is not permitted here (needs root or CAP_SYS_ADMIN)")
        }
        namespaces = ["thr\(tag)h1"]
        bridge = "thrbr\(tag)"
        XCTAssertEqual(try ip(["link", "add", bridge, "type", "bridge"]), 0)
        XCTAssertEqual(try ip(["addr", "add", "10.200.0.1/24", "dev", bridge]), 0)
        XCTAssertEqual(try ip(["link", "set", bridge, "up"]), 0)
        for i in 1...3 {
            let ns = "thr\(tag)h\(i)", veth = "thv\(tag)h\(i)"
            if i > 1 {
                XCTAssertEqual(try ip(["netns", "add", ns]), 0)
                namespaces.append(ns)
            }
            XCTAssertEqual(try ip(["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns]), 0)
            XCTAssertEqual(try ip(["link", "set", veth, "master", bridge, "up"]), 0)
            XCTAssertEqual(try ip(["-n", ns, "addr", "add", "10.200.0.\(10 + i)/24", "dev", "eth0"]), 0)
            XCTAssertEqual(try ip(["-n", ns, "link", "set", "eth0", "up"]), 0)
            XCTAssertEqual(try ip(["-n", ns, "link", "set", "lo", "up"]), 0)
        }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-3hosts-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        let token = folder + "/cluster.token"
        XCTAssertEqual(try ThresherProcess.run(["token", "new", "--out", token]).status, 0)
        let sweep = folder + "/small.yaml"
        try """
            method: grid
            metric: {name: val_accuracy, goal: maximize}
            parameters:
              hidden_sizes: {values: [16, 32]}
              lr: {values: [0.01, 0.003, 0.001]}
            thresher:
              retention: {keep_top_k: 2, max_bytes: 1MB}
              engine: {model: mlp, data: \(data.path), epochs: 4}
            """.write(toFile: sweep, atomically: true, encoding: .utf8)
        let url = "tcp://10.200.0.11:7700"
        _ = try start(in: "thr\(tag)h1", ["coordinator", "--listen", url, "--state", folder + "/state", "--token-file", token,
                                           "--sweep", sweep], log: folder + "/coordinator.log")
        for i in 2...3 {
            _ = try start(in: "thr\(tag)h\(i)", ["worker", "--connect", url, "--token-file", token, "--slots", "1",
                                                  "--folder", folder + "/w\(i)", "--id", "host\(i)"], log: folder + "/w\(i).log")
        }

        var trials: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 1)
            let status = try ThresherProcess.run(["status", "small", "--state", folder + "/state", "--json"])
            guard status.status == 0,
                  let report = try? JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any] else { continue }
            trials = report["trials"] as? [[String: Any]] ?? []
            if report["state"] as? String == "finished" { break }
        }
        func readLogs() -> [String] {
            ["coordinator.log", "w2.log", "w3.log"].map { (try? String(contentsOfFile: folder + "/" + $0, encoding: .utf8)) ?? "" }
        }
        // A fast host may finish the six short trials before a slow one has even started (a loaded
        // CI machine): the coordinator keeps serving, so wait (bounded) for both to have connected.
        _ = eventually(seconds: 60) {
            readLogs().dropFirst().enumerated().allSatisfy { $0.element.contains("connected to \(url) as host\($0.offset + 2)") }
        }
        let logs = readLogs()
        XCTAssertEqual(trials.count, 6, logs.joined(separator: "\n---\n"))
        XCTAssertEqual(trials.filter { $0["state"] as? String == "completed" }.count, 6, "\(trials)")
        // Every trial ran on one of the two worker hosts, and both workers reached the coordinator
        // across the bridge (which of them takes which trial depends on timing: a fast one may take all).
        XCTAssertTrue(Set(trials.compactMap { $0["worker"] as? String }).isSubset(of: ["host2", "host3"]), "\(trials)")
        for (i, log) in logs.dropFirst().enumerated() {
            XCTAssertTrue(log.contains("connected to \(url) as host\(i + 2)"), "worker host\(i + 2) never connected: \(log)")
        }
        for trial in trials { XCTAssertEqual(trial["reports"] as? Int, 4, "one value per epoch, each stored once: \(trial)") }
        let fetch = try ThresherProcess.run(["fetch", "small", "--state", folder + "/state", "--best", "2", "--out", folder + "/best"])
        XCTAssertEqual(fetch.status, 0, fetch.stderr)
        XCTAssertEqual(fetch.lines.count, 2, fetch.stdout)
    }
}
