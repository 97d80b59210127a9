#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The thread body of `MetricsHTTPServer`: accepts connections, gathers each request head with
/// `poll`, answers it, and closes the connection. Owned by that one thread, so it needs no lock.
final class ConnectionLoop: @unchecked Sendable {
    // @unchecked: after `init` only the server's thread touches it.
    private struct Connection {
        let fd: Int32
        var head: [UInt8] = []
        let deadline: ContinuousClock.Instant
    }

    private let listener: Int32
    private let wake: Int32
    private let limits: MetricsHTTPServer.Limits
    private let render: MetricsHTTPServer.Render
    private var connections: [Connection] = []
    private let clock = ContinuousClock()

    init(listener: Int32, wake: Int32, limits: MetricsHTTPServer.Limits, render: @escaping MetricsHTTPServer.Render) {
        self.listener = listener
        self.wake = wake
        self.limits = limits
        self.render = render
    }

    func run() {
        defer {
            for connection in connections { close(connection.fd) }
            connections = []
            close(listener)
        }
        while true {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0), pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
            fds += connections.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), timeoutMilliseconds())
            if ready < 0 && errno != EINTR { return }
            if fds[1].revents != 0 { return }
            // Connections first (their indices match `fds` only before accepting adds more).
            var index = connections.count - 1
            while index >= 0 {
                if fds[index + 2].revents != 0 { readable(at: index) }
                index -= 1
            }
            expire()
            if fds[0].revents & Int16(POLLIN) != 0 { acceptAll() }
        }
    }

    /// Until the earliest deadline (at most a second; the wake pipe ends the wait for `close`).
    private func timeoutMilliseconds() -> Int32 {
        guard let earliest = connections.map(\.deadline).min() else { return 1000 }
        let left = earliest - clock.now
        let ms = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1
        return Int32(min(max(ms, 0), 1000))
    }

    private func acceptAll() {
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else {
                // Out of descriptors or memory: the connection stays queued and poll would report
                // it again at once. Free our oldest, or pause, rather than spin on it.
                if errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM {
                    if connections.isEmpty { usleep(100_000) } else { close(connections.removeFirst().fd) }
                }
                return  // EAGAIN: none left
            }
            MetricsHTTPServer.makeNonBlocking(fd)
            if connections.count >= max(1, limits.connections) {
                // The oldest has had the longest to send its request; a real scraper sends at once.
                close(connections.removeFirst().fd)
            }
            connections.append(Connection(fd: fd, deadline: clock.now + limits.readTimeout))
        }
    }

    private func readable(at index: Int) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let room = limits.headerBytes + 1 - connections[index].head.count
        let count = recv(connections[index].fd, &buffer, min(buffer.count, max(room, 1)), 0)
        if count < 0 && (errno == EAGAIN || errno == EINTR) { return }
        guard count > 0 else {
            // The peer closed (or failed) before a whole request: nothing to answer.
            close(connections.remove(at: index).fd)
            return
        }
        connections[index].head += buffer[0 ..< count]
        let connection = connections[index]
        if let end = HTTPRequestHead.endOfHead(connection.head), end <= limits.headerBytes {
            connections.remove(at: index)
            respond(to: connection.fd, head: Array(connection.head[..<end]))
        } else if connection.head.count > limits.headerBytes {
            connections.remove(at: index)
            send(HTTPResponse(status: 431, text: "request header larger than \(limits.headerBytes) bytes\n"), to: connection.fd)
        }
    }

    /// Connections whose request did not arrive in time get 408 and are closed.
    private func expire() {
        let now = clock.now
        let (late, onTime) = (connections.filter { $0.deadline <= now }, connections.filter { $0.deadline > now })
        connections = onTime
        for connection in late {
            send(HTTPResponse(status: 408, text: "request not received within the read timeout\n"), to: connection.fd)
        }
    }

    private func respond(to fd: Int32, head: [UInt8]) {
        let response: HTTPResponse
        switch HTTPRequestHead.parse(head) {
        case .failure(let error):
            response = HTTPResponse(status: 400, text: error.reason + "\n")
        case .success(let request):
            response = answer(request)
        }
        send(response, to: fd)
    }

    private func answer(_ request: HTTPRequestHead) -> HTTPResponse {
        let path = request.target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard path == "/metrics" || path == "/" else { return HTTPResponse(status: 404, text: "not found; metrics are at /metrics\n") }
        guard request.method == "GET" || request.method == "HEAD" else {
            var refused = HTTPResponse(status: 405, text: "method \(request.method) not allowed; use GET\n")
            refused.extraHeaders = ["Allow: GET, HEAD"]
            return refused
        }
        var response: HTTPResponse
        if path == "/" {
            response = HTTPResponse(status: 200, text: "Thresher coordinator: Prometheus metrics are at /metrics\n")
        } else {
            do {
                response = HTTPResponse(status: 200, text: try render())
                response.contentType = "text/plain; version=0.0.4; charset=utf-8"
            } catch {
                response = HTTPResponse(status: 500, text: "cannot read the coordinator's figures: \(error)\n")
            }
        }
        response.omitBody = request.method == "HEAD"
        return response
    }

    /// Writes the whole response (waiting at most the read timeout for a slow reader), then closes.
    private func send(_ response: HTTPResponse, to fd: Int32) {
        defer { close(fd) }
        let bytes = response.bytes
        let deadline = clock.now + limits.readTimeout
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL))
            }
            if n > 0 { sent += n; continue }
            guard n < 0, errno == EAGAIN || errno == EINTR, clock.now < deadline else { return }
            var out = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&out, 1, 100)
        }
        // Half-close, and read what the peer sent beyond the head (a body we ignore): closing with
        // unread input would reset the connection and could cost the peer the response.
        shutdown(fd, Int32(SHUT_WR))
        var sink = [UInt8](repeating: 0, count: 4096)
        var rounds = 0
        while rounds < 16, recv(fd, &sink, sink.count, 0) > 0 { rounds += 1 }
    }
}
