import CNNG

/// REQ side of the transport: one dialed URL, any number of concurrent requests.
///
/// Guarantees:
/// - The dial is non-blocking: a server that is not up yet, or goes away, is redialed in the
///   background with `reconnectMin`…`reconnectMax` backoff; requests made meanwhile wait for it
///   (within their timeout).
/// - Every request runs on its own `nng_ctx`, so concurrent requests never wait for each other
///   and each reply reaches the request that caused it.
/// - `request` returns the reply bytes or throws a `NetError`: `isTimedOut` when `timeout`
///   passed, `isCancelled` when the calling task was cancelled (the NNG operation is aborted),
///   `isClosed` after `close()`.
/// - `close()` (or the last reference going away) closes the socket and frees every NNG object
///   this client created.
public final class RequestClient: Sendable {
    /// The URL this client dials.
    public let url: String
    private let socket: SocketHandle
    private let pool: ExchangePool

    public init(dial url: String, options: TransportOptions = TransportOptions()) throws(NetError) {
        self.url = url
        let socket = try SocketHandle(role: .request, options: options)
        try Endpoints.dial(url, on: socket, options: options)
        self.socket = socket
        self.pool = ExchangePool(socket: socket, label: "request to \(url)")
    }

    /// Sends `bytes` and waits for the reply.
    ///
    /// `timeout` covers the whole round trip, including waiting for a connection.
    public func request(_ bytes: [UInt8], timeout: Duration) async throws(NetError) -> [UInt8] {
        if Task.isCancelled { throw NetError(NNG_ECANCELED, operation: "request to \(url)") }
        let message = try NNGMessage(copying: bytes)
        let exchange = try pool.checkout()
        let milliseconds = timeout.nngMilliseconds
        let deadline = nng_clock() + nng_time(milliseconds)
        return try await exchange.run(sending: message, sendTimeout: milliseconds,
                                      receiveWait: .until(deadline)).get().bytes
    }

    /// Registers the callback for connections being established or lost (replacing any earlier
    /// one). It runs on NNG threads: keep it short, and do not call `close()` from it.
    public func onPipeEvent(_ callback: @escaping @Sendable (PipeID, PipeEvent) -> Void) {
        socket.pipeEvents.set(callback)
    }

    /// Closes the socket. Pending requests fail with `isClosed`; later ones throw it at once.
    /// Idempotent.
    public func close() {
        pool.close()
        socket.close()
    }

    deinit {
        socket.close()
        pool.shutdown()
    }
}
