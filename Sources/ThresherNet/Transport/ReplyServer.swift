import CNNG

/// REP side of the transport: listens on one or more URLs and answers requests, many at once.
///
/// Guarantees:
/// - All listeners are bound when `init` returns (`boundURLs` carries the real port of a
///   `tcp://…:0` URL), or `init` throws and nothing stays open.
/// - `serve(contexts:handler:)` keeps `contexts` requests in flight, each on its own `nng_ctx`;
///   a slow handler delays only its own context.
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

    /// Runs `contexts` concurrent receive loops until `close()` or task cancellation.
    ///
    /// The handler's return value is the reply; `nil` means "send no reply" and the context
    /// moves on to the next request (the client then times out or resends).
    /// May be called more than once, also concurrently, to add loops.
    public func serve(contexts: Int, handler: @escaping @Sendable (IncomingRequest) async -> [UInt8]?) async {
        await withDiscardingTaskGroup { group in
            for _ in 0..<max(1, contexts) {
                group.addTask { await self.serveOneContext(handler) }
            }
        }
    }

    /// Stops listening and serving; in-flight replies may be dropped. Idempotent.
    public func close() {
        socket.close()
    }

    private func serveOneContext(_ handler: @Sendable (IncomingRequest) async -> [UInt8]?) async {
        let exchange: Exchange
        do {
            exchange = try Exchange(socket: socket, label: "serve \(boundURLs.joined(separator: ", "))",
                                    style: .reply)
        } catch {
            return  // the socket is closed (or out of memory): nothing to serve
        }
        defer { exchange.retire() }
        var reply: NNGMessage? = nil
        while true {
            let received = await exchange.run(sending: reply, sendTimeout: sendTimeout, receiveWait: .forever)
            reply = nil
            switch received {
            case .success(let request):
                // A reply that cannot be allocated is dropped like any lost reply.
                reply = await handler(request).flatMap { try? NNGMessage(copying: $0) }
            case .failure(let error):
                if error.isClosed || Task.isCancelled || !socket.isOpen { return }
                // Transient (e.g. out of memory): don't spin on it.
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    deinit { socket.close() }
}
