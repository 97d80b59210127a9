import Foundation
import ThresherSweep
#if canImport(Glibc)
import Glibc
#endif

/// A fault-injecting TCP proxy for tests: listens on a loopback port and forwards every connection,
/// both directions, to an upstream port (the coordinator), injecting faults on command.
///
/// Guarantees:
/// - **Order and content.** Bytes are forwarded unchanged and in order in each direction; a delayed
///   chunk is never overtaken by a later one (each chunk leaves at `max(arrival + delay, previous
///   release)`).
/// - **Seeded.** Every delay comes from one `SeededGenerator(seed:)`; the sequence of drawn delays
///   depends only on the seed (which chunk gets which one depends on how the kernel cuts the
///   stream, which tests cannot control).
/// - **Faults.** `delay(milliseconds:jitter:)` (uniform in delay ± jitter, at least 0) per chunk;
///   `cutAll()` resets every open connection (both sides see the connection end);
///   `stall(_:)` holds all bytes (nothing forwarded, nothing lost) until released;
///   `refuse(_:)` closes new connections at once (a host that is down).
/// - `stop()` closes the listener and every connection; the threads end on their own within one
///   poll interval. A test must call it (the threads keep the proxy alive until then).
final class FaultProxy: @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `lock` (and `changed`, its condition).
    /// The port the proxy listens on (127.0.0.1).
    let port: UInt16
    private let upstreamPort: UInt16
    private let upstreamAddress: UInt32
    private let listener: Int32
    private let lock = NSCondition()
    private var generator: SeededGenerator
    private var delayMs = 0.0, jitterMs = 0.0
    private var stalledTowardUpstream = false, stalledTowardClient = false, refusing = false, stopped = false
    private var connections: [Int: ProxiedConnection] = [:]
    private var nextConnectionID = 0
    private var acceptedCount = 0, cutCount = 0, forwardedCount = 0
    /// Counts, for the test's printout: connections accepted, connections cut, bytes forwarded.
    var accepted: Int { lock.lock(); defer { lock.unlock() }; return acceptedCount }
    var cuts: Int { lock.lock(); defer { lock.unlock() }; return cutCount }
    var forwardedBytes: Int { lock.lock(); defer { lock.unlock() }; return forwardedCount }

    /// Listens on 127.0.0.1 (an ephemeral port) and forwards to `upstreamHost`:`upstreamPort`
    /// (an IPv4 address).
    init(upstreamHost: String = "127.0.0.1", upstreamPort: UInt16, seed: UInt64) throws {
        var parsed = in_addr()
        guard inet_pton(AF_INET, upstreamHost, &parsed) == 1 else { throw ProxyError.badAddress(upstreamHost) }
        upstreamAddress = parsed.s_addr
        self.upstreamPort = upstreamPort
        generator = SeededGenerator(seed: seed)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProxyError.system("socket", errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else { let e = errno; close(fd); throw ProxyError.system("bind/listen", e) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Delays every chunk from now on by `milliseconds` ± `jitter` (uniform, never below 0).
    func delay(milliseconds: Double, jitter: Double = 0) {
        lock.lock(); delayMs = milliseconds; jitterMs = jitter; lock.unlock()
    }

    /// Which way bytes travel through the proxy.
    enum Direction { case towardUpstream, towardClient, both }

    /// Holds every byte going `direction` (all connections) while `on`; releases them in order
    /// after. Holding only `towardClient` lets requests reach the coordinator while its replies
    /// wait: a cut then loses replies to requests the coordinator has already acted on.
    func stall(_ on: Bool, _ direction: Direction = .both) {
        lock.lock()
        if direction != .towardClient { stalledTowardUpstream = on }
        if direction != .towardUpstream { stalledTowardClient = on }
        lock.broadcast()
        lock.unlock()
    }

    /// While `on`, a new connection is accepted and closed at once, so the peer sees a reset.
    func refuse(_ on: Bool) {
        lock.lock(); refusing = on; lock.unlock()
    }

    /// Ends every open connection now (RST to both sides); bytes still queued are dropped, as a
    /// network failure would drop them. Returns how many connections were cut.
    @discardableResult
    func cutAll() -> Int {
        lock.lock()
        let open = Array(connections.values)
        cutCount += open.count
        lock.unlock()
        for connection in open { connection.cut() }
        lock.lock(); lock.broadcast(); lock.unlock()
        return open.count
    }

    /// Closes the listener and cuts every connection.
    func stop() {
        lock.lock()
        let wasStopped = stopped
        stopped = true
        lock.unlock()
        guard !wasStopped else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        cutAll()
    }

    /// How many connections are open now.
    var openConnections: Int { lock.lock(); defer { lock.unlock() }; return connections.count }

    // MARK: - Threads

    private func acceptLoop() {
        while true {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            lock.lock(); let done = stopped; lock.unlock()
            if done { close(listener); return }
            guard ready > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            lock.lock(); let refuseNow = refusing; lock.unlock()
            guard !refuseNow, let upstream = Self.connect(address: upstreamAddress, port: upstreamPort) else {
                Self.reset(client); close(client); continue
            }
            lock.lock()
            let id = nextConnectionID
            nextConnectionID += 1
            acceptedCount += 1
            let connection = ProxiedConnection(client: client, upstream: upstream)
            connections[id] = connection
            lock.unlock()
            let finished = DispatchGroup()
            for (from, to, towardUpstream) in [(client, upstream, true), (upstream, client, false)] {
                let queue = ChunkQueue(towardUpstream: towardUpstream)
                finished.enter(); finished.enter()
                Thread.detachNewThread { [self] in read(from: from, into: queue, connection: connection); finished.leave() }
                Thread.detachNewThread { [self] in write(to: to, from: queue, connection: connection); finished.leave() }
            }
            finished.notify(queue: .global()) { [self] in
                lock.lock(); connections[id] = nil; lock.unlock()
                connection.close()
            }
        }
    }

    /// Reads chunks and stamps each with its release time.
    private func read(from fd: Int32, into queue: ChunkQueue, connection: ProxiedConnection) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else {
                // 0: the sender finished (pass the FIN on after the queued bytes); < 0: the socket
                // was cut or failed (end the whole connection).
                if n < 0 { connection.cut() }
                queue.finish(lock: lock)
                return
            }
            lock.lock()
            var delay = delayMs
            if jitterMs > 0 { delay += (generator.nextDouble() * 2 - 1) * jitterMs }
            let release = max(Date().addingTimeInterval(max(delay, 0) / 1000), queue.lastRelease)
            queue.lastRelease = release
            queue.chunks.append((Data(buffer[0..<n]), release))
            lock.broadcast()
            lock.unlock()
        }
    }

    /// Writes each chunk at its release time, unless stalled; ends the write side at EOF.
    private func write(to fd: Int32, from queue: ChunkQueue, connection: ProxiedConnection) {
        while true {
            lock.lock()
            while !connection.isCut && (queue.chunks.isEmpty ? !queue.finished : isStalled(queue)) { lock.wait() }
            if connection.isCut || queue.chunks.isEmpty { lock.unlock(); break }
            let (chunk, release) = queue.chunks[0]
            lock.unlock()
            let wait = release.timeIntervalSinceNow
            if wait > 0 { Thread.sleep(forTimeInterval: min(wait, 0.05)); continue }
            lock.lock()
            guard !isStalled(queue), !connection.isCut else { lock.unlock(); continue }
            queue.chunks.removeFirst()
            lock.unlock()
            guard Self.sendAll(fd, chunk) else { connection.cut(); break }
            lock.lock(); forwardedCount += chunk.count; lock.unlock()
        }
        if !connection.isCut { shutdown(fd, Int32(SHUT_WR)) }
        lock.lock(); lock.broadcast(); lock.unlock()
    }

    /// Whether `queue`'s direction is held (call with `lock` held).
    private func isStalled(_ queue: ChunkQueue) -> Bool {
        queue.towardUpstream ? stalledTowardUpstream : stalledTowardClient
    }

    // MARK: - Sockets

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    /// A connected socket to `address` (network byte order):`port`, or nil.
    private static func connect(address networkOrder: UInt32, port: UInt16) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = loopback(port: port)
        address.sin_addr.s_addr = networkOrder
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); return nil }
        return fd
    }

    private static func sendAll(_ fd: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }

    /// Makes the next close send RST instead of FIN, as a dead path or a restarted host would.
    fileprivate static func reset(_ fd: Int32) {
        var hard = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, socklen_t(MemoryLayout<linger>.size))
    }

    enum ProxyError: Error, CustomStringConvertible {
        case system(String, Int32)
        case badAddress(String)
        var description: String {
            switch self {
            case .system(let call, let code): return "\(call): \(String(cString: strerror(code)))"
            case .badAddress(let text): return "not an IPv4 address: \(text)"
            }
        }
    }
}

