import Logging
import Synchronization
import ThresherWire

/// Options of a `ClusterServer`.
public struct ClusterServerOptions: Sendable {
    public var transport: TransportOptions
    public var limits: WireLimits
    /// Requests served at once (one NNG context each).
    public var concurrentRequests: Int
    /// Told to workers in `Welcome`; workers heartbeat at this interval.
    public var heartbeatInterval: Duration
    /// Told to workers in `Welcome`; also how long a worker id stays claimed after its last request.
    public var leaseTimeout: Duration
    /// Where handshakes and rejected input are logged.
    public var logger: Logger

    public init(transport: TransportOptions = TransportOptions(), limits: WireLimits = WireLimits(),
                concurrentRequests: Int = 64, heartbeatInterval: Duration = .seconds(5), leaseTimeout: Duration = .seconds(15),
                logger: Logger = Logger(label: "thresher.net")) {
        self.transport = transport; self.limits = limits; self.concurrentRequests = concurrentRequests
        self.heartbeatInterval = heartbeatInterval; self.leaseTimeout = leaseTimeout; self.logger = logger
    }
}

/// Something the server observed that an operator may want in the log.
public enum ServerEvent: Sendable {
    case sessionOpened(WorkerSession)
    case handshakeRejected(workerID: String?, pipe: PipeID, Rejected)
    case frameRejected(pipe: PipeID, WireError)
    case unauthenticatedRequest(pipe: PipeID, MessageType)
    case connectionClosed(PipeID)
}

/// The coordinator's end of the wire: frames in, frames out, with the handshake done here.
///
/// Guarantees: the application handler sees only decoded messages from authenticated sessions;
/// a malformed frame is answered with `Error(malformedFrame)`, counted and reported as an event,
/// and never reaches the handler; handshake messages never reach the handler either.
public final class ClusterServer: Sendable {
    /// The application: answers one request of an authenticated worker.
    public typealias Handler = @Sendable (WorkerSession, Message) async -> Message

    private let server: ReplyServer
    private let codec: FrameCodec
    private let sessions: SessionTable
    private let options: ClusterServerOptions
    private let stats = Mutex(ServerStatistics())
    private let eventSink: Mutex<(@Sendable (ServerEvent) -> Void)?> = Mutex(nil)

    public init(listen urls: [String], token: ClusterToken, options: ClusterServerOptions = ClusterServerOptions()) throws(NetError) {
        self.options = options
        self.codec = FrameCodec(limits: options.limits)
        self.sessions = SessionTable(token: token, heartbeatInterval: options.heartbeatInterval, leaseTimeout: options.leaseTimeout)
        self.server = try ReplyServer(listen: urls, options: options.transport)
        server.onPipeEvent { [weak self] pipe, event in
            guard let self, case .removed = event else { return }
            self.sessions.remove(pipe: pipe)
            self.emit(.connectionClosed(pipe))
        }
    }

    /// The transport underneath, e.g. for the bound port of `tcp://127.0.0.1:0`.
    public var transport: ReplyServer { server }

    public var statistics: ServerStatistics { stats.withLock { $0 } }

    /// Number of connections that completed the handshake and are still open.
    public var authenticatedSessions: Int { sessions.authenticatedCount }

    /// Sessions active now: authenticated, connection open, a request within the lease timeout.
    public var activeSessions: ActiveSessions { sessions.activeSessions() }

    /// Receives events (handshakes, rejections); called on transport threads, keep it short.
    public func onEvent(_ sink: @escaping @Sendable (ServerEvent) -> Void) {
        eventSink.withLock { $0 = sink }
    }

    /// Serves until `close()` or cancellation of the calling task, answering each authenticated
    /// request with `handler` in a task of its own.
    public func serve(_ handler: @escaping Handler) async {
        await serve { request in
            Task { request.reply(await handler(request.session, request.message)) }
        }
    }

    /// Serves until `close()` or cancellation of the calling task, handing each authenticated
    /// request to `deliver` on the NNG thread that received it (keep `deliver` short: queue the
    /// request). Malformed frames and the handshake are answered here and never delivered. Every
    /// delivered request must be answered exactly once with `ClusterRequest.reply`.
    public func serve(delivering deliver: @escaping @Sendable (ClusterRequest) -> Void) async {
        await server.serve(contexts: options.concurrentRequests) { [self] request, pending in
            switch self.route(request) {
            case .answered(let bytes):
                pending.send(bytes)
            case .application(let session, let message):
                deliver(ClusterRequest(session: session, message: message, server: self, pending: pending))
            }
        }
    }

    public func close() { server.close() }

    /// What `route` made of one frame.
    enum Routing {
        /// Answered by the server itself (handshake, malformed or misdirected frame).
        case answered([UInt8]?)
        /// An authenticated request for the application.
        case application(WorkerSession, Message)
    }

