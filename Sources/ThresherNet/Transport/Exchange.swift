import CNNG
import Synchronization

/// One REQ `nng_ctx` that runs "send a request (optionally), then receive a reply" as a single
/// async call. (The serving side, REP, is callback-driven instead: see `ReplyContext`.)
///
/// The whole run wakes the Swift task once, from NNG's receive callback. The receive is armed
/// only after the send completed (REQ contexts require that order): the request is first offered
/// with a zero timeout on a second, callback-less aio. When a connection is ready, REQ completes
/// that send inside `nng_ctx_send` — no NNG task-thread hop, as with a blocking `nng_send` — and
/// the receive is armed right away. Otherwise the send is retried on the callback aio with the
/// real timeout, which then arms the receive from its completion callback. A failed send ends the
/// run with its error (no request went out).
///
/// Guarantees:
/// - Each `run` resumes its caller exactly once, with the received message or a `NetError`.
/// - The outgoing message is freed exactly once: NNG takes it when the send succeeds; when the
///   send fails, NNG hands it back in the aio and it is freed here.
/// - Task cancellation aborts the run with `NNG_ECANCELED`, whether it arrives before the send,
///   between send and receive, or during either (see `cancel(ticket:)`).
/// - `onQuiescent` is called once per run, after the caller was resumed *and* every NNG
///   callback and cancel handler has stopped touching the aios; only then may the exchange be
///   handed to another task (see `ExchangePool`).
/// - The aios are freed in `deinit` (`nng_aio_free` waits for a running callback). The last
///   reference must not be dropped on an NNG thread: owners call `retire()` first.
final class Exchange: Sendable {
    /// How long the receive half may wait.
    enum ReceiveWait: Sendable {
        case forever
        /// Until this `nng_clock()` time, shared with the send half.
        case until(nng_time)
    }

    private enum Phase { case idle, sending, receiving }

    private struct State {
        /// The aio whose callback drives the run (receives, and sends that had to wait).
        var aio: OpaquePointer?
        var phase = Phase.idle
        /// Set while a run is suspended; taken exactly once by `finish`.
        var continuation: UnsafeContinuation<Result<IncomingRequest, NetError>, Never>?
        /// Identifies the current run, so a late cancel handler cannot touch a later run.
        var ticket: UInt64 = 0
        var cancelRequested = false
        var receiveWait = ReceiveWait.forever
        /// Threads or pending NNG operations that may still touch the aios.
        var pins = 0
        var retired = false
    }

    private let ctx: nng_ctx
    private let socket: SocketHandle
    private let label: String
    /// The callback-less aio for the zero-timeout first attempt. It is idle whenever
    /// `nng_ctx_send` has returned, so it never overlaps the receive.
    private let sendAIO: AIOHandle
    private let onQuiescent: (@Sendable (Exchange) -> Void)?
    private let state = Mutex(State())