/// One client connection and its upstream twin. The descriptors are closed only after all four
/// threads have finished, so a number is never reused while a thread still holds it.
private final class ProxiedConnection: @unchecked Sendable {
    // @unchecked: `cutFlag` is guarded by `lock`; the descriptors never change.
    let client: Int32, upstream: Int32
    private let lock = NSLock()
    private var cutFlag = false

    init(client: Int32, upstream: Int32) { self.client = client; self.upstream = upstream }

    var isCut: Bool { lock.lock(); defer { lock.unlock() }; return cutFlag }

    /// Resets both sockets; blocked reads and writes on them return at once.
    func cut() {
        lock.lock()
        let first = !cutFlag
        cutFlag = true
        lock.unlock()
        guard first else { return }
        for fd in [client, upstream] {
            FaultProxy.reset(fd)
            shutdown(fd, Int32(SHUT_RDWR))
        }
    }

    func close() { Glibc.close(client); Glibc.close(upstream) }
}

/// The chunks read in one direction and not yet written, each with its release time; guarded by
/// the proxy's lock.
private final class ChunkQueue: @unchecked Sendable {
    // @unchecked: only touched under FaultProxy.lock.
    let towardUpstream: Bool
    var chunks: [(Data, Date)] = []
    var lastRelease = Date.distantPast
    var finished = false

    init(towardUpstream: Bool) { self.towardUpstream = towardUpstream }

    func finish(lock: NSCondition) {
        lock.lock(); finished = true; lock.broadcast(); lock.unlock()
    }
}
