import ThresherWire

/// Who a worker says it is in `Hello`.
public struct WorkerIdentity: Sendable, Hashable {
    public var workerID: String
    public var slots: UInt16
    public var capabilities: [String]
    public init(workerID: String, slots: UInt16, capabilities: [String] = []) {
        self.workerID = workerID; self.slots = slots; self.capabilities = capabilities
    }
}

/// Why a request through a `ClusterClient` did not get an answer.
public enum ClusterError: Error, Sendable, CustomStringConvertible {
    case transport(NetError)
    /// The coordinator refused the handshake (wrong token, duplicate worker id, ...).
    case rejected(Rejected)
    /// The coordinator's Welcome did not prove knowledge of the token: not our coordinator.
    case serverNotAuthenticated
    case malformedReply(WireError)
    case unexpectedReply(expected: String, got: MessageType)
    case encoding(WireError)

    public var description: String {
        switch self {
        case .transport(let e): "transport: \(e)"
        case .rejected(let r): "coordinator rejected the handshake (\(r.reason)): \(r.detail)"
        case .serverNotAuthenticated: "the coordinator's Welcome carries a wrong MAC: it does not hold this cluster's token"
        case .malformedReply(let e): "malformed reply from the coordinator: \(e)"
        case .unexpectedReply(let expected, let got): "expected \(expected) from the coordinator, got \(got)"
        case .encoding(let e): "cannot encode request: \(e)"
        }
    }
}

/// The worker's end of the wire: sends requests, performs the handshake when needed.
///
/// Guarantees: no application request is sent before the coordinator proved it holds the
/// cluster token (mutual authentication); when the connection was replaced underneath (NNG
/// reconnects by itself) and the coordinator answers `Error(notAuthenticated)`, the client
/// re-handshakes and resends the request once. Concurrent `send`s share one handshake.
public actor ClusterClient {
    private let transport: RequestClient
    private let codec: FrameCodec
    private let token: ClusterToken
    private let identity: WorkerIdentity
    private var welcome: Welcome?
    private var handshakeInFlight: Task<Welcome, any Error>?

    public init(connect url: String, token: ClusterToken, identity: WorkerIdentity,
                transport options: TransportOptions = TransportOptions(), limits: WireLimits = WireLimits()) throws(NetError) {
        self.transport = try RequestClient(dial: url, options: options)
        self.codec = FrameCodec(limits: limits)
        self.token = token
        self.identity = identity
    }

    /// The current session's Welcome, if a handshake has completed.
    public var session: Welcome? { welcome }

    /// Performs the handshake now (otherwise the first `send` does).
    @discardableResult
    public func handshake(timeout: Duration = .seconds(10)) async throws(ClusterError) -> Welcome {
        if let handshakeInFlight {
            return try await Self.unwrap(handshakeInFlight)
        }
        let task = Task { [transport, codec, token, identity] () async throws -> Welcome in
            // NNG may replace the connection between Hello and Proof (a reconnect); the new
            // connection holds no challenge, so the coordinator answers `noChallenge`: start over.
            var attempt = 0
            while true {
                do {
                    return try await Self.runHandshake(transport: transport, codec: codec, token: token, identity: identity, timeout: timeout)
                } catch ClusterError.rejected(let r) where r.reason == .noChallenge && attempt < 3 {
                    attempt += 1
                }
            }
        }
        handshakeInFlight = task
        defer { handshakeInFlight = nil }
        let result = try await Self.unwrap(task)
        welcome = result
        return result
    }

    /// Sends one request and returns the coordinator's reply (which may be `.error`).
    public func send(_ message: Message, timeout: Duration = .seconds(10)) async throws(ClusterError) -> Message {
        if welcome == nil { try await handshake(timeout: timeout) }
        let frame: [UInt8]
        do { frame = try codec.encode(message) } catch { throw .encoding(error) }
        let reply = try await roundTrip(frame, timeout: timeout)
        if case .error(let e) = reply, e.code == .notAuthenticated {
            welcome = nil
            try await handshake(timeout: timeout)
            return try await roundTrip(frame, timeout: timeout)
        }
        return reply
    }

    public nonisolated func close() { transport.close() }

    private func roundTrip(_ frame: [UInt8], timeout: Duration) async throws(ClusterError) -> Message {
        try await Self.roundTrip(transport: transport, codec: codec, frame, timeout: timeout)
    }

    private static func roundTrip(transport: RequestClient, codec: FrameCodec, _ frame: [UInt8], timeout: Duration) async throws(ClusterError) -> Message {
        let replyBytes: [UInt8]
        do { replyBytes = try await transport.request(frame, timeout: timeout) } catch { throw .transport(error) }
        do { return try codec.decode(replyBytes) } catch { throw .malformedReply(error) }
    }

    private static func runHandshake(transport: RequestClient, codec: FrameCodec, token: ClusterToken,
                                     identity: WorkerIdentity, timeout: Duration) async throws(ClusterError) -> Welcome {
        let clientNonce = HandshakeTranscript.freshNonce()
        let hello = Hello(workerID: identity.workerID, slots: identity.slots, capabilities: identity.capabilities, clientNonce: clientNonce)
        let helloFrame: [UInt8]
        do { helloFrame = try codec.encode(.hello(hello)) } catch { throw .encoding(error) }
        let challenge: Challenge
        switch try await roundTrip(transport: transport, codec: codec, helloFrame, timeout: timeout) {
        case .challenge(let c): challenge = c
        case .rejected(let r): throw .rejected(r)
        case let other: throw .unexpectedReply(expected: "Challenge", got: other.type)
        }
        let transcript = HandshakeTranscript(clientNonce: clientNonce, serverNonce: challenge.serverNonce)
        let proof = Proof(mac: transcript.proof(token: token, workerID: identity.workerID))
        let proofFrame: [UInt8]
        do { proofFrame = try codec.encode(.proof(proof)) } catch { throw .encoding(error) }
        switch try await roundTrip(transport: transport, codec: codec, proofFrame, timeout: timeout) {
        case .welcome(let w):
            let expected = transcript.serverMac(token: token, sessionID: w.sessionID)
            guard HMACSHA256.constantTimeEqual(expected.bytes, w.serverMac.bytes) else { throw .serverNotAuthenticated }
            return w
        case .rejected(let r): throw .rejected(r)
        case let other: throw .unexpectedReply(expected: "Welcome", got: other.type)
        }
    }

    private static func unwrap(_ task: Task<Welcome, any Error>) async throws(ClusterError) -> Welcome {
        do { return try await task.value }
        catch let e as ClusterError { throw e }
        catch { throw .transport(NetError.cancelled) }
    }
}
