import XCTest
@testable import ThresherNet
import ThresherWire

/// The handshake bookkeeping without sockets: clocks are handed in.
final class SessionTableTests: XCTestCase {
    private var token: ClusterToken!
    let t0 = ContinuousClock.now

    override func setUpWithError() throws {
        token = try ClusterToken("session table test token 0123456789")
    }

    private func table() -> SessionTable {
        SessionTable(token: token, heartbeatInterval: .seconds(5), leaseTimeout: .seconds(15))
    }

    private func proof(for hello: Hello, _ challenge: Challenge) -> Proof {
        Proof(mac: HandshakeTranscript(clientNonce: hello.clientNonce, serverNonce: challenge.serverNonce)
            .proof(token: token, workerID: hello.workerID))
    }

    private func hello(_ id: String) -> Hello {
        Hello(workerID: id, slots: 2, capabilities: ["engine"], clientNonce: HandshakeTranscript.freshNonce())
    }

    func testAChallengeIsAnswerableOnceOnly() {
        let sessions = table()
        let pipe = PipeID(raw: 7)
        let h = hello("w")
        let c = sessions.challenge(h, on: pipe, now: t0)
        guard case .welcome = sessions.verify(proof(for: h, c), on: pipe, now: t0) else { return XCTFail("first proof") }
        guard case .rejected(let r, _) = sessions.verify(proof(for: h, c), on: pipe, now: t0) else { return XCTFail("second proof") }
        XCTAssertEqual(r.reason, .noChallenge)
    }

    func testAWrongProofConsumesTheChallenge() {
        let sessions = table()
        let pipe = PipeID(raw: 1)
        let h = hello("w")
        let c = sessions.challenge(h, on: pipe, now: t0)
        guard case .rejected(let bad, let id) = sessions.verify(Proof(mac: .zero), on: pipe, now: t0) else { return XCTFail() }
        XCTAssertEqual(bad.reason, .badProof)
        XCTAssertEqual(id, "w")
        guard case .rejected(let again, _) = sessions.verify(proof(for: h, c), on: pipe, now: t0) else { return XCTFail() }
        XCTAssertEqual(again.reason, .noChallenge, "a guess must not get a second try on the same challenge")
    }

    func testAChallengeExpires() {
        let sessions = table()
        let pipe = PipeID(raw: 2)
        let h = hello("w")
        let c = sessions.challenge(h, on: pipe, now: t0)
        guard case .rejected(let r, _) = sessions.verify(proof(for: h, c), on: pipe, now: t0 + .seconds(61)) else { return XCTFail() }
        XCTAssertEqual(r.reason, .noChallenge)
    }

    func testAnIdleSessionGivesItsWorkerIDUpAndIsPurged() {
        let sessions = table()
        let first = hello("w")
        let c1 = sessions.challenge(first, on: PipeID(raw: 1), now: t0)
        guard case .welcome = sessions.verify(proof(for: first, c1), on: PipeID(raw: 1), now: t0) else { return XCTFail() }

        // Within the lease timeout the id is taken.
        let second = hello("w")
        let c2 = sessions.challenge(second, on: PipeID(raw: 2), now: t0 + .seconds(5))
        guard case .rejected(let dup, _) = sessions.verify(proof(for: second, c2), on: PipeID(raw: 2), now: t0 + .seconds(5)) else { return XCTFail() }
        XCTAssertEqual(dup.reason, .duplicateWorker)

        // After it (a crashed host whose connection never closed), the newcomer replaces it.
        let c3 = sessions.challenge(second, on: PipeID(raw: 2), now: t0 + .seconds(20))
        guard case .welcome = sessions.verify(proof(for: second, c3), on: PipeID(raw: 2), now: t0 + .seconds(20)) else { return XCTFail() }
        XCTAssertNil(sessions.session(on: PipeID(raw: 1), now: t0 + .seconds(20)))
        XCTAssertEqual(sessions.authenticatedCount, 1)

        // A session idle for four lease timeouts is purged by the next handshake.
        _ = sessions.challenge(hello("other"), on: PipeID(raw: 3), now: t0 + .seconds(20) + .seconds(61))
        XCTAssertEqual(sessions.authenticatedCount, 0)
    }

    func testRemovingAPipeForgetsItsSession() {
        let sessions = table()
        let h = hello("w")
        let c = sessions.challenge(h, on: PipeID(raw: 9), now: t0)
        _ = sessions.verify(proof(for: h, c), on: PipeID(raw: 9), now: t0)
        XCTAssertNotNil(sessions.session(on: PipeID(raw: 9), now: t0))
        sessions.remove(pipe: PipeID(raw: 9))
        XCTAssertNil(sessions.session(on: PipeID(raw: 9), now: t0))
    }
}

