#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ThresherWire
import XCTest

@testable import ThresherNet

/// Hostile peers against a real `thresher coordinator` process over loopback TCP, while a real
/// `thresher worker` runs a small sweep: garbage, short, truncated and oversize frames, an
/// SP-level length no socket accepts, a wrong token, a replayed handshake proof, a second worker
/// claiming a live worker's id, and a replayed Report (same lease, then a stale lease).
///
/// After all of it the coordinator is still running and answering, every rejection is counted
/// (the network summary it prints when it stops), the sweep finishes, and every metric is stored
/// exactly once.
final class HostilePeerTests: XCTestCase {
    static let program = #"""
        import json, os, sys, time
        args = dict(a.lstrip("-").split("=", 1) for a in sys.argv[1:] if "=" in a)
        lr = float(args["lr"])
        with open(os.environ["THRESHER_METRICS_FILE"], "a") as metrics:
            for step in range(1, 4):
                time.sleep(0.2)
                metrics.write(json.dumps({"step": step, "loss": lr * 10 / step}) + "\n")
                metrics.flush()
        """#

    /// One NNG REQ connection on which the test speaks the protocol by hand.
    struct Peer {
        let client: RequestClient
        let codec = FrameCodec()

        init(_ url: String) throws { client = try RequestClient(dial: url) }

        func raw(_ bytes: [UInt8]) async throws -> Message {
            try codec.decode(try await client.request(bytes, timeout: .seconds(20)))
        }

        func send(_ message: Message) async throws -> Message { try await raw(try codec.encode(message)) }

        /// Hello then Proof computed with `token`; returns both frames as sent and the final reply.
        func handshake(as workerID: String, token: ClusterToken) async throws -> (hello: [UInt8], proof: [UInt8], reply: Message) {
            let nonce = HandshakeTranscript.freshNonce()
            let hello = try codec.encode(.hello(Hello(workerID: workerID, slots: 1, capabilities: [], clientNonce: nonce)))
            let answer = try await raw(hello)
            guard case .challenge(let challenge) = answer else { return (hello, [], answer) }
            let transcript = HandshakeTranscript(clientNonce: nonce, serverNonce: challenge.serverNonce)
            let proof = try codec.encode(.proof(Proof(mac: transcript.proof(token: token, workerID: workerID))))
            return (hello, proof, try await raw(proof))
        }

        func close() { client.close() }
    }

    private var folder = ""

    private func run(_ arguments: [String], url: String, token: String) throws -> ThresherProcess.Output {
        try ThresherProcess.run(arguments + ["--coordinator", url, "--token-file", token], in: URL(fileURLWithPath: folder))
    }

    func testHostilePeersAreRejectedCountedAndCostNoMetric() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-hostile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let dir = folder
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let tokenFile = folder + "/cluster.token"
        XCTAssertEqual(try ThresherProcess.run(["token", "new", "--out", tokenFile]).status, 0)
        let token = try ClusterToken(contentsOfFile: tokenFile)
        try Self.program.write(toFile: folder + "/train.py", atomically: true, encoding: .utf8)
        try """
            program: train.py
            method: grid
            metric: {name: loss, goal: minimize}
            command: [python3, "${program}", "${args}"]
            parameters:
              lr: {values: [0.1, 0.2, 0.3]}
            """.write(toFile: folder + "/hostile.yaml", atomically: true, encoding: .utf8)
        let url = "tcp://127.0.0.1:\(Int.random(in: 20_000 ..< 60_000))"
        let port = Int(url.split(separator: ":").last ?? "") ?? 0
        let log = folder + "/coordinator.log"
        let coordinator = try ThresherProcess.spawn(["coordinator", "--listen", url, "--state", folder + "/state", "--token-file", tokenFile,
                                                     "--lease-timeout", "60"],
                                                    in: folder, log: log, for: self)
        let submitted = try run(["submit", folder + "/hostile.yaml"], url: url, token: tokenFile)
        XCTAssertEqual(submitted.status, 0, submitted.stderr)

        // A worker holding the token takes a trial before the real worker starts, and reports once.
        let intruder = try Peer(url)
        defer { intruder.close() }
        let intruderHandshake = try await intruder.handshake(as: "intruder", token: token)
        guard case .welcome = intruderHandshake.reply else { return XCTFail("intruder handshake: \(intruderHandshake.reply)") }
        guard case .assign(let assign) = try await intruder.send(.requestTrial(RequestTrial(freeSlots: 1))) else {
            return XCTFail("the intruder got no trial")
        }
        var firstSeq: UInt64 = 1
        if case .int(let first)? = assign.run["first_seq"], first > 0 { firstSeq = UInt64(first) }
        let report = try intruder.codec.encode(.report(Report(
            trialID: assign.trialID, leaseEpoch: assign.leaseEpoch, seq: firstSeq,
            batch: MetricBatch(records: [MetricRecord(step: 1, name: "intruder_metric", value: 42)]))))
        guard case .ack = try await intruder.raw(report) else { return XCTFail("the intruder's first report was not acknowledged") }
        // The same Report replayed under the same live lease: acknowledged, stored once.
        guard case .ack = try await intruder.raw(report) else { return XCTFail("a replayed report was not acknowledged as a duplicate") }

        let worker = try ThresherProcess.spawn(["worker", "--connect", url, "--token-file", tokenFile, "--slots", "1",
                                                "--folder", folder + "/w1", "--id", "w1"], in: folder, log: folder + "/w1.log", for: self)

        // Garbage (seeded), a frame shorter than a header, a truncated frame, a frame one byte over
        // the limit: each answered with Error(malformedFrame), none closes the coordinator.
        let peer = try Peer(url)
        defer { peer.close() }
        var seed: UInt64 = 0x5EED_6A4B_A6E5
        let garbage = (0..<1000).map { _ -> UInt8 in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: seed >> 56)
        }
        var oversize = [UInt8](repeating: 0x41, count: WireLimits.defaultMaxFrameBytes + 1)
        oversize.replaceSubrange(0..<FrameHeader.byteCount, with: report[0..<FrameHeader.byteCount])
        let payloadLength = UInt32(oversize.count - FrameHeader.byteCount)
        for i in 0..<4 { oversize[8 + i] = UInt8(truncatingIfNeeded: payloadLength >> (8 * UInt32(i))) }
        for (what, bytes) in [("garbage", garbage), ("short", Array(report.prefix(5))),
                              ("truncated", Array(report.dropLast(3))), ("oversize", oversize)] {
            let reply = try await peer.raw(bytes)
            guard case .error(let error) = reply, error.code == .malformedFrame else { return XCTFail("\(what): \(reply)") }
        }
        // Application requests on a connection without a handshake: refused.
        for message in [Message.requestTrial(RequestTrial(freeSlots: 1)), try peer.codec.decode(report)] {
            guard case .error(let error) = try await peer.send(message), error.code == .notAuthenticated else {
                return XCTFail("an unauthenticated \(message.type) was not refused")
            }
        }
        // An SP message whose length prefix no socket accepts: NNG drops that connection only.
        try rawTCP(port: port, bytes: [0x00, 0x53, 0x50, 0x00, 0x00, 0x30, 0x00, 0x00]
                   + [0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00] + Array(repeating: 0xAB, count: 64))

        // A wrong token: refused with badProof.
        let stranger = try Peer(url)
        defer { stranger.close() }
        let wrong = try await stranger.handshake(as: "stranger", token: try ClusterToken(ClusterToken.random()))
        guard case .rejected(let wrongRejected) = wrong.reply, wrongRejected.reason == .badProof else { return XCTFail("wrong token: \(wrong.reply)") }

        // The intruder's recorded Proof replayed on a new connection: first without a Hello, then
        // after replaying its Hello too (same client nonce, but a fresh server nonce).
        let replayer = try Peer(url)
        defer { replayer.close() }
        guard case .rejected(let noHello) = try await replayer.raw(intruderHandshake.proof), noHello.reason == .noChallenge else {
            return XCTFail("a proof without a challenge was not refused")
        }
        guard case .challenge = try await replayer.raw(intruderHandshake.hello) else { return XCTFail("replayed Hello got no Challenge") }
        guard case .rejected(let replayed) = try await replayer.raw(intruderHandshake.proof), replayed.reason == .badProof else {
            return XCTFail("a replayed proof authenticated a new connection")
        }
        guard case .error(let stillOut) = try await replayer.send(.requestTrial(RequestTrial(freeSlots: 1))),
              stillOut.code == .notAuthenticated else { return XCTFail("the replaying connection was served") }

        // A second worker claiming the live worker's id, with the right token: refused.
        try waitUntil("worker w1 holds a trial") {
            let out = try self.run(["status", "hostile", "--json"], url: url, token: tokenFile)
            return out.stdout.contains("\"worker\":\"w1\"")
        }
        let impostor = try Peer(url)
        defer { impostor.close() }
        let claimed = try await impostor.handshake(as: "w1", token: token)
        guard case .rejected(let duplicate) = claimed.reply, duplicate.reason == .duplicateWorker else {
            return XCTFail("a second w1 was not refused: \(claimed.reply)")
        }

        // The intruder gives its trial back. Its Report replayed under the now ended lease is only
        // acknowledged again (the worker may have missed the Ack), never stored twice; a new Report
        // under that lease is refused.
        guard case .ack = try await intruder.send(.failed(Failed(trialID: assign.trialID, leaseEpoch: assign.leaseEpoch,
                                                                 reason: "hostile test returns the trial", exitCode: nil))) else {
            return XCTFail("Failed was not acknowledged")
        }
        guard case .ack = try await intruder.raw(report) else { return XCTFail("a resent report was not acknowledged") }
        let late = Report(trialID: assign.trialID, leaseEpoch: assign.leaseEpoch, seq: firstSeq + 1,
                          batch: MetricBatch(records: [MetricRecord(step: 2, name: "intruder_metric", value: 43)]))
        guard case .error(let stale) = try await intruder.send(.report(late)), stale.code == .staleLease else {
            return XCTFail("a report under a stale lease was not refused")
        }

        // The sweep finishes on the real worker, the intruder's trial included (resumed elsewhere).
        let watched = try run(["status", "hostile", "--watch", "--interval", "0.2", "--json"], url: url, token: tokenFile)
        XCTAssertEqual(watched.status, 0, watched.stderr + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? ""))
        let final = try XCTUnwrap(watched.lines.last.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        XCTAssertEqual((final["trials"] as? [[String: Any]])?.map { $0["state"] as? String }, ["completed", "completed", "completed"])
        XCTAssertTrue(coordinator.isRunning, "the coordinator died")

        // Every metric exactly once: three loss steps per trial, the intruder's one value once.
        let csv = folder + "/metrics.csv"
        let exported = try run(["export", "hostile", "--format", "csv", "--out", csv], url: url, token: tokenFile)
        XCTAssertEqual(exported.status, 0, exported.stderr)
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let loss = rows.filter { $0.count > 6 && $0[5] == "loss" }.map { "\($0[0]):\($0[4])" }
        XCTAssertEqual(loss.count, 9, "\(rows)")
        XCTAssertEqual(Set(loss).count, 9, "a loss value stored twice: \(loss.sorted())")
        XCTAssertEqual(rows.filter { $0.count > 6 && $0[5] == "intruder_metric" }.count, 1)

        worker.terminate()
        worker.waitUntilExit()
        coordinator.terminate()
        coordinator.waitUntilExit()
        XCTAssertEqual(coordinator.terminationStatus, 0)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        let summary = try XCTUnwrap(text.split(separator: "\n").last { $0.hasPrefix("coordinator network: ") }, text)
        for expected in ["frames rejected 4 (", "badMagic 1", "truncated 2", "frameTooLarge 1",
                         "handshakes rejected 4 (badProof 2, duplicateWorker 1, noChallenge 1)", "unauthenticated requests 3"] {
            XCTAssertTrue(summary.contains(expected), "\(summary) should say \(expected)")
        }
    }

    private func waitUntil(_ what: String, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        XCTFail("timed out waiting until \(what)")
    }

    /// Connects to 127.0.0.1:`port`, writes `bytes` and lingers briefly so the server reads them.
    private func rawTCP(port: Int, bytes: [UInt8]) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw XCTSkip("no socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(connected, 0, "connect: errno \(errno)")
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        Thread.sleep(forTimeInterval: 0.2)
    }
}
