import Foundation
import Synchronization
import XCTest
@testable import ThresherNet
import ThresherWire

/// The HMAC handshake and session binding, over real NNG sockets on tcp loopback.
final class HandshakeTests: XCTestCase {
    static let token = "correct horse battery staple 0123"

    func testHMACMatchesRFC4231Case2() {
        let mac = HMACSHA256.mac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        XCTAssertEqual(mac.map { String(format: "%02x", $0) }.joined(),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testShortTokenIsRefused() {
        XCTAssertThrowsError(try ClusterToken("short", source: "test")) { error in
            XCTAssertEqual(error as? ClusterTokenError, .tooShort(source: "test", length: 5))
        }
    }

    func testTokenDescriptionNeverShowsTheSecret() throws {
        let token = try ClusterToken(Self.token)
        XCTAssertFalse(String(describing: token).contains("horse"))
    }

    func testCorrectTokenGetsWelcomeAndRequestsReachTheHandler() async throws {
        let cluster = try await TestCluster.start(token: Self.token)
        defer { cluster.stop() }
        let client = try cluster.client(token: Self.token, workerID: "w1")
        defer { client.close() }

        let welcome = try await client.handshake()
        XCTAssertEqual(welcome.leaseTimeoutMs, 15_000)
        let reply = try await client.send(.requestTrial(RequestTrial(freeSlots: 2)))
        XCTAssertEqual(reply, .noWork(NoWork(reason: .nothingPending, retryAfterMs: 7)))
        XCTAssertEqual(cluster.handled.entries, ["w1:requestTrial"])
        XCTAssertEqual(cluster.server.statistics.sessionsOpened, 1)
    }

    func testWrongTokenIsRejectedAndNeverReachesTheHandler() async throws {
        let cluster = try await TestCluster.start(token: Self.token)
        defer { cluster.stop() }
        let client = try cluster.client(token: "a different token of enough length", workerID: "intruder")
        defer { client.close() }

        do {
            _ = try await client.send(.requestTrial(RequestTrial(freeSlots: 1)))
            XCTFail("a wrong token must not get a session")
        } catch ClusterError.rejected(let rejected) {
            XCTAssertEqual(rejected.reason, .badProof)
        }
        XCTAssertEqual(cluster.handled.entries, [])
        XCTAssertEqual(cluster.server.statistics.handshakesRejected["badProof"], 1)
        XCTAssertEqual(cluster.server.authenticatedSessions, 0)
    }

    func testRequestWithoutHandshakeGetsNotAuthenticated() async throws {
        let cluster = try await TestCluster.start(token: Self.token)
        defer { cluster.stop() }
        let raw = try RequestClient(dial: cluster.url, options: TransportOptions())
        defer { raw.close() }
        let codec = FrameCodec()
        let reply = try codec.decode(try await raw.request(try codec.encode(.requestTrial(RequestTrial(freeSlots: 1))), timeout: .seconds(5)))
        guard case .error(let e) = reply else { return XCTFail("expected Error, got \(reply)") }
        XCTAssertEqual(e.code, .notAuthenticated)
        XCTAssertEqual(cluster.server.statistics.unauthenticatedRequests, 1)
        XCTAssertEqual(cluster.handled.entries, [])
    }

    func testProofWithoutChallengeIsRejected() async throws {
        let cluster = try await TestCluster.start(token: Self.token)
        defer { cluster.stop() }
        let raw = try RequestClient(dial: cluster.url, options: TransportOptions())
        defer { raw.close() }
        let codec = FrameCodec()
        let reply = try codec.decode(try await raw.request(try codec.encode(.proof(Proof(mac: .zero))), timeout: .seconds(5)))
        XCTAssertEqual((reply.rejectedReason), .noChallenge)
    }

    func testReplayedProofDoesNotOpenASecondSession() async throws {
        let cluster = try await TestCluster.start(token: Self.token)
        defer { cluster.stop() }
        // An eavesdropper replays a worker's Hello and Proof on its own connection: the
        // coordinator's fresh nonce makes the old proof wrong.
        let codec = FrameCodec()
        let token = try ClusterToken(Self.token)
        let victim = try RequestClient(dial: cluster.url, options: TransportOptions())
        defer { victim.close() }
        let hello = Hello(workerID: "victim", slots: 1, capabilities: [], clientNonce: HandshakeTranscript.freshNonce())
        guard case .challenge(let challenge) = try codec.decode(try await victim.request(try codec.encode(.hello(hello)), timeout: .seconds(5))) else {
            return XCTFail("expected a Challenge")
        }
        let proof = Proof(mac: HandshakeTranscript(clientNonce: hello.clientNonce, serverNonce: challenge.serverNonce)
            .proof(token: token, workerID: "victim"))
        guard case .welcome = try codec.decode(try await victim.request(try codec.encode(.proof(proof)), timeout: .seconds(5))) else {
            return XCTFail("the genuine worker must be welcomed")
        }

        let attacker = try RequestClient(dial: cluster.url, options: TransportOptions())
        defer { attacker.close() }
        _ = try await attacker.request(try codec.encode(.hello(hello)), timeout: .seconds(5))
        let replayed = try codec.decode(try await attacker.request(try codec.encode(.proof(proof)), timeout: .seconds(5)))
        XCTAssertEqual(replayed.rejectedReason, .badProof)
        XCTAssertEqual(cluster.server.authenticatedSessions, 1)
    }

    func testSecondActiveWorkerWithTheSameIDIsRejected() async throws {
        let cluster = try await TestCluster.start(token: Self.token)
        defer { cluster.stop() }
        let first = try cluster.client(token: Self.token, workerID: "same")
        defer { first.close() }
        let second = try cluster.client(token: Self.token, workerID: "same")
        defer { second.close() }
        try await first.handshake()
        do {
            try await second.handshake()
            XCTFail("a second live worker with the same id must be rejected")
        } catch ClusterError.rejected(let r) {
            XCTAssertEqual(r.reason, .duplicateWorker)
        }
    }

    func testGarbageFrameIsAnsweredCountedAndTheServerGoesOn() async throws {
        let cluster = try await TestCluster.start(token: Self.token)
        defer { cluster.stop() }
        let raw = try RequestClient(dial: cluster.url, options: TransportOptions())
        defer { raw.close() }
        let reply = try FrameCodec().decode(try await raw.request(Array("GET / HTTP/1.0\r\n\r\n".utf8), timeout: .seconds(5)))
        guard case .error(let e) = reply else { return XCTFail("expected Error, got \(reply)") }
        XCTAssertEqual(e.code, .malformedFrame)
        XCTAssertEqual(cluster.server.statistics.totalFramesRejected, 1)

        let client = try cluster.client(token: Self.token, workerID: "after-garbage")
        defer { client.close() }
        _ = try await client.send(.heartbeat(Heartbeat(trials: [])))
        XCTAssertEqual(cluster.handled.entries, ["after-garbage:heartbeat"])
    }

    func testClientRehandshakesAfterCoordinatorRestart() async throws {
        let first = try await TestCluster.start(token: Self.token)
        let url = first.url
        let client = try ClusterClient(connect: url, token: try ClusterToken(Self.token),
                                       identity: WorkerIdentity(workerID: "survivor", slots: 1),
                                       transport: TestCluster.fastReconnect)
        defer { client.close() }
        _ = try await client.send(.heartbeat(Heartbeat(trials: [])))
        first.stop()

        // Same address, fresh coordinator: it knows no session, the client must handshake again.
        let second = try await TestCluster.start(token: Self.token, url: url)
        defer { second.stop() }
        let reply = try await client.send(.heartbeat(Heartbeat(trials: [])), timeout: .seconds(20))
        XCTAssertEqual(reply, .ack(Ack(ackedSeq: 0, verdicts: [])))
        XCTAssertEqual(second.handled.entries, ["survivor:heartbeat"])
        XCTAssertEqual(second.server.statistics.sessionsOpened, 1, "the client must have handshaken with the new coordinator")
        XCTAssertEqual(second.server.statistics.unauthenticatedRequests, 1, "the first resend finds no session")
    }
}

extension Message {
    var rejectedReason: RejectReason? {
        if case .rejected(let r) = self { return r.reason }
        return nil
    }
}

/// A ClusterServer on tcp loopback with a recording handler.
final class TestCluster: Sendable {
    let server: ClusterServer
    let url: String
    let serving: Task<Void, Never>
    let handled: Recorder

    private init(server: ClusterServer, url: String, serving: Task<Void, Never>, handled: Recorder) {
        self.server = server; self.url = url; self.serving = serving; self.handled = handled
    }

    static let fastReconnect: TransportOptions = {
        var o = TransportOptions()
        o.reconnectMin = .milliseconds(20)
        o.reconnectMax = .milliseconds(200)
        return o
    }()

    static func start(token: String, url: String = "tcp://127.0.0.1:0") async throws -> TestCluster {
        let server = try ClusterServer(listen: [url], token: try ClusterToken(token))
        let bound = url.hasSuffix(":0") ? "tcp://127.0.0.1:\(server.transport.port ?? 0)" : url
        let handled = Recorder()
        let serving = Task { [handled] in
            await server.serve { session, message in
                handled.record("\(session.workerID):\(message.type)")
                switch message {
                case .requestTrial: return .noWork(NoWork(reason: .nothingPending, retryAfterMs: 7))
                default: return .ack(Ack(ackedSeq: 0, verdicts: []))
                }
            }
        }
        return TestCluster(server: server, url: bound, serving: serving, handled: handled)
    }

    func client(token: String, workerID: String) throws -> ClusterClient {
        try ClusterClient(connect: url, token: try ClusterToken(token),
                          identity: WorkerIdentity(workerID: workerID, slots: 1), transport: Self.fastReconnect)
    }

    func stop() {
        server.close()
        serving.cancel()
    }
}

/// What a test handler saw, in order.
final class Recorder: Sendable {
    private let state = Mutex<[String]>([])
    func record(_ s: String) { state.withLock { $0.append(s) } }
    var entries: [String] { state.withLock { $0 } }
}
