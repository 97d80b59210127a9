import Foundation
import Synchronization
import XCTest
@testable import ThresherNet

/// Request/response over each transport, plus the URL and option plumbing around it.
final class RequestReplyTests: XCTestCase {
    func testTCPLoopbackWithBoundPort() async throws {
        let harness = try EchoHarness(listen: ["tcp://127.0.0.1:0"])
        let port = try XCTUnwrap(harness.server.port)
        XCTAssertGreaterThan(port, 0)
        XCTAssertEqual(harness.url, "tcp://127.0.0.1:\(port)")

        let client = try RequestClient(dial: harness.url, options: TransportOptions())
        for i in 0..<20 {
            let body = payload(client: 0, request: i, size: i * 100)
            let reply = try await client.request(body, timeout: .seconds(5))
            XCTAssertEqual(reply, body)
        }
        let empty = try await client.request([], timeout: .seconds(5))
        XCTAssertEqual(empty, [])
        client.close()
        await harness.stop()
    }

    func testIPCInTemporaryDirectory() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let url = "ipc://\(dir.path)/server.sock"
        let harness = try EchoHarness(listen: [url])
        XCTAssertEqual(harness.url, url)
        XCTAssertNil(harness.server.port)

        let client = try RequestClient(dial: url)
        let reply = try await client.request(Array("over ipc".utf8), timeout: .seconds(5))
        XCTAssertEqual(String(decoding: reply, as: UTF8.self), "over ipc")
        client.close()
        await harness.stop()
    }

    func testInproc() async throws {
        let url = uniqueInprocURL()
        let harness = try EchoHarness(listen: [url]) { request in
            Array("re:".utf8) + request.bytes
        }
        let client = try RequestClient(dial: url)
        let reply = try await client.request(Array("x".utf8), timeout: .seconds(5))
        XCTAssertEqual(String(decoding: reply, as: UTF8.self), "re:x")
        client.close()
        await harness.stop()
    }

    func testOneServerListensOnSeveralURLs() async throws {
        let inproc = uniqueInprocURL()
        let harness = try EchoHarness(listen: ["tcp://127.0.0.1:0", inproc])
        XCTAssertEqual(harness.server.boundURLs.count, 2)
        XCTAssertEqual(harness.server.boundURLs[1], inproc)
        for url in harness.server.boundURLs {
            let client = try RequestClient(dial: url)
            let reply = try await client.request([1, 2, 3], timeout: .seconds(5))
            XCTAssertEqual(reply, [1, 2, 3])
            client.close()
        }
        await harness.stop()
    }

    func testRequestsReportTheirPipe() async throws {
        let pipes = PipeRecorder()
        let harness = try EchoHarness(listen: ["tcp://127.0.0.1:0"]) { request in
            pipes.record(request.pipe)
            return request.bytes
        }
        let first = try RequestClient(dial: harness.url)
        let second = try RequestClient(dial: harness.url)
        _ = try await first.request([1], timeout: .seconds(5))
        _ = try await first.request([2], timeout: .seconds(5))
        _ = try await second.request([3], timeout: .seconds(5))
        let seen = pipes.all
        XCTAssertEqual(seen.count, 3)
        XCTAssertEqual(seen[0], seen[1], "one connection, one pipe")
        XCTAssertNotEqual(seen[0], seen[2], "two clients, two pipes")
        first.close()
        second.close()
        await harness.stop()
    }

    func testPipeEventsReportConnectAndDisconnect() async throws {
        let harness = try EchoHarness(listen: ["tcp://127.0.0.1:0"])
        let events = PipeEventLog()
        harness.server.onPipeEvent { pipe, event in events.append(pipe, event) }
        let client = try RequestClient(dial: harness.url)
        _ = try await client.request([1], timeout: .seconds(5))
        client.close()
        try await withDeadline(.seconds(5)) {
            while events.snapshot.count < 2 { try await Task.sleep(for: .milliseconds(10)) }
        }
        // NNG may report a short-lived connection's removal before its addition.
        let log = events.snapshot
        XCTAssertEqual(log.count, 2, "\(log)")
        XCTAssertEqual(Set(log.map(\.1)), [.added, .removed])
        XCTAssertEqual(log.first?.0, log.last?.0)
        await harness.stop()
    }

    func testListenErrorsNameTheURL() {
        XCTAssertThrowsError(try ReplyServer(listen: ["bogus://nowhere"], options: TransportOptions())) { error in
            let netError = error as? NetError
            XCTAssertNotNil(netError)
            XCTAssertTrue(netError?.operation.contains("bogus://nowhere") ?? false, "\(error)")
        }
        XCTAssertThrowsError(try ReplyServer(listen: [], options: TransportOptions()))
    }

    func testAddressInUse() throws {
        let first = try ReplyServer(listen: ["tcp://127.0.0.1:0"], options: TransportOptions())
        defer { first.close() }
        XCTAssertThrowsError(try ReplyServer(listen: [first.boundURLs[0]], options: TransportOptions())) { error in
            XCTAssertTrue((error as? NetError)?.isAddressProblem ?? false, "\(error)")
        }
    }

    func testRequestAfterCloseFailsAsClosed() async throws {
        let harness = try EchoHarness(listen: [uniqueInprocURL()])
        let client = try RequestClient(dial: harness.url)
        _ = try await client.request([1], timeout: .seconds(5))
        client.close()
        do {
            _ = try await client.request([1], timeout: .seconds(5))
            XCTFail("request after close succeeded")
        } catch {
            XCTAssertTrue(error.isClosed, "\(error)")
        }
        await harness.stop()
    }
}

final class PipeRecorder: Sendable {
    private let pipes = Mutex<[PipeID]>([])
    func record(_ pipe: PipeID) { pipes.withLock { $0.append(pipe) } }
    var all: [PipeID] { pipes.withLock { $0 } }
}

final class PipeEventLog: Sendable {
    private let events = Mutex<[(PipeID, PipeEvent)]>([])
    func append(_ pipe: PipeID, _ event: PipeEvent) { events.withLock { $0.append((pipe, event)) } }
    var snapshot: [(PipeID, PipeEvent)] { events.withLock { $0 } }
}
