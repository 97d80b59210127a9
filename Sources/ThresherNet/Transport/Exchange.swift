import CNNG
import Synchronization

/// One `nng_ctx` and one `nng_aio` that run "send a message (optionally), then receive one" as a
/// single async call — a REQ request, or a REP reply followed by the next request.
///
/// The send completion starts the receive directly from NNG's callback, so a whole run wakes
/// the Swift task once.
///
/// Guarantees:
/// - Each `run` resumes its caller exactly once, with the received message or a `NetError`.
/// - The outgoing message is freed exactly once: NNG takes it when the send succeeds; when the
///   send fails, NNG hands it back in the aio and it is freed here.
/// - Task cancellation aborts the run with `NNG_ECANCELED`, whether it arrives before the send,
///   between send and receive, or during either (see `cancel(ticket:)`).
/// - `onQuiescent` is called once per run, after the caller was resumed *and* every NNG
///   callback and cancel handler has stopped touching the aio; only then may the exchange be
///   handed to another task (see `ExchangePool`).
/// - The aio is freed in `deinit` (`nng_aio_free` waits for a running callback). The last
///   reference must not be dropped on an NNG thread: owners call `retire()` first.
final class Exchange: Sendable {
    /// What to do when the send half fails.
    enum SendFailure: Sendable {
        /// End the run with the error (REQ: no request went out).
        case fail
        /// Receive anyway (REP: a lost reply must not stop the server); only `NNG_ECLOSED` ends the run.
        case receiveAnyway
    }

    /// How long the receive half may wait.
    enum ReceiveWait: Sendable {
        case forever
        /// Until this `nng_clock()` time, shared with the send half.
        case until(nng_time)
    }

    private enum Phase { case idle, sending, receiving }

    private struct State {
        var aio: OpaquePointer?
        var phase = Phase.idle
        /// Set while a run is suspended; taken exactly once by `finish`.
        var continuation: UnsafeContinuation<Result<IncomingRequest, NetError>, Never>?
        /// Identifies the current run, so a late cancel handler cannot touch a later run.
        var ticket: UInt64 = 0
        var cancelRequested = false
        var receiveWait = ReceiveWait.forever
        /// Threads or pending NNG operations that may still touch the aio.
        var pins = 0
        var retired = false
    }

    private let ctx: nng_ctx
    private let socket: SocketHandle
    private let label: String
    private let sendFailure: SendFailure
    private let onQuiescent: (@Sendable (Exchange) -> Void)?
    private let state = Mutex(State())

    init(socket: SocketHandle, label: String, sendFailure: SendFailure,
         onQuiescent: (@Sendable (Exchange) -> Void)? = nil) throws(NetError) {
        self.ctx = try socket.openContext()
        self.socket = socket
        self.label = label
        self.sendFailure = sendFailure
        self.onQuiescent = onQuiescent
        var aio: OpaquePointer?
        let rv = nng_aio_alloc(&aio, exchangeCallback, Unmanaged.passUnretained(self).toOpaque())
        guard rv == 0, let aio else {
            socket.closeContext(ctx)
            throw NetError(code: rv == 0 ? Int32(NNG_ENOMEM.rawValue) : rv, operation: "allocate aio for \(label)")
        }
        let handle = AIOHandle(pointer: aio)
        state.withLock { $0.aio = handle.pointer }
    }