    init(socket: SocketHandle, label: String, onQuiescent: (@Sendable (Exchange) -> Void)? = nil) throws(NetError) {
        let ctx = try socket.openContext()
        var sendAIO: OpaquePointer?
        let sendRV = nng_aio_alloc(&sendAIO, nil, nil)
        guard sendRV == 0, let sendAIO else {
            socket.closeContext(ctx)
            throw NetError(code: sendRV == 0 ? Int32(NNG_ENOMEM.rawValue) : sendRV, operation: "allocate aio for \(label)")
        }
        self.ctx = ctx
        self.sendAIO = AIOHandle(pointer: sendAIO)
        self.socket = socket
        self.label = label
        self.onQuiescent = onQuiescent
        // Fully initialized: from here on `deinit` frees what was allocated if we throw.
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

    /// Closes the context and waits until no NNG callback runs for the aios. Call after the last
    /// `run` returned, from a task — never from an NNG callback. Later calls do nothing.
    func retire() {
        let aio: OpaquePointer?? = state.withLock { state in
            defer { state.retired = true }
            return state.retired ? .none : .some(state.aio)
        }
        guard case .some(let aio) = aio else { return }
        socket.closeContext(ctx)
        if let aio { nng_aio_stop(aio) }
        nng_aio_stop(sendAIO.pointer)
    }

    deinit {
        if let aio = state.withLock({ $0.aio }) { nng_aio_free(aio) }
        nng_aio_free(sendAIO.pointer)
    }

    // MARK: - State machine

    private func start(_ continuation: UnsafeContinuation<Result<IncomingRequest, NetError>, Never>,
                       outgoing: OpaquePointer?, sendTimeout: nng_duration, ticket: UInt64) {
        // A run cancelled before it starts sends nothing.
        let cancelledAlready = state.withLock { state in
            state.continuation = continuation
            return state.cancelRequested
        }
        if cancelledAlready {
            if let outgoing { Self.free(outgoing) }  // never handed to NNG
            finish(.failure(NetError(NNG_ECANCELED, operation: label)))
            return
        }
        var outgoing = outgoing
        if let request = outgoing {
            let attempt = socket.withContextCall { Self.sendIfConnectionReady(request, ctx: ctx, aio: sendAIO.pointer) }
            switch attempt ?? .closed(request) {
            case .sent:
                outgoing = nil
            case .noConnectionReady:
                break
            case .closed(let request):
                Self.free(request)
                finish(.failure(NetError(NNG_ECLOSED, operation: label)))
                return
            case .failed(let code):
                finish(.failure(NetError(code: code, operation: label)))
                return
            }
        }
        // From here a cancellation aborts the started operation through NNG (`cancelIfRequested`),
        // which also resets a REQ context whose request already went out.
        let started: (aio: OpaquePointer, receiveTimeout: nng_duration)? = state.withLock { state in
            guard let aio = state.aio else { return nil }
            state.phase = outgoing == nil ? .receiving : .sending
            state.pins += 2  // the operation about to start, and this thread until it has started it
            return (aio, Self.timeout(for: state.receiveWait))
        }
        guard let started else {
            if let outgoing { Self.free(outgoing) }
            finish(.failure(NetError(NNG_EINTERNAL, operation: label)))  // unreachable: init sets the aio
            return
        }
        let timeout = outgoing == nil ? started.receiveTimeout : sendTimeout
        if startOperation(sending: outgoing, aio: started.aio, timeout: timeout) {
            cancelIfRequested(ticket: ticket)
        } else {
            if let outgoing { Self.free(outgoing) }
            finish(.failure(NetError(NNG_ECLOSED, operation: label)))
            unpin()  // the operation that did not start
        }
        unpin()
    }

    /// Starts a send of `message` (or, if `nil`, a receive) on the callback `aio`. Returns
    /// `false` when the socket is closing: nothing was started, no callback will come, and
    /// `message` is still the caller's.
    private func startOperation(sending message: OpaquePointer?, aio: OpaquePointer, timeout: nng_duration) -> Bool {
        let started: Void? = socket.withContextCall {
            nng_aio_set_timeout(aio, timeout)
            if let message {
                nng_aio_set_msg(aio, message)
                nng_ctx_send(ctx, aio)
            } else {
                nng_ctx_recv(ctx, aio)
            }
        }
        return started != nil
    }

    private enum ImmediateSend {
        case sent, noConnectionReady, failed(Int32)
        /// Not attempted: the socket is closing. The message is still ours.
        case closed(OpaquePointer)
    }

    /// Offers a request to REQ with a zero timeout on the callback-less `aio`. REQ then either
    /// hands it to a ready connection or fails with `NNG_ETIMEDOUT`, and in both cases the aio
    /// completes inside `nng_ctx_send`, so the result is final when it returns. On failure the
    /// message is left with us: it stays owned by the caller (`.noConnectionReady`) or is freed.
    private static func sendIfConnectionReady(_ message: OpaquePointer, ctx: nng_ctx, aio: OpaquePointer) -> ImmediateSend {
        nng_aio_set_msg(aio, message)
        nng_aio_set_timeout(aio, 0)
        nng_ctx_send(ctx, aio)
        nng_aio_wait(aio)  // already complete; makes the completion visible to this thread
        let rv = nng_aio_result(aio)
        if rv == 0 { return .sent }
        nng_aio_set_msg(aio, nil)
        if rv == Int32(NNG_ETIMEDOUT.rawValue) { return .noConnectionReady }
        free(message)
        return .failed(rv)
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

    /// The send on the callback aio finished; receive the reply.
    private func sendCompleted(aio: OpaquePointer, rv: Int32, ticket: UInt64) {
        if rv != 0 {
            // A failed send leaves the message with us.
            if let raw = nng_aio_get_msg(aio) {
                nng_aio_set_msg(aio, nil)
                Self.free(raw)
            }
            finish(.failure(NetError(code: rv, operation: label)))
            return
        }
        // Armed even if cancellation is pending: aborting it through NNG (`cancelIfRequested`)
        // also resets a REQ context whose request already went out.
        let receiveTimeout = state.withLock { state in
            state.phase = .receiving
            state.pins += 1
            return Self.timeout(for: state.receiveWait)
        }
        if startOperation(sending: nil, aio: aio, timeout: receiveTimeout) {
            cancelIfRequested(ticket: ticket)
        } else {
            finish(.failure(NetError(NNG_ECLOSED, operation: label)))
            unpin()  // the receive that did not start
        }
    }

    /// Task cancellation handler. Marks the run cancelled and aborts whatever operation is
    /// pending. If the flag is set while no operation is registered yet (before `start`, or
    /// between send and receive), the thread about to start one sees it: `start` before sending
    /// anything, or `cancelIfRequested` right after starting the operation.
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

    /// Frees a message NNG did not take.
    private static func free(_ raw: OpaquePointer) {
        _ = NNGMessage(adopting: raw)
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
struct AIOHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

private func exchangeCallback(_ arg: UnsafeMutableRawPointer?) {
    guard let arg else { return }
    // Unretained: the exchange's owner keeps it alive until `retire()` has waited for us.
    Unmanaged<Exchange>.fromOpaque(arg).takeUnretainedValue().completed()
}
