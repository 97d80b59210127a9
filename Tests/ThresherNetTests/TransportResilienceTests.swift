import Foundation
import XCTest
@testable import ThresherNet

/// Many clients, restarts, timeouts, cancellation and hostile peers.
final class TransportResilienceTests: XCTestCase {
    func testSixtyFourConcurrentClients() async throws {
        let harness = try EchoHarness(listen: ["tcp://127.0.0.1:0"], contexts: 16) { request in
            // Interleave: replies finish in a different order than requests arrived.
            try? await Task.sleep(for: .microseconds(Int.random(in: 0...2000)))
            return Array("ok:".utf8) + request.bytes
        }
        let url = harness.url
        let answered = try await withThrowingTaskGroup(of: Int.self) { group in
            for clientIndex in 0..<64 {
                group.addTask {
                    let client = try RequestClient(dial: url)
                    defer { client.close() }
                    for requestIndex in 0..<5 {
                        let body = payload(client: clientIndex, request: requestIndex)
                        let reply = try await client.request(body, timeout: .seconds(20))
                        XCTAssertEqual(reply, Array("ok:".utf8) + body)
                    }
                    return 5
                }
            }
            return try await group.reduce(0, +)
        }
        XCTAssertEqual(answered, 64 * 5)
        await harness.stop()
    }

