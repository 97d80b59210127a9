import CNNG
import Dispatch
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sole owner of one open `nng_socket` and of everything NNG attaches to it: listeners,
/// dialers, pipes and contexts.
///
/// Guarantees:
/// - `nng_close` runs exactly once, from `close()` or `deinit`, whichever comes first.
/// - A context opened here is closed exactly once: by `closeContext(_:)` while the socket is
///   open, or by `nng_close` (which closes every context on the socket) — never both, because
///   both paths decide under the same lock.
/// - The relay that pipe callbacks point to outlives them: `nng_close` waits for every pipe's
///   removal callback, and the relay is held until `nng_close` has returned.
/// - `close()` returns within about 2 s even when NNG's own close hangs (see `closeBounded`).
/// - No context call (`nng_ctx_send`/`nng_ctx_recv`/`nng_ctx_open`) overlaps `nng_close`:
///   they run through `withContextCall`, and `close()` waits for those in flight. NNG 1.5.2
///   needs this: a context call that drops the last reference to a context being closed
///   finishes it after `nng_close` may already have freed the socket (`nni_ctx_rele` wakes the
///   closer before `ctx_fini` runs).
final class SocketHandle: Sendable {
    enum Role: Sendable { case reply, request }

    private struct Gate {
        var open = true
        var callsInFlight = 0
    }

    let socket: nng_socket
    let role: Role
    private let gate = Mutex(Gate())
    let pipeEvents = PipeEventRelay()

    init(role: Role, options: TransportOptions) throws(NetError) {
        var socket = nng_socket()
        switch role {
        case .reply: try nngCheck(nng_rep0_open(&socket), "open REP socket")
        case .request: try nngCheck(nng_req0_open(&socket), "open REQ socket")
        }
        self.socket = socket
        self.role = role
        // From here on `deinit` closes the socket if anything below throws.
        try pipeEvents.register(on: socket)
        try nngCheck(nng_socket_set_size(socket, NNG_OPT_RECVMAXSZ, options.maxMessageBytes),
                     "set \(NNG_OPT_RECVMAXSZ)")
        try nngCheck(nng_socket_set_ms(socket, NNG_OPT_RECONNMINT, options.reconnectMin.nngMilliseconds),
                     "set \(NNG_OPT_RECONNMINT)")
        try nngCheck(nng_socket_set_ms(socket, NNG_OPT_RECONNMAXT, options.reconnectMax.nngMilliseconds),
                     "set \(NNG_OPT_RECONNMAXT)")
        if role == .request, let resend = options.resendInterval {
            try nngCheck(nng_socket_set_ms(socket, NNG_OPT_REQ_RESENDTIME, resend.nngMilliseconds),
                         "set \(NNG_OPT_REQ_RESENDTIME)")
        }
    }

    /// Whether `close()` has not been called yet.
    var isOpen: Bool { gate.withLock { $0.open } }

    /// Runs `call` — one non-blocking NNG context call — unless `close()` has begun, in which
    /// case it returns `nil` without running it. Calls may nest (a callback that NNG runs inline
    /// may start the next operation).
    @inline(__always)
    func withContextCall<Result>(_ call: () -> Result) -> Result? {
        let entered = gate.withLock { gate in
            guard gate.open else { return false }
            gate.callsInFlight += 1
            return true
        }
        guard entered else { return nil }
        defer { gate.withLock { $0.callsInFlight -= 1 } }
        return call()
    }

    /// Opens a context; the caller owns it and must give it back through `closeContext(_:)`.
    func openContext() throws(NetError) -> nng_ctx {
        var ctx = nng_ctx()
        guard let rv = withContextCall({ nng_ctx_open(&ctx, socket) }) else { throw NetError.closed("open context") }
        try nngCheck(rv, "open context")
        return ctx
    }

    /// Closes `ctx` unless the socket is already closed (and the context with it).
    /// Pending operations on it finish with `NNG_ECLOSED`. The caller must not run context
    /// calls on `ctx` concurrently.
    func closeContext(_ ctx: nng_ctx) {
        _ = withContextCall { nng_ctx_close(ctx) }
    }

