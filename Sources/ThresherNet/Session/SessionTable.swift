import Synchronization
import ThresherWire

/// The coordinator side of the handshake: which connection is challenged, which is authenticated.
///
/// Guarantees:
/// - a connection gets a session only after a `Proof` that matches the `Challenge` sent on that
///   same connection; each challenge is answerable once;
/// - one live session per worker id: a second worker claiming an id whose session was active
///   within `livenessWindow` is rejected (`duplicateWorker`); an idle one is replaced, so a
///   worker whose old connection died without a FIN can come back;
/// - state for a connection is dropped when NNG reports the pipe closed; because NNG may deliver
///   a request after its pipe's "removed" event, entries are also purged by age (a challenge
///   unanswered for `challengeLifetime`, a session idle for four lease timeouts — a live worker
///   heartbeats far more often, and a purged one simply handshakes again).
final class SessionTable: Sendable {
    private enum PipeState {
        case challenged(Hello, HandshakeTranscript, at: ContinuousClock.Instant)
        case authenticated(WorkerSession, lastSeen: ContinuousClock.Instant)
    }

    enum ProofOutcome {
        case welcome(Welcome, WorkerSession)
        /// `workerID` is the id the Hello claimed, when there was a Hello.
        case rejected(Rejected, workerID: String?)
    }

    /// How long a Challenge may stay unanswered.
    static let challengeLifetime: Duration = .seconds(60)

    private let token: ClusterToken
    private let livenessWindow: Duration
    private let heartbeatIntervalMs: UInt32
    private let leaseTimeoutMs: UInt32
    private let state: Mutex<(pipes: [PipeID: PipeState], nextSessionID: UInt64)>

    init(token: ClusterToken, heartbeatInterval: Duration, leaseTimeout: Duration) {
        self.token = token
        self.livenessWindow = leaseTimeout
        self.heartbeatIntervalMs = Self.milliseconds(heartbeatInterval)
        self.leaseTimeoutMs = Self.milliseconds(leaseTimeout)
        var rng = SystemRandomNumberGenerator()
        // Random start so session ids from a restarted coordinator do not repeat old ones.
        self.state = Mutex((pipes: [:], nextSessionID: UInt64.random(in: 1...(UInt64.max / 2), using: &rng)))
    }

    /// Starts (or restarts) the handshake on `pipe` and returns the challenge to send.
    func challenge(_ hello: Hello, on pipe: PipeID, now: ContinuousClock.Instant = .now) -> Challenge {
        let transcript = HandshakeTranscript(clientNonce: hello.clientNonce, serverNonce: HandshakeTranscript.freshNonce())
        state.withLock { s in
            purgeStale(&s.pipes, now: now)
            s.pipes[pipe] = .challenged(hello, transcript, at: now)
        }
        return Challenge(serverNonce: transcript.serverNonce)
    }

    /// Checks a proof against the challenge pending on `pipe`.
    func verify(_ proof: Proof, on pipe: PipeID, now: ContinuousClock.Instant = .now) -> ProofOutcome {
        state.withLock { s in
            guard case .challenged(let hello, let transcript, let issued)? = s.pipes[pipe],
                  now - issued < Self.challengeLifetime else {
                s.pipes[pipe] = nil
                return .rejected(Rejected(reason: .noChallenge, detail: "Proof without a pending Challenge on this connection; send Hello first"), workerID: nil)
            }
            // One answer per challenge, right or wrong.
            s.pipes[pipe] = nil
            let expected = transcript.proof(token: token, workerID: hello.workerID)
            guard HMACSHA256.constantTimeEqual(expected.bytes, proof.mac.bytes) else {
                return .rejected(Rejected(reason: .badProof, detail: "the proof does not match: the worker's cluster token differs from the coordinator's"), workerID: hello.workerID)
            }
            for (otherPipe, other) in s.pipes {
                guard case .authenticated(let session, let lastSeen) = other, session.workerID == hello.workerID else { continue }
                if now - lastSeen < livenessWindow {
                    return .rejected(Rejected(reason: .duplicateWorker, detail: "worker id '\(hello.workerID)' is already connected and active; give each worker a unique --id"), workerID: hello.workerID)
                }
                s.pipes[otherPipe] = nil
            }
            let session = WorkerSession(id: s.nextSessionID, workerID: hello.workerID, slots: hello.slots,
                                        capabilities: hello.capabilities, pipe: pipe)
            s.nextSessionID &+= 1
            s.pipes[pipe] = .authenticated(session, lastSeen: now)
            let welcome = Welcome(sessionID: session.id, serverMac: transcript.serverMac(token: token, sessionID: session.id),
                                  heartbeatIntervalMs: heartbeatIntervalMs, leaseTimeoutMs: leaseTimeoutMs)
            return .welcome(welcome, session)
        }
    }

    /// The session bound to `pipe`, marking it active; nil when the connection is not authenticated.
    func session(on pipe: PipeID, now: ContinuousClock.Instant = .now) -> WorkerSession? {
        state.withLock { s in
            guard case .authenticated(let session, _)? = s.pipes[pipe] else { return nil }
            s.pipes[pipe] = .authenticated(session, lastSeen: now)
            return session
        }
    }

    /// Forgets everything about a closed connection.
    func remove(pipe: PipeID) {
        state.withLock { _ = $0.pipes.removeValue(forKey: pipe) }
    }

    /// Drops challenges past their lifetime and sessions idle for four lease timeouts.
    private func purgeStale(_ pipes: inout [PipeID: PipeState], now: ContinuousClock.Instant) {
        let idleLimit = livenessWindow * 4
        pipes = pipes.filter { _, st in
            switch st {
            case .challenged(_, _, let at): now - at < Self.challengeLifetime
            case .authenticated(_, let lastSeen): now - lastSeen < idleLimit
            }
        }
    }

    /// Authenticated sessions on open connections that sent a request within the lease timeout
    /// (a live worker heartbeats several times per timeout), split into those holding trial slots
    /// and those without (clients).
    func activeSessions(now: ContinuousClock.Instant = .now) -> ActiveSessions {
        state.withLock { s in
            var active = ActiveSessions()
            for case .authenticated(let session, let lastSeen) in s.pipes.values where now - lastSeen < livenessWindow {
                if session.slots > 0 {
                    active.workers += 1
                    active.workerSlots += Int(session.slots)
                } else {
                    active.clients += 1
                }
            }
            return active
        }
    }

    var authenticatedCount: Int {
        state.withLock { s in
            s.pipes.values.reduce(0) { n, st in if case .authenticated = st { n + 1 } else { n } }
        }
    }

    private static func milliseconds(_ d: Duration) -> UInt32 {
        let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        return UInt32(clamping: ms)
    }
}