    func testOneClientManyConcurrentRequests() async throws {
        let harness = try EchoHarness(listen: [uniqueInprocURL()], contexts: 8) { request in
            try? await Task.sleep(for: .microseconds(Int.random(in: 0...1000)))
            return request.bytes.reversed()
        }
        let client = try RequestClient(dial: harness.url)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<64 {
                group.addTask {
                    for round in 0..<4 {
                        let body = payload(client: index, request: round)
                        let reply = try await client.request(body, timeout: .seconds(20))
                        XCTAssertEqual(reply, body.reversed())
                    }
                }
            }
            try await group.waitForAll()
        }
        client.close()
        await harness.stop()
    }

    func testServerRestartOnSameAddressClientsReconnect() async throws {
        let options = TransportOptions(reconnectMin: .milliseconds(20), reconnectMax: .milliseconds(100))
        let first = try EchoHarness(listen: ["tcp://127.0.0.1:0"], options: options) { _ in Array("first".utf8) }
        let url = first.url
        let clients = try (0..<4).map { _ in try RequestClient(dial: url, options: options) }
        for client in clients {
            let reply = try await client.request([1], timeout: .seconds(5))
            XCTAssertEqual(String(decoding: reply, as: UTF8.self), "first")
        }

        await first.stop()
        // While nobody listens, a request can only time out.
        do {
            _ = try await clients[0].request([2], timeout: .milliseconds(150))
            XCTFail("request succeeded with no server")
        } catch {
            XCTAssertTrue(error.isTimedOut, "\(error)")
        }

        let second = try EchoHarness(listen: [url], options: options) { _ in Array("second".utf8) }
        XCTAssertEqual(second.url, url)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask {
                    for _ in 0..<3 {
                        let reply = try await client.request([3], timeout: .seconds(10))
                        XCTAssertEqual(String(decoding: reply, as: UTF8.self), "second")
                    }
                }
            }
            try await group.waitForAll()
        }
        clients.forEach { $0.close() }
        await second.stop()
    }

    func testClientStartedBeforeServer() async throws {
        let probe = try ReplyServer(listen: ["tcp://127.0.0.1:0"], options: TransportOptions())
        let url = probe.boundURLs[0]
        probe.close()

        let options = TransportOptions(reconnectMin: .milliseconds(20), reconnectMax: .milliseconds(50))
        let client = try RequestClient(dial: url, options: options)  // nothing listens yet
        let pending = Task { try await client.request([7], timeout: .seconds(10)) }
        try await Task.sleep(for: .milliseconds(100))
        let harness = try EchoHarness(listen: [url], options: options)
        let reply = try await pending.value
        XCTAssertEqual(reply, [7])
        client.close()
        await harness.stop()
    }

    func testRequestTimeout() async throws {
        let harness = try EchoHarness(listen: [uniqueInprocURL()]) { request in
            if request.bytes == [0] { return nil }  // never answer this one
            return request.bytes
        }
        let client = try RequestClient(dial: harness.url)
        do {
            _ = try await client.request([0], timeout: .milliseconds(200))
            XCTFail("unanswered request returned")
        } catch {
            XCTAssertTrue(error.isTimedOut, "\(error)")
            XCTAssertTrue(error.operation.contains(harness.url), "\(error)")
        }
        // The client is still usable afterwards.
        let reply = try await client.request([1], timeout: .seconds(5))
        XCTAssertEqual(reply, [1])
        client.close()
        await harness.stop()
    }

    func testCancellationAbortsPendingRequest() async throws {
        let harness = try EchoHarness(listen: [uniqueInprocURL()]) { request in
            if request.bytes == [0] { return nil }
            return request.bytes
        }
        let client = try RequestClient(dial: harness.url)
        let pending = Task { try await client.request([0], timeout: .seconds(60)) }
        try await Task.sleep(for: .milliseconds(50))
        pending.cancel()
        let outcome = try await withDeadline(.seconds(5)) { await pending.result }
        switch outcome {
        case .success: XCTFail("cancelled request returned a reply")
        case .failure(let error): XCTAssertTrue((error as? NetError)?.isCancelled ?? false, "\(error)")
        }

        // Already-cancelled task: fails at once, nothing is sent.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.request([1], timeout: .seconds(60))
        }
        let earlyOutcome = await early.result
        XCTAssertTrue(((try? earlyOutcome.get()) == nil))

        // Many cancellations racing completions leave the client healthy.
        for index in 0..<200 {
            let racing = Task { try await client.request([UInt8(1 + index % 200)], timeout: .seconds(5)) }
            if index % 2 == 0 { racing.cancel() }
            _ = await racing.result
        }
        let reply = try await client.request([9], timeout: .seconds(5))
        XCTAssertEqual(reply, [9])
        client.close()
        await harness.stop()
    }

    func testCancellationWhileWaitingForAConnection() async throws {
        let client = try RequestClient(dial: "tcp://127.0.0.1:1", options: TransportOptions(reconnectMin: .milliseconds(20)))
        let pending = Task { try await client.request([1], timeout: .seconds(60)) }
        try await Task.sleep(for: .milliseconds(50))
        pending.cancel()
        let outcome = try await withDeadline(.seconds(5)) { await pending.result }
        XCTAssertTrue(((outcome.failure as? NetError)?.isCancelled) ?? false, "\(outcome)")
        client.close()
    }

    func testCloseFailsRequestsInFlight() async throws {
        let harness = try EchoHarness(listen: [uniqueInprocURL()]) { _ in nil }  // never answers
        let client = try RequestClient(dial: harness.url)
        let pending = (0..<8).map { index in
            Task { try await client.request([UInt8(index)], timeout: .seconds(60)) }
        }
        try await Task.sleep(for: .milliseconds(50))
        client.close()
        for task in pending {
            let outcome = try await withDeadline(.seconds(5)) { await task.result }
            XCTAssertTrue(((outcome.failure as? NetError)?.isClosed) ?? false, "\(outcome)")
        }
        await harness.stop()
    }

    func testServerCloseWhileHandlersRun() async throws {
        let server = try ReplyServer(listen: [uniqueInprocURL()], options: TransportOptions())
        let serving = Task {
            await server.serve(contexts: 4) { request in
                try? await Task.sleep(for: .milliseconds(100))
                return request.bytes
            }
        }
        let client = try RequestClient(dial: server.boundURLs[0])
        let pending = Task { try await client.request([1], timeout: .milliseconds(500)) }
        try await Task.sleep(for: .milliseconds(30))
        server.close()
        try await withDeadline(.seconds(5)) { await serving.value }
        _ = await pending.result  // the reply may or may not have made it; it must just end
        client.close()
    }

    func testServeReturnsWhenCancelled() async throws {
        let server = try ReplyServer(listen: [uniqueInprocURL()], options: TransportOptions())
        let serving = Task { await server.serve(contexts: 4) { $0.bytes } }
        let client = try RequestClient(dial: server.boundURLs[0])
        _ = try await client.request([1], timeout: .seconds(5))
        serving.cancel()
        try await withDeadline(.seconds(5)) { await serving.value }
        client.close()
        server.close()
    }

    func testOversizeRequestIsDroppedOthersServed() async throws {
        let options = TransportOptions(maxMessageBytes: 1024)
        let harness = try EchoHarness(listen: ["tcp://127.0.0.1:0"], options: options)
        let url = harness.url
        let honest = try RequestClient(dial: url)
        let greedy = try RequestClient(dial: url)
        let firstReply = try await honest.request([1], timeout: .seconds(5))
        XCTAssertEqual(firstReply, [1])

        async let oversize: Result<[UInt8], NetError> = {
            do throws(NetError) { return .success(try await greedy.request(Array(repeating: 7, count: 4096), timeout: .milliseconds(800))) }
            catch { return .failure(error) }
        }()
        for index in 0..<50 {
            let body = payload(client: 1, request: index, size: 1000)
            let reply = try await honest.request(body, timeout: .seconds(5))
            XCTAssertEqual(reply, body)
        }
        switch await oversize {
        case .success: XCTFail("oversize request was answered")
        case .failure(let error): XCTAssertTrue(error.isTimedOut, "\(error)")
        }
        // The same client can still send an acceptable request.
        let laterReply = try await greedy.request([2], timeout: .seconds(5))
        XCTAssertEqual(laterReply, [2])
        honest.close()
        greedy.close()
        await harness.stop()
    }

    func testGarbageOnTheTCPPortDoesNotDisturbService() async throws {
        let harness = try EchoHarness(listen: ["tcp://127.0.0.1:0"], options: TransportOptions(maxMessageBytes: 1 << 20))
        let port = try XCTUnwrap(harness.server.port)
        let client = try RequestClient(dial: harness.url)

        let junk: [[UInt8]] = [
            Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
            (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) },
            RawTCPClient.spHeader(protocolID: 0x31),                         // claims to be REP
            RawTCPClient.spHeader() + RawTCPClient.frame(length: UInt64.max, body: [1, 2, 3]),
            RawTCPClient.spHeader() + RawTCPClient.frame(length: 2, body: [0xFF, 0xFF]),  // no request id
            RawTCPClient.spHeader() + RawTCPClient.frame(length: 4, body: [0x00, 0x00, 0x00, 0x01]),  // id without high bit
            RawTCPClient.spHeader() + RawTCPClient.frame(length: 64, body: [0x80, 0, 0, 1]),  // truncated body
            RawTCPClient.spHeader() + RawTCPClient.frame(length: 8, body: [0x80, 0, 0, 2, 0xDE, 0xAD, 0xBE, 0xEF]),
            Array(RawTCPClient.spHeader().prefix(5)),
        ]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, bytes) in junk.enumerated() {
                group.addTask { try await RawTCPClient.send(bytes, toPort: port, linger: .milliseconds(20 * (index % 3))) }
            }
            group.addTask {
                for index in 0..<100 {
                    let body = payload(client: 2, request: index)
                    let reply = try await client.request(body, timeout: .seconds(5))
                    XCTAssertEqual(reply, body)
                }
            }
            try await group.waitForAll()
        }
        // And after the junk: fresh clients are still served.
        let late = try RequestClient(dial: harness.url)
        let reply = try await late.request([42], timeout: .seconds(5))
        XCTAssertEqual(reply, [42])
        late.close()
        client.close()
        await harness.stop()
    }
}

private extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