    /// Closes the socket: listeners stop, dialers stop reconnecting, every pending operation
    /// finishes with `NNG_ECLOSED`. Idempotent. Must not be called from an NNG callback.
    func close() {
        let wasOpen = gate.withLock { gate in
            defer { gate.open = false }
            return gate.open
        }
        guard wasOpen else { return }
        // Context calls are non-blocking and never wait for us, so this ends promptly.
        while gate.withLock({ $0.callsInFlight }) > 0 { sched_yield() }
        Self.closeBounded(socket, keepingAlive: pipeEvents)
    }

    /// How long `close()` waits for `nng_close` before leaving it to finish on its own thread.
    static let closeWait: DispatchTimeInterval = .seconds(2)

    /// Runs `nng_close` on a thread of its own and waits for it at most `closeWait`.
    ///
    /// Why: NNG 1.5.2 (Debian 12's) can block in `nng_close` for ever — seen here under load when a
    /// worker closed its REQ socket right after cancelling its requests: every NNG thread idle, the
    /// closer waiting on a condition nobody signals. A caller on Swift's cooperative pool (2 threads
    /// on a 2-core machine) must not be held by that, or the whole process stalls. The relay the pipe
    /// callbacks point to is kept alive by the closing thread until `nng_close` has returned. The
    /// price, only when NNG's close really hangs: the owner goes on to free its contexts' aios
    /// while that close is still pending — preferred to a process that can never finish.
    private static func closeBounded(_ socket: nng_socket, keepingAlive relay: PipeEventRelay) {
        let finished = DispatchSemaphore(value: 0)
        DispatchQueue.global(qos: .utility).async {
            _ = nng_close(socket)
            withExtendedLifetime(relay) {}
            finished.signal()
        }
        if finished.wait(timeout: .now() + closeWait) == .timedOut {
            let count = stuckCloses.add(1, ordering: .relaxed).newValue
            Logger(label: "thresher.net").warning(
                "closing an NNG socket did not finish within 2 s (\(count) so far in this process); left to finish on its own thread")
        }
    }

    /// Closes that did not finish within `closeWait` (each one's thread is still waiting in NNG).
    static let stuckCloses = Atomic<Int>(0)

    deinit { close() }
}

/// Forwards `nng_pipe_notify` events to one Swift callback.
///
/// Guarantees: the callback can be set or replaced at any time from any thread; events that
/// arrive while none is set are dropped. It runs on NNG threads and must not close the socket.
final class PipeEventRelay: Sendable {
    private let callback = Mutex<(@Sendable (PipeID, PipeEvent) -> Void)?>(nil)

    func set(_ callback: @escaping @Sendable (PipeID, PipeEvent) -> Void) {
        self.callback.withLock { $0 = callback }
    }

    /// Registers for pipe additions and removals. The relay must outlive the socket's pipes;
    /// `SocketHandle` guarantees that by holding it until after `nng_close`.
    fileprivate func register(on socket: nng_socket) throws(NetError) {
        let arg = Unmanaged.passUnretained(self).toOpaque()
        try nngCheck(nng_pipe_notify(socket, NNG_PIPE_EV_ADD_POST, pipeEventCallback, arg), "register pipe notification")
        try nngCheck(nng_pipe_notify(socket, NNG_PIPE_EV_REM_POST, pipeEventCallback, arg), "register pipe notification")
    }

    fileprivate func deliver(_ pipe: nng_pipe, _ event: nng_pipe_ev) {
        let kind: PipeEvent
        switch event {
        case NNG_PIPE_EV_ADD_POST: kind = .added
        case NNG_PIPE_EV_REM_POST: kind = .removed
        default: return
        }
        let target = callback.withLock { $0 }
        target?(PipeID(raw: pipe.id), kind)
    }
}

private func pipeEventCallback(_ pipe: nng_pipe, _ event: nng_pipe_ev, _ arg: UnsafeMutableRawPointer?) {
    guard let arg else { return }
    Unmanaged<PipeEventRelay>.fromOpaque(arg).takeUnretainedValue().deliver(pipe, event)
}
