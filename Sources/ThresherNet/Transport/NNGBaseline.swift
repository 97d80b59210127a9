import CNNG
import Synchronization

/// Bare-NNG reference figures for benchmarks: the same REQ/REP traffic as `ReplyServer` +
/// `RequestClient`, done with plain blocking `nng_send`/`nng_recv` calls and no Swift
/// concurrency, so the transport layer's overhead can be stated as a ratio.
///
/// Guarantees: each call opens its own pair of sockets on `url`, runs the server on an NNG
/// thread, closes everything before returning, and measures only the timed loop (after
/// `warmup` untimed round trips). Use a URL nothing else listens on.
public enum NNGBaseline {
    /// Mean time per echo round trip of a `payloadBytes`-byte message (request and reply both
    /// carry the payload).
    public static func roundTrip(url: String, payloadBytes: Int, count: Int, warmup: Int = 100) throws(NetError) -> Duration {
        try measure(url: url, requestBytes: payloadBytes, echo: true, count: count, warmup: warmup)
    }

    /// Mean time per `messageBytes`-byte request answered by an empty reply (one-way bulk
    /// throughput is `messageBytes / time`).
    public static func upload(url: String, messageBytes: Int = 1 << 20, count: Int, warmup: Int = 10) throws(NetError) -> Duration {
        try measure(url: url, requestBytes: messageBytes, echo: false, count: count, warmup: warmup)
    }

    private static func measure(url: String, requestBytes: Int, echo: Bool, count: Int, warmup: Int) throws(NetError) -> Duration {
        let server = try BlockingEchoServer(url: url, bufferBytes: max(requestBytes, 1), echo: echo)
        defer { server.stop() }

        var client = nng_socket()
        try nngCheck(nng_req0_open(&client), "open REQ socket")
        defer { nng_close(client) }
        try nngCheck(nng_socket_set_size(client, NNG_OPT_RECVMAXSZ, max(requestBytes, 1) + 1024), "set \(NNG_OPT_RECVMAXSZ)")
        try nngCheck(nng_dial(client, url, nil, 0), "dial \(url)")

        var request = [UInt8](repeating: 0xA5, count: requestBytes)
        var reply = [UInt8](repeating: 0, count: max(requestBytes, 1))
        func once() throws(NetError) {
            let sent = request.withUnsafeMutableBytes { nng_send(client, $0.baseAddress, $0.count, 0) }
            try nngCheck(sent, "baseline send")
            var size = reply.count
            let received = reply.withUnsafeMutableBytes { nng_recv(client, $0.baseAddress, &size, 0) }
            try nngCheck(received, "baseline receive")
        }
        for _ in 0..<warmup { try once() }
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<max(count, 1) { try once() }
        return (clock.now - start) / max(count, 1)
    }
}

/// A REP socket answered by one NNG thread with blocking calls; stopped by closing the socket.
private final class BlockingEchoServer: Sendable {
    let socket: nng_socket
    let bufferBytes: Int
    let echo: Bool
    private let thread = Mutex<ThreadHandle?>(nil)

    init(url: String, bufferBytes: Int, echo: Bool) throws(NetError) {
        var socket = nng_socket()
        try nngCheck(nng_rep0_open(&socket), "open REP socket")
        self.socket = socket
        self.bufferBytes = bufferBytes
        self.echo = echo
        try nngCheck(nng_socket_set_size(socket, NNG_OPT_RECVMAXSZ, bufferBytes + 1024), "set \(NNG_OPT_RECVMAXSZ)")
        try nngCheck(nng_listen(socket, url, nil, 0), "listen \(url)")
        var handle: OpaquePointer?
        // Retained for the thread; released by the thread body when it returns.
        let arg = Unmanaged.passRetained(self).toOpaque()
        let rv = nng_thread_create(&handle, blockingServerMain, arg)
        guard rv == 0, let handle else {
            Unmanaged<BlockingEchoServer>.fromOpaque(arg).release()
            throw NetError(code: rv, operation: "start baseline server thread")
        }
        thread.withLock { $0 = ThreadHandle(pointer: handle) }
    }

    /// Closes the socket (the thread's blocking call fails with `NNG_ECLOSED`) and joins the thread.
    func stop() {
        nng_close(socket)
        if let handle = thread.withLock({ state in defer { state = nil }; return state }) {
            nng_thread_destroy(handle.pointer)
        }
    }

    fileprivate func run() {
        var buffer = [UInt8](repeating: 0, count: bufferBytes)
        let empty: [UInt8] = [0]
        while true {
            var size = buffer.count
            let received = buffer.withUnsafeMutableBytes { nng_recv(socket, $0.baseAddress, &size, 0) }
            guard received == 0 else { return }
            let sent = echo
                ? buffer.withUnsafeMutableBytes { nng_send(socket, $0.baseAddress, size, 0) }
                : empty.withUnsafeBytes { nng_send(socket, UnsafeMutableRawPointer(mutating: $0.baseAddress), 0, 0) }
            guard sent == 0 else { return }
        }
    }
}

/// An `nng_thread` to join.
// @unchecked: only the handle's address; it is joined once, by whoever takes it out of the Mutex.
private struct ThreadHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

private func blockingServerMain(_ arg: UnsafeMutableRawPointer?) {
    guard let arg else { return }
    let server = Unmanaged<BlockingEchoServer>.fromOpaque(arg).takeRetainedValue()
    server.run()
}
