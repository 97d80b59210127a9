#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A minimal HTTP/1.1 server for Prometheus scrapes, on plain POSIX sockets and one thread.
///
/// Routes: `GET /metrics` (and `HEAD`) answers `render()` as `text/plain; version=0.0.4;
/// charset=utf-8`; `GET /` answers a one-line pointer to `/metrics`; any other path is 404, any
/// other method on those two paths 405. Every response carries `Connection: close`.
///
/// Guarantees:
/// - **Bounded.** A request head larger than `Limits.headerBytes` is answered 431; one not complete
///   within `Limits.readTimeout` of its connection is answered 408; at most `Limits.connections`
///   connections are held, and a new one beyond that displaces the oldest, so neither a slow client
///   nor a flood of idle ones can keep a scraper out for longer than the timeout.
/// - **Total.** Any byte sequence gets a response or a closed connection, never a crash; a peer that
///   vanishes mid-response costs nothing (no SIGPIPE: `MSG_NOSIGNAL`).
/// - `render` runs on the server's thread, one request at a time; a thrown error is answered 500.
/// - `close()` stops the thread and closes every socket; it waits for the thread to end.
public final class MetricsHTTPServer: Sendable {
    /// What one client may take: the request head's size, the time to send it (and to read the
    /// response), and the connections held at once.
    public struct Limits: Sendable {
        public var headerBytes = 8192
        public var readTimeout: Duration = .seconds(5)
        public var connections = 32
        public init() {}
    }

    /// The response body of `/metrics`.
    public typealias Render = @Sendable () throws -> String

    /// The address actually bound (the kernel's port when 0 was asked for), e.g. `127.0.0.1:40123`.
    public let boundAddress: MetricsListenAddress
    private let listener: Int32
    private let wake: (read: Int32, write: Int32)
    private let closed = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)

    public init(address: MetricsListenAddress, limits: Limits = Limits(), render: @escaping Render) throws(MetricsAddressError) {
        let (listener, bound) = try Self.bind(address)
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else {
            Glibc.close(listener)
            throw MetricsAddressError(address.description, "cannot create the wake-up pipe (\(String(cString: strerror(errno))))")
        }
        for fd in pipeFDs { Self.makeNonBlocking(fd) }
        self.listener = listener
        self.boundAddress = bound
        self.wake = (pipeFDs[0], pipeFDs[1])
        let loop = ConnectionLoop(listener: listener, wake: pipeFDs[0], limits: limits, render: render)
        let finished = self.finished
        let thread = Thread {
            loop.run()
            finished.signal()
        }
        thread.name = "thresher.metrics-http"
        thread.start()
    }

    /// Stops serving: the thread closes every connection and the listening socket, then ends.
    public func close() {
        let first = closed.withLock { c -> Bool in
            defer { c = true }
            return !c
        }
        guard first else { return }
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
        finished.wait()
        Glibc.close(wake.write)
        Glibc.close(wake.read)
    }

    deinit { close() }

    /// Non-blocking and close-on-exec (a trial program the coordinator's host forks must not
    /// inherit the socket).
    static func makeNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
    }

    /// A listening, non-blocking TCP socket on `address` and the address it got.
    static func bind(_ address: MetricsListenAddress) throws(MetricsAddressError) -> (Int32, MetricsListenAddress) {
        func failure(_ what: String) -> MetricsAddressError {
            MetricsAddressError(address.description, "\(what) (\(String(cString: strerror(errno))))")
        }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var found: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(address.host, String(address.port), &hints, &found)
        guard status == 0, let first = found else {
            throw MetricsAddressError(address.description, "cannot resolve the host (\(String(cString: gai_strerror(status))))")
        }
        defer { freeaddrinfo(first) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw failure("cannot create a socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard Glibc.bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let error = failure("cannot bind")
            Glibc.close(fd)
            throw error
        }
        guard listen(fd, 64) == 0 else {
            let error = failure("cannot listen")
            Glibc.close(fd)
            throw error
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0, let bound = Self.address(of: storage) else {
            let error = failure("cannot read the bound address")
            Glibc.close(fd)
            throw error
        }
        return (fd, bound)
    }

    /// The numeric host and port of an IPv4 or IPv6 socket address.
    static func address(of storage: sockaddr_storage) -> MetricsListenAddress? {
        var storage = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin -> MetricsListenAddress? in
                    var addr = sin.pointee.sin_addr
                    guard inet_ntop(AF_INET, &addr, &text, socklen_t(text.count)) != nil else { return nil }
                    return MetricsListenAddress(host: String(cString: text), port: UInt16(bigEndian: sin.pointee.sin_port))
                }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 -> MetricsListenAddress? in
                    var addr = sin6.pointee.sin6_addr
                    guard inet_ntop(AF_INET6, &addr, &text, socklen_t(text.count)) != nil else { return nil }
                    return MetricsListenAddress(host: String(cString: text), port: UInt16(bigEndian: sin6.pointee.sin6_port))
                }
            }
        default:
            return nil
        }
    }
}