    /// Sends `message` (if any), then receives one message on this exchange's context.
    ///
    /// Must not overlap another `run` on the same exchange.
    func run(sending message: consuming NNGMessage?, sendTimeout: nng_duration,
             receiveWait: ReceiveWait) async -> Result<IncomingRequest, NetError> {
        // From here the raw pointer is owned by this run until NNG accepts it.
        let outgoing: OpaquePointer?
        switch consume message {
        case .some(let message): outgoing = message.release()
        case .none: outgoing = nil
        }
        let ticket = state.withLock { state in
            state.ticket &+= 1
            state.cancelRequested = false
            state.receiveWait = receiveWait
            return state.ticket
        }
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                start(continuation, outgoing: outgoing, sendTimeout: sendTimeout, ticket: ticket)
            }
        } onCancel: {
            cancel(ticket: ticket)
        }
    }

    /// Closes the context and waits until no NNG callback runs for the aio. Call after the last
    /// `run` returned, from a task — never from an NNG callback. Later calls do nothing.
    func retire() {
        let aio: OpaquePointer?? = state.withLock { state in
            defer { state.retired = true }
            return state.retired ? .none : .some(state.aio)
        }
        guard case .some(let aio) = aio else { return }
        socket.closeContext(ctx)
        if let aio { nng_aio_stop(aio) }
    }

    deinit {
        if let aio = state.withLock({ $0.aio }) { nng_aio_free(aio) }
    }

    // MARK: - State machine

    private func start(_ continuation: UnsafeContinuation<Result<IncomingRequest, NetError>, Never>,
                       outgoing: OpaquePointer?, sendTimeout: nng_duration, ticket: UInt64) {
        let started: (aio: OpaquePointer, receiveTimeout: nng_duration)? = state.withLock { state in
            state.continuation = continuation
            guard !state.cancelRequested, let aio = state.aio else { return nil }
            state.phase = outgoing == nil ? .receiving : .sending
            state.pins += 2  // the operation about to start, and this thread until it has started it
            return (aio, Self.timeout(for: state.receiveWait))
        }
        guard let started else {
            if let outgoing { _ = NNGMessage(adopting: outgoing) }  // never handed to NNG: free it
            finish(.failure(NetError(NNG_ECANCELED, operation: label)))
            return
        }
        if let outgoing {
            nng_aio_set_msg(started.aio, outgoing)
            nng_aio_set_timeout(started.aio, sendTimeout)
            nng_ctx_send(ctx, started.aio)
        } else {
            nng_aio_set_timeout(started.aio, started.receiveTimeout)
            nng_ctx_recv(ctx, started.aio)
        }
        cancelIfRequested(ticket: ticket)
        unpin()
    }

    /// NNG callback: one started operation finished. Its pin now belongs to this call.
    fileprivate func completed() {
        let (phase, ticket, aio) = state.withLock { ($0.phase, $0.ticket, $0.aio) }
        guard let aio else { return }
        let rv = nng_aio_result(aio)
        switch phase {
        case .sending:
            sendCompleted(aio: aio, rv: rv, ticket: ticket)
        case .receiving:
            if rv == 0, let raw = nng_aio_get_msg(aio) {
                nng_aio_set_msg(aio, nil)
                let message = NNGMessage(adopting: raw)
                finish(.success(IncomingRequest(bytes: message.bytes, pipe: message.pipe)))
            } else {
                finish(.failure(NetError(code: rv == 0 ? Int32(NNG_EINTERNAL.rawValue) : rv, operation: label)))
            }
        case .idle:
            break
        }
        unpin()
    }

    private func sendCompleted(aio: OpaquePointer, rv: Int32, ticket: UInt64) {
        if rv != 0 {
            // A failed send leaves the message with us.
            if let raw = nng_aio_get_msg(aio) {
                nng_aio_set_msg(aio, nil)
                _ = NNGMessage(adopting: raw)
            }
            if sendFailure == .fail || rv == Int32(NNG_ECLOSED.rawValue) {
                finish(.failure(NetError(code: rv, operation: label)))
                return
            }
        }
        let receiveTimeout: nng_duration? = state.withLock { state in
            guard !state.cancelRequested else { return nil }
            state.phase = .receiving
            state.pins += 1
            return Self.timeout(for: state.receiveWait)
        }
        guard let receiveTimeout else {
            finish(.failure(NetError(NNG_ECANCELED, operation: label)))
            return
        }
        nng_aio_set_timeout(aio, receiveTimeout)
        nng_ctx_recv(ctx, aio)
        cancelIfRequested(ticket: ticket)
    }

    /// Task cancellation handler. Marks the run cancelled and aborts whatever operation is
    /// pending. If the flag is set while no operation is registered yet (before `start`, or
    /// between send and receive), the thread about to start one sees it in `cancelIfRequested`.
    private func cancel(ticket: UInt64) {
        let aio: OpaquePointer? = state.withLock { state in
            guard state.ticket == ticket else { return nil }
            state.cancelRequested = true
            guard state.phase != .idle else { return nil }
            state.pins += 1
            return state.aio
        }
        guard let aio else { return }
        nng_aio_cancel(aio)
        unpin()
    }

    /// Called, pinned, right after starting an operation: aborts it if cancellation arrived in
    /// the window where `cancel` could not have reached it.
    private func cancelIfRequested(ticket: UInt64) {
        let aio: OpaquePointer? = state.withLock { state in
            state.ticket == ticket && state.cancelRequested && state.phase != .idle ? state.aio : nil
        }
        if let aio { nng_aio_cancel(aio) }
    }

    private func finish(_ result: Result<IncomingRequest, NetError>) {
        let (continuation, quiescent) = state.withLock { state in
            defer { state.continuation = nil }
            state.phase = .idle
            return (state.continuation, state.pins == 0)
        }
        continuation?.resume(returning: result)
        if quiescent { onQuiescent?(self) }
    }

    private func unpin() {
        let quiescent = state.withLock { state in
            state.pins -= 1
            return state.pins == 0 && state.phase == .idle
        }
        if quiescent { onQuiescent?(self) }
    }

    private static func timeout(for wait: ReceiveWait) -> nng_duration {
        switch wait {
        case .forever:
            return nngForever
        case .until(let deadline):
            let now = nng_clock()
            return deadline > now ? nng_duration(clamping: deadline - now) : 0
        }
    }
}

/// Carries a freshly allocated aio's address into `State`.
// @unchecked: only an address; who may touch the aio is decided under the state lock.
private struct AIOHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

private func exchangeCallback(_ arg: UnsafeMutableRawPointer?) {
    guard let arg else { return }
    // Unretained: the exchange's owner keeps it alive until `retire()` has waited for us.
    Unmanaged<Exchange>.fromOpaque(arg).takeUnretainedValue().completed()
}
