#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import ThresherCoordinator
import XCTest
import ThresherSweep

/// The metrics endpoint's HTTP server on its own, over real loopback sockets: routes and status
/// codes, and that no malformed, oversized, slow or numerous request crashes it or keeps a
/// scraper out. The body is a fixed exposition here; what the coordinator renders is tested by
/// `MetricsEndpointTests`.
final class MetricsHTTPServerTests: XCTestCase {
    static let body = "# HELP demo_total A demo counter.\n# TYPE demo_total counter\ndemo_total 3\n"

    private func server(readTimeout: Duration = .seconds(5), connections: Int = 32,
                        render: @escaping MetricsHTTPServer.Render = { MetricsHTTPServerTests.body }) throws -> (MetricsHTTPServer, UInt16) {
        var limits = MetricsHTTPServer.Limits()
        limits.readTimeout = readTimeout
        limits.connections = connections
        let server = try MetricsHTTPServer(address: MetricsListenAddress(host: "127.0.0.1", port: 0), limits: limits, render: render)
        addTeardownBlock { server.close() }
        XCTAssertEqual(server.boundAddress.host, "127.0.0.1")
        XCTAssertNotEqual(server.boundAddress.port, 0)
        return (server, server.boundAddress.port)
    }

    func testRoutesAndStatusCodes() throws {
        let (_, port) = try server()
        let metrics = try HTTPProbe.get(port: port)
        XCTAssertEqual(metrics.status, 200)
        XCTAssertEqual(metrics.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertEqual(metrics.headers["connection"], "close")
        XCTAssertEqual(metrics.body, Self.body)
        XCTAssertEqual(try HTTPProbe.get(port: port, "/metrics?name[]=demo_total").body, Self.body)

        let head = try HTTPProbe.get(port: port, method: "HEAD")
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers["content-length"], String(Self.body.utf8.count))
        XCTAssertEqual(head.body, "")

        let root = try HTTPProbe.get(port: port, "/")
        XCTAssertEqual(root.status, 200)
        XCTAssertTrue(root.body.contains("/metrics"), root.body)
        XCTAssertEqual(try HTTPProbe.get(port: port, "/metricsx").status, 404)
        XCTAssertEqual(try HTTPProbe.get(port: port, "/favicon.ico").status, 404)
        let post = try HTTPProbe.exchange(port: port, Array("POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello".utf8))
        XCTAssertEqual(post.status, 405)
        XCTAssertEqual(post.headers["allow"], "GET, HEAD")
        // HTTP/1.0 and bare-LF heads are accepted.
        XCTAssertEqual(try HTTPProbe.exchange(port: port, Array("GET /metrics HTTP/1.0\n\n".utf8)).body, Self.body)
    }

    func testGarbageIsAnswered400AndTheServerKeepsServing() throws {
        let (_, port) = try server()
        let garbage: [[UInt8]] = [
            Array("\r\n\r\n".utf8),
            Array("GET\r\n\r\n".utf8),
            Array("GET /metrics\r\n\r\n".utf8),
            Array("GET metrics HTTP/1.1\r\n\r\n".utf8),
            Array("GET /metrics HTTP/2.0\r\n\r\n".utf8),
            Array("G\u{0}T /metrics HTTP/1.1\r\n\r\n".utf8),
            Array("GET /met rics HTTP/1.1\r\n\r\n".utf8),
            [0xFF, 0xFE, 0x00, 0x0A, 0x0A],
            Array(repeating: 0x0A, count: 4),
        ]
        for bytes in garbage {
            XCTAssertEqual(try HTTPProbe.exchange(port: port, bytes).status, 400, "\(bytes)")
        }
        // Seeded random bytes followed by a blank line: always a response, never a crash.
        var generator = SeededGenerator(seed: 7)
        for _ in 0 ..< 50 {
            let bytes = (0 ..< Int.random(in: 1 ... 300, using: &generator)).map { _ in UInt8.random(in: 0 ... 255, using: &generator) }
            let reply = try HTTPProbe.exchange(port: port, bytes + [0x0D, 0x0A, 0x0D, 0x0A])
            XCTAssertTrue([400, 404, 405].contains(reply.status), "\(reply.status) for \(bytes)")
        }
        XCTAssertEqual(try HTTPProbe.get(port: port).body, Self.body)
    }

    func testAHeaderLargerThanTheLimitIsAnswered431() throws {
        let (_, port) = try server()
        let huge = "GET /metrics HTTP/1.1\r\nX-Filler: " + String(repeating: "a", count: 64 * 1024) + "\r\n\r\n"
        XCTAssertEqual(try HTTPProbe.exchange(port: port, Array(huge.utf8)).status, 431)
        // Just under the limit is fine.
        let fits = "GET /metrics HTTP/1.1\r\nX-Filler: " + String(repeating: "a", count: 8000) + "\r\n\r\n"
        XCTAssertEqual(try HTTPProbe.exchange(port: port, Array(fits.utf8)).status, 200)
    }

    func testAHalfSentRequestIsAnswered408AndDoesNotBlockOthers() throws {
        let (_, port) = try server(readTimeout: .milliseconds(300))
        let slow = try HTTPProbe.connect(port: port)
        HTTPProbe.send(slow, Array("GET /metrics HTTP/1.1\r\nHost: x\r\n".utf8))
        // While the slow one holds its connection, a whole request is answered.
        XCTAssertEqual(try HTTPProbe.get(port: port).status, 200)
        let reply = try HTTPProbe.parse(HTTPProbe.readToEnd(slow))
        XCTAssertEqual(reply.status, 408)
        // A client that connects and closes without a byte costs nothing either.
        close(try HTTPProbe.connect(port: port))
        XCTAssertEqual(try HTTPProbe.get(port: port).status, 200)
    }

