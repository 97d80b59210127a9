import CNNG
import Synchronization

/// REP side of the transport: listens on one or more URLs and answers requests, many at once.
///
/// Guarantees:
/// - All listeners are bound when `init` returns (`boundURLs` carries the real port of a
///   `tcp://…:0` URL), or `init` throws and nothing stays open.
/// - `serve` keeps `contexts` requests in flight, each on its own `nng_ctx` (`ReplyContext`);
///   a slow answer delays only its own context.
/// - A misbehaving peer (oversize message, garbage bytes, vanished connection) costs only that
///   peer's connection: NNG drops it and every serving context carries on.
/// - `close()` (or the last reference going away) closes the socket; `serve` returns once
///   every context has stopped, and frees each context's NNG objects before returning.
public final class ReplyServer: Sendable {
    /// The listen URLs as bound, in the order given (a `:0` TCP port replaced by the real one).
    public let boundURLs: [String]
    private let socket: SocketHandle
    private let sendTimeout: nng_duration

    public init(listen urls: [String], options: TransportOptions = TransportOptions()) throws(NetError) {
        guard !urls.isEmpty else { throw NetError.invalid("listen: no URL given") }
        let socket = try SocketHandle(role: .reply, options: options)
        var bound: [String] = []
        for url in urls {
            bound.append(try Endpoints.listen(url, on: socket, options: options))
        }
        self.socket = socket
        self.boundURLs = bound
        self.sendTimeout = options.sendTimeout?.nngMilliseconds ?? nngForever
    }

    /// The port of the first TCP (or TLS) listener, e.g. after listening on `tcp://127.0.0.1:0`.
    public var port: Int? {
        boundURLs.lazy.map(TransportURL.init).first(where: \.isTCP)?.port
    }

    /// Registers the callback for connections being established or lost (replacing any earlier
    /// one). It runs on NNG threads: keep it short, and do not call `close()` from it.
    public func onPipeEvent(_ callback: @escaping @Sendable (PipeID, PipeEvent) -> Void) {
        socket.pipeEvents.set(callback)
    }

    /// Serves until `close()` or task cancellation, handing each request to `onRequest` on the
    /// NNG thread that received it, together with the `PendingReply` it must be answered with.
    ///
    /// `contexts` requests can be in flight at once; each context waits for its reply before
    /// receiving again. `onRequest` must be short (queue the work, do not block): it runs on
    /// NNG's threads. Returns once every context has stopped — after cancellation, that includes
    /// the replies still owed, so every `PendingReply` must be answered. May be called more than
    /// once, also concurrently, to add contexts.
    public func serve(contexts: Int, onRequest: @escaping @Sendable (IncomingRequest, PendingReply) -> Void) async {
        let stopped = StopLatch()
        var serving: [ReplyContext] = []
        for _ in 0..<max(1, contexts) {
            guard let context = try? ReplyContext(socket: socket, sendTimeout: sendTimeout,
                                                  onRequest: onRequest, onStopped: { stopped.countDown() }) else {
                break  // the socket is closed (or out of memory): serve with what opened
            }
            serving.append(context)
        }
        let started = serving
        stopped.expect(started.count)
        for context in started { context.start() }
        await withTaskCancellationHandler {
            await stopped.wait()
        } onCancel: {
            for context in started { context.cancel() }
        }
        for context in started { context.retire() }
    }

    /// Serves with an async handler: each request is answered by `handler` in a task of its own;
    /// its return value is the reply (`nil`: send none). Convenient where throughput does not
    /// matter; the coordinator batches through `serve(contexts:onRequest:)` instead.
    public func serve(contexts: Int, handler: @escaping @Sendable (IncomingRequest) async -> [UInt8]?) async {
        await serve(contexts: contexts) { request, reply in
            Task { reply.send(await handler(request)) }
        }
    }

    /// Stops listening and serving; in-flight replies may be dropped. Idempotent.
    public func close() {
        socket.close()
    }

    deinit { socket.close() }
}

/// Counts serving contexts down to zero and wakes the one waiter then. Contexts stop only after
/// they were started, so the count is known before the first `countDown`.
private final class StopLatch: Sendable {
    private struct State {
        var remaining = 0
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    func expect(_ count: Int) {
        state.withLock { $0.remaining = count }
    }

    func countDown() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.remaining -= 1
            guard s.remaining <= 0 else { return nil }
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.remaining <= 0 { return true }
                s.waiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }
}
