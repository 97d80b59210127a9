import CNNG
import Synchronization

/// The reply one served request is owed.
///
/// Guarantees: the first `send` sends (or, with `nil`, declines to send) the reply and lets the
/// context receive its next request; later calls for the same request do nothing. Until it is
/// called the context serves nothing else, so every request must be answered exactly once.
public struct PendingReply: Sendable {
    fileprivate let context: ReplyContext
    fileprivate let generation: UInt64

    /// Replies with `bytes`; `nil` sends nothing (the client times out or resends). Callable from
    /// any thread, and cheap: it queues the send with NNG and returns.
    public func send(_ bytes: [UInt8]?) {
        context.reply(bytes, generation: generation)
    }
}

/// One REP `nng_ctx` driven only by NNG callbacks: receive → hand the request to `onRequest`
/// (on the NNG thread that completed the receive) → wait for its `PendingReply` → send → receive.
///
/// Why callbacks and not one Swift task per context: a task parked on each context costs two
/// task wake-ups per request (the receive resumes it; the application's answer resumes it again),
/// which at thousands of requests per second was most of a coordinator's scheduling overhead.
/// Here a request reaches the application with no task hop, and the reply is queued with NNG from
/// whatever thread produced it.
///
/// Guarantees:
/// - `onRequest` is called once per received request, never concurrently for one context.
/// - A reply that cannot be sent is dropped (NNG hands the message back and it is freed here);
///   the context receives the next request anyway. Only a closed socket or `cancel()` ends it.
/// - `onStopped` is called exactly once, when the context will start no further operation.
///   After that the owner calls `retire()` (from a task, never from an NNG callback).
final class ReplyContext: Sendable {
    private enum Phase: Equatable {
        case receiving
        case awaitingReply(UInt64)
        case sending
        /// Waiting a moment after a transient receive failure (e.g. out of memory), so as not to spin.
        case backingOff
        case stopped
    }

    private struct State {
        var aio: OpaquePointer?
        var phase = Phase.receiving
        var generation: UInt64 = 0
        var cancelled = false
        var retired = false
    }

    private let ctx: nng_ctx
    private let socket: SocketHandle
    private let sendTimeout: nng_duration
    private let onRequest: @Sendable (IncomingRequest, PendingReply) -> Void
    private let onStopped: @Sendable () -> Void
    private let state = Mutex(State())

    init(socket: SocketHandle, sendTimeout: nng_duration,
         onRequest: @escaping @Sendable (IncomingRequest, PendingReply) -> Void,
         onStopped: @escaping @Sendable () -> Void) throws(NetError) {
        self.ctx = try socket.openContext()
        self.socket = socket
        self.sendTimeout = sendTimeout
        self.onRequest = onRequest
        self.onStopped = onStopped
        var aio: OpaquePointer?
        let rv = nng_aio_alloc(&aio, replyContextCallback, Unmanaged.passUnretained(self).toOpaque())
        guard rv == 0, let aio else {
            socket.closeContext(ctx)
            throw NetError(code: rv == 0 ? Int32(NNG_ENOMEM.rawValue) : rv, operation: "allocate a serving aio")
        }
        let handle = AIOHandle(pointer: aio)
        state.withLock { $0.aio = handle.pointer }
    }

    /// Arms the first receive.
    func start() {
        receive()
    }

    /// Ends the context: a pending receive is aborted; a request being answered ends it once its
    /// reply has gone out.
    func cancel() {
        let aio: OpaquePointer? = state.withLock { s in
            s.cancelled = true
            return s.phase == .receiving || s.phase == .backingOff ? s.aio : nil
        }
        if let aio { nng_aio_cancel(aio) }
    }

    /// Closes the context and waits until no callback runs for its aio. Call once `onStopped` was
    /// called, from a task. Later calls do nothing.
    func retire() {
        let aio: OpaquePointer?? = state.withLock { s in
            defer { s.retired = true }
            return s.retired ? .none : .some(s.aio)
        }
        guard case .some(let aio) = aio else { return }
        socket.closeContext(ctx)
        if let aio { nng_aio_stop(aio) }
    }

    deinit {
        if let aio = state.withLock({ $0.aio }) { nng_aio_free(aio) }
    }

    // MARK: - State machine

    fileprivate func reply(_ bytes: [UInt8]?, generation: UInt64) {
        let aio: OpaquePointer? = state.withLock { s in
            guard s.phase == .awaitingReply(generation), let aio = s.aio else { return nil }
            s.phase = .sending
            return aio
        }
        guard let aio else { return }
        // A reply that cannot be allocated is dropped like any lost reply.
        guard let bytes, let message = try? NNGMessage(copying: bytes) else {
            receive()
            return
        }
        let raw = message.release()
        let started: Void? = socket.withContextCall {
            nng_aio_set_msg(aio, raw)
            nng_aio_set_timeout(aio, sendTimeout)
            nng_ctx_send(ctx, aio)
        }
        if started == nil {
            _ = NNGMessage(adopting: raw)  // never handed to NNG
            stop()
        }
    }

    /// NNG callback: the pending operation finished.
    fileprivate func completed() {
        let (phase, aio, cancelled) = state.withLock { ($0.phase, $0.aio, $0.cancelled) }
        guard let aio else { return }
        let rv = nng_aio_result(aio)
        switch phase {
        case .receiving:
            if rv == 0, let raw = nng_aio_get_msg(aio) {
                nng_aio_set_msg(aio, nil)
                let message = NNGMessage(adopting: raw)
                let generation = state.withLock { s in
                    s.generation &+= 1
                    s.phase = .awaitingReply(s.generation)
                    return s.generation
                }
                onRequest(IncomingRequest(bytes: message.bytes, pipe: message.pipe),
                          PendingReply(context: self, generation: generation))
            } else if cancelled || rv == Int32(NNG_ECLOSED.rawValue) || !socket.isOpen {
                stop()
            } else {
                backOff(aio)
            }
        case .sending:
            if rv != 0, let raw = nng_aio_get_msg(aio) {
                // A failed send leaves the message with us.
                nng_aio_set_msg(aio, nil)
                _ = NNGMessage(adopting: raw)
            }
            if cancelled || rv == Int32(NNG_ECLOSED.rawValue) { stop() } else { receive() }
        case .backingOff:
            if cancelled { stop() } else { receive() }
        case .awaitingReply, .stopped:
            break
        }
    }

    private func receive() {
        let aio: OpaquePointer? = state.withLock { s in
            guard !s.cancelled else { return nil }
            s.phase = .receiving
            return s.aio
        }
        guard let aio else { return stop() }
        let started: Void? = socket.withContextCall {
            nng_aio_set_timeout(aio, nngForever)
            nng_ctx_recv(ctx, aio)
        }
        if started == nil { return stop() }
        // A `cancel()` that came between the check above and the receive found nothing to abort.
        if state.withLock({ $0.cancelled }) { nng_aio_cancel(aio) }
    }

    private func backOff(_ aio: OpaquePointer) {
        state.withLock { $0.phase = .backingOff }
        nng_sleep_aio(10, aio)
    }

    private func stop() {
        let first = state.withLock { s in
            defer { s.phase = .stopped }
            return s.phase != .stopped
        }
        if first { onStopped() }
    }
}

private func replyContextCallback(_ arg: UnsafeMutableRawPointer?) {
    guard let arg else { return }
    // Unretained: the server keeps its contexts alive until `retire()` has waited for us.
    Unmanaged<ReplyContext>.fromOpaque(arg).takeUnretainedValue().completed()
}