    /// Decodes one request frame; answers it here unless it is an authenticated application request.
    func route(_ request: IncomingRequest) -> Routing {
        let message: Message
        do {
            message = try codec.decode(request.bytes)
        } catch {
            let count = stats.withLock { s in
                s.framesRejected[error.reasonName, default: 0] += 1
                return s.framesRejected[error.reasonName, default: 0]
            }
            // A peer flooding garbage must not flood the log: log the 1st, 2nd, 4th, 8th, ... of each reason.
            if count & (count - 1) == 0 {
                options.logger.warning("rejected a malformed frame (\(error.reasonName), \(count) so far): \(error)",
                                       metadata: ["pipe": "\(request.pipe)"])
            }
            emit(.frameRejected(pipe: request.pipe, error))
            return .answered(encode(.error(ErrorReply(code: .malformedFrame, detail: String(describing: error)))))
        }
        switch message {
        case .hello(let hello):
            if let violation = HelloLimits.violation(hello) {
                // Refused before any challenge; the claimed id is not logged, it is what is wrong.
                let rejected = Rejected(reason: .invalidHello, detail: "\(violation) (see HelloLimits)")
                stats.withLock { $0.handshakesRejected[String(describing: rejected.reason), default: 0] += 1 }
                options.logger.warning("rejected a Hello: \(violation)", metadata: ["pipe": "\(request.pipe)"])
                emit(.handshakeRejected(workerID: nil, pipe: request.pipe, rejected))
                return .answered(encode(.rejected(rejected)))
            }
            return .answered(encode(.challenge(sessions.challenge(hello, on: request.pipe))))
        case .proof(let proof):
            switch sessions.verify(proof, on: request.pipe) {
            case .welcome(let welcome, let session):
                stats.withLock { $0.sessionsOpened += 1 }
                options.logger.info("worker \(session.workerID) authenticated (session \(session.id), \(session.slots) slots)",
                                    metadata: ["pipe": "\(request.pipe)"])
                emit(.sessionOpened(session))
                return .answered(encode(.welcome(welcome)))
            case .rejected(let rejected, let workerID):
                stats.withLock { $0.handshakesRejected[String(describing: rejected.reason), default: 0] += 1 }
                options.logger.warning("rejected the handshake of worker \(workerID ?? "?") (\(rejected.reason)): \(rejected.detail)",
                                       metadata: ["pipe": "\(request.pipe)"])
                emit(.handshakeRejected(workerID: workerID, pipe: request.pipe, rejected))
                return .answered(encode(.rejected(rejected)))
            }
        case .challenge, .welcome, .rejected, .assign, .noWork, .ack, .chunkAck, .error,
             .sweepSubmitted, .statusReply, .stopReply, .exportPage, .bestCheckpoints, .blobData, .reportReply:
            return .answered(encode(.error(ErrorReply(code: .unexpectedMessage, detail: "\(message.type) is a coordinator reply, not a request"))))
        case .requestTrial, .report, .heartbeat, .checkpointChunk, .done, .failed,
             .submitSweep, .statusRequest, .stopRequest, .exportRequest, .bestRequest, .blobRead, .reportRequest:
            guard let session = sessions.session(on: request.pipe) else {
                stats.withLock { $0.unauthenticatedRequests += 1 }
                emit(.unauthenticatedRequest(pipe: request.pipe, message.type))
                return .answered(encode(.error(ErrorReply(code: .notAuthenticated, detail: "this connection has not completed the handshake; send Hello"))))
            }
            return .application(session, message)
        }
    }

    /// Encodes and sends the reply to one delivered request.
    fileprivate func send(_ reply: Message, to pending: PendingReply) {
        stats.withLock { $0.requestsServed += 1 }
        pending.send(encode(reply))
    }

    private func encode(_ message: Message) -> [UInt8]? {
        // Replies are built by this process from bounded values; an encode failure means a reply
        // exceeded the frame limit, and the worker's request times out and is retried instead.
        try? codec.encode(message)
    }

    private func emit(_ event: ServerEvent) {
        eventSink.withLock { $0 }?(event)
    }
}

/// One authenticated request delivered by `ClusterServer.serve(delivering:)`, with the reply it
/// is owed.
///
/// Guarantees: the first `reply` encodes and sends the answer (and counts the request as served);
/// later calls do nothing.
public struct ClusterRequest: Sendable {
    public let session: WorkerSession
    public let message: Message
    fileprivate let server: ClusterServer
    fileprivate let pending: PendingReply

    /// Answers the request; callable from any thread.
    public func reply(_ message: Message) {
        server.send(message, to: pending)
    }
}