    func testManyIdleConnectionsCannotKeepAScraperOut() throws {
        let (_, port) = try server(connections: 8)
        var idle: [Int32] = []
        for _ in 0 ..< 100 { idle.append(try HTTPProbe.connect(port: port)) }
        defer { for fd in idle { close(fd) } }
        XCTAssertEqual(try HTTPProbe.get(port: port).body, Self.body)
        // Many scrapes at once from several threads: each gets the whole body.
        let bodies = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            let body = (try? HTTPProbe.get(port: port).body) ?? "failed"
            bodies.withLock { $0.append(body) }
        }
        XCTAssertEqual(bodies.withLock { $0 }, Array(repeating: Self.body, count: 16))
    }

    func testARenderErrorIsAnswered500() throws {
        struct Broken: Error {}
        let (_, port) = try server(render: { throw Broken() })
        let reply = try HTTPProbe.get(port: port)
        XCTAssertEqual(reply.status, 500)
        XCTAssertTrue(reply.body.contains("Broken"), reply.body)
    }

    func testCloseReleasesThePort() throws {
        let (server, port) = try server()
        server.close()
        XCTAssertThrowsError(try HTTPProbe.connect(port: port))
        // The same port can be bound again at once.
        let again = try MetricsHTTPServer(address: MetricsListenAddress(host: "127.0.0.1", port: port)) { Self.body }
        defer { again.close() }
        XCTAssertEqual(try HTTPProbe.get(port: port).body, Self.body)
    }

    func testListenAddresses() throws {
        XCTAssertEqual(try MetricsListenAddress.parse("127.0.0.1:9464"), MetricsListenAddress(host: "127.0.0.1", port: 9464))
        XCTAssertEqual(try MetricsListenAddress.parse("[::1]:0"), MetricsListenAddress(host: "::1", port: 0))
        XCTAssertEqual(try MetricsListenAddress.parse(":9464"), MetricsListenAddress(host: "0.0.0.0", port: 9464))
        XCTAssertEqual(try MetricsListenAddress.parse("localhost:80").host, "localhost")
        XCTAssertEqual(MetricsListenAddress(host: "::1", port: 5).description, "[::1]:5")
        for bad in ["", "9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:http", "::1:9464",
                    "[::1]9464", "[::1", "[127.0.0.1]:1", "http://127.0.0.1:9464", "a b:1", "127.0.0.1:99999999999999999999"] {
            XCTAssertThrowsError(try MetricsListenAddress.parse(bad), bad)
        }
        // An address that parses but cannot be bound: a clear error, not a trap.
        XCTAssertThrowsError(try MetricsHTTPServer(address: MetricsListenAddress(host: "no-such-host.invalid", port: 0)) { "" })
        XCTAssertThrowsError(try MetricsHTTPServer(address: MetricsListenAddress(host: "192.0.2.1", port: 0)) { "" })
    }

    func testIPv6LoopbackWhenAvailable() throws {
        let server: MetricsHTTPServer
        do { server = try MetricsHTTPServer(address: MetricsListenAddress.parse("[::1]:0")) { Self.body } } catch {
            throw XCTSkip("no IPv6 loopback here: \(error)")
        }
        defer { server.close() }
        XCTAssertEqual(server.boundAddress.host, "::1")
        XCTAssertNotEqual(server.boundAddress.port, 0)
    }

    func testExpositionEscapingReadsBack() throws {
        var text = PrometheusText()
        text.family("odd_gauge", .gauge, help: "Back\\slash and\nnewline.")
        let nasty = "a\"b\\c\nd{e}=f,g"
        text.sample("odd_gauge", ["sweep": nasty, "state": "running"], 2.5)
        text.sample("odd_gauge", ["sweep": "plain", "state": "x"], .infinity)
        text.sample("odd_gauge", ["sweep": "nan", "state": "x"], .nan)
        text.family("odd_gauge", .counter, help: "ignored second declaration")
        let read = try PrometheusTextReader(text.text)
        XCTAssertEqual(read.families["odd_gauge"]?.help, "Back\\slash and\nnewline.")
        XCTAssertEqual(read.families["odd_gauge"]?.type, "gauge")
        XCTAssertEqual(read.value("odd_gauge", ["sweep": nasty, "state": "running"]), 2.5)
        XCTAssertEqual(read.value("odd_gauge", ["sweep": "plain", "state": "x"]), .infinity)
        XCTAssertEqual(read.value("odd_gauge", ["sweep": "nan", "state": "x"])?.isNaN, true)
        XCTAssertEqual(PrometheusText.format(3), "3")
        XCTAssertEqual(PrometheusText.format(0.25), "0.25")
        XCTAssertEqual(PrometheusText.format(1e20), "1e+20")
        XCTAssertEqual(PrometheusText.format(-.infinity), "-Inf")
    }

    func testTheReaderRefusesMalformedExpositions() {
        let bad = [
            "x 1",  // no newline at the end
            "x 1\n",  // no family
            "# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n",  // duplicate series
            "# TYPE x gauge\nx{a=\"\\t\"} 1\n",  // bad escape
            "# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx 2\n",  // family split
            "# TYPE x counter\nx -1\n",  // negative counter
            "# TYPE x gauge\nx one\n",  // bad value
            "# TYPE x histogram\nx_bucket{le=\"1\"} 2\nx_bucket{le=\"+Inf\"} 1\nx_sum 1\nx_count 1\n",  // not cumulative
        ]
        for text in bad { XCTAssertThrowsError(try PrometheusTextReader(text), text) }
    }
}
