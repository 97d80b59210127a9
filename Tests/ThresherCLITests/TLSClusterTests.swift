import Foundation
import XCTest

/// A coordinator, a worker and the client commands over `tls+tcp://` with mutual TLS, on
/// certificates made by `scripts/make-test-certs`; and the flags' refusals, each exit 2 naming
/// what is missing.
final class TLSClusterTests: XCTestCase {
    static let program = #"""
        import json, os, sys
        args = dict(a.lstrip("-").split("=", 1) for a in sys.argv[1:] if "=" in a)
        lr = float(args["lr"])
        with open(os.environ["THRESHER_METRICS_FILE"], "a") as metrics:
            for step in range(1, 4):
                metrics.write(json.dumps({"step": step, "loss": lr / step}) + "\n")
        """#

    private var folder = ""

    override func setUpWithError() throws {
        let script = ThresherProcess.repositoryRoot.appendingPathComponent("scripts/make-test-certs").path
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else {
            throw XCTSkip("openssl is not installed: skipping the tls+tcp cluster test")
        }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let dir = folder
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let make = Process()
        make.executableURL = URL(fileURLWithPath: script)
        make.arguments = [folder + "/certs", "2"]
        make.standardOutput = FileHandle.nullDevice
        make.standardError = FileHandle.nullDevice
        try make.run()
        make.waitUntilExit()
        XCTAssertEqual(make.terminationStatus, 0, "make-test-certs failed")
    }

    private func start(_ arguments: [String], log: String) throws -> Process {
        try ThresherProcess.spawn(arguments, in: folder, log: folder + "/" + log, for: self)
    }

    func testMutualTLSClusterRunsASweepAndClientsTalkToIt() throws {
        let certs = folder + "/certs"
        let token = folder + "/cluster.token"
        XCTAssertEqual(try ThresherProcess.run(["token", "new", "--out", token]).status, 0)
        try Self.program.write(toFile: folder + "/train.py", atomically: true, encoding: .utf8)
        try """
            program: train.py
            method: grid
            metric: {name: loss, goal: minimize}
            command: [python3, "${program}", "${args}"]
            parameters:
              lr: {values: [0.1, 0.2]}
            """.write(toFile: folder + "/tls.yaml", atomically: true, encoding: .utf8)
        let url = "tls+tcp://127.0.0.1:\(Int.random(in: 20_000 ..< 60_000))"
        _ = try start(["coordinator", "--listen", url, "--state", folder + "/state", "--token-file", token,
                       "--tls-cert", certs + "/server.pem", "--tls-key", certs + "/server.key",
                       "--tls-ca", certs + "/ca.pem", "--tls-require-client-cert"], log: "coordinator.log")
        let clientTLS = ["--tls-ca", certs + "/ca.pem", "--tls-cert", certs + "/client.pem", "--tls-key", certs + "/client.key"]
        _ = try start(["worker", "--connect", url, "--token-file", token, "--slots", "1", "--folder", folder + "/w1"] + clientTLS,
                      log: "worker.log")
        let common = ["--coordinator", url, "--token-file", token] + clientTLS
        let submitted = try ThresherProcess.run(["submit", folder + "/tls.yaml"] + common, in: URL(fileURLWithPath: folder))
        XCTAssertEqual(submitted.status, 0, submitted.stderr)
        let watched = try ThresherProcess.run(["status", "tls", "--watch", "--interval", "0.2", "--json"] + common)
        XCTAssertEqual(watched.status, 0, watched.stderr + ((try? String(contentsOfFile: folder + "/coordinator.log", encoding: .utf8)) ?? ""))
        let final = try XCTUnwrap(watched.lines.last.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        XCTAssertEqual(final["state"] as? String, "finished")
        XCTAssertEqual((final["trials"] as? [[String: Any]])?.map { $0["state"] as? String }, ["completed", "completed"])

        // Without its CA a client cannot verify the coordinator: refused before anything is sent.
        let noCA = try ThresherProcess.run(["status", "--coordinator", url, "--token-file", token])
        XCTAssertEqual(noCA.status, 2)
        XCTAssertTrue(noCA.stderr.contains("needs --tls-ca"), noCA.stderr)
    }

    func testFlagsThatCannotWorkAreRefusedNamingWhatIsMissing() throws {
        let token = folder + "/cluster.token"
        XCTAssertEqual(try ThresherProcess.run(["token", "new", "--out", token]).status, 0)
        let cases: [([String], String)] = [
            (["coordinator", "--listen", "tls+tcp://127.0.0.1:7799", "--state", folder + "/s1", "--token-file", token],
             "needs --tls-cert and --tls-key"),
            (["coordinator", "--listen", "tcp://127.0.0.1:7799", "--state", folder + "/s2", "--token-file", token,
              "--tls-cert", "x.pem", "--tls-key", "x.key"], "no --listen URL is tls+tcp://"),
            (["coordinator", "--listen", "tls+tcp://127.0.0.1:7799", "--state", folder + "/s3", "--token-file", token,
              "--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-require-client-cert"], "needs --tls-ca"),
            (["coordinator", "--listen", "tls+tcp://127.0.0.1:7799", "--state", folder + "/s4", "--token-file", token,
              "--tls-cert", folder + "/missing.pem", "--tls-key", folder + "/missing.key"], "missing.pem"),
            (["worker", "--connect", "tls+tcp://127.0.0.1:7799", "--token-file", token, "--folder", folder + "/w"], "needs --tls-ca"),
            (["worker", "--connect", "tcp://127.0.0.1:7799", "--token-file", token, "--folder", folder + "/w",
              "--tls-ca", "ca.pem"], "is not a tls+tcp:// URL"),
            (["status", "--coordinator", "tls+tcp://127.0.0.1:7799", "--token-file", token, "--tls-ca", "ca.pem",
              "--tls-cert", "c.pem"], "--tls-cert and --tls-key go together"),
        ]
        for (arguments, expected) in cases {
            let out = try ThresherProcess.run(arguments)
            XCTAssertEqual(out.status, 2, "\(arguments): \(out.stderr)")
            XCTAssertTrue(out.stderr.contains(expected), "\(arguments) should say \(expected): \(out.stderr)")
        }
    }
}
