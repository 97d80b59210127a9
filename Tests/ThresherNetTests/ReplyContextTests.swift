import Foundation
import Synchronization
import XCTest
@testable import ThresherNet

/// `ReplyServer.serve(contexts:onRequest:)`: requests handed out on NNG's threads, answered later
/// from anywhere through their `PendingReply`.
final class ReplyContextTests: XCTestCase {
    /// Holds the requests a server received, with the replies they are owed.
    private final class Held: Sendable {
        private let items = Mutex<[(IncomingRequest, PendingReply)]>([])
        func add(_ request: IncomingRequest, _ reply: PendingReply) { items.withLock { $0.append((request, reply)) } }
        func take() -> [(IncomingRequest, PendingReply)] { items.withLock { i in defer { i = [] }; return i } }
        var count: Int { items.withLock { $0.count } }
    }

    private func waitUntil(_ condition: () -> Bool, file: StaticString = #filePath, line: UInt = #line) async {
        for _ in 0..<2_000 where !condition() { try? await Task.sleep(for: .milliseconds(5)) }
        XCTAssertTrue(condition(), file: file, line: line)
    }

    func testRepliesSentLaterFromAnotherThreadReachTheirOwnRequests() async throws {
        let url = uniqueInprocURL()
        let server = try ReplyServer(listen: [url])
        let held = Held()
        let serving = Task { await server.serve(contexts: 8) { request, reply in held.add(request, reply) } }
        let client = try RequestClient(dial: url)
        let replies = Task {
            try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
                for i in 0..<8 {
                    group.addTask { (i, try await client.request(Array("request \(i)".utf8), timeout: .seconds(20))) }
                }
                return try await group.reduce(into: [Int: [UInt8]]()) { $0[$1.0] = $1.1 }
            }
        }
        // All eight are held at once (one per context), then answered in reverse, off NNG's threads.
        await waitUntil { held.count == 8 }
        let requests = held.take()
        DispatchQueue.global().async {
            for (request, reply) in requests.reversed() { reply.send(Array("re: ".utf8) + request.bytes) }
        }
        let answered = try await replies.value
        for i in 0..<8 {
            XCTAssertEqual(answered[i].map { String(decoding: $0, as: UTF8.self) }, "re: request \(i)")
        }
        client.close()
        server.close()
        await serving.value
    }

    func testASecondReplyToTheSameRequestIsIgnored() async throws {
        let url = uniqueInprocURL()
        let server = try ReplyServer(listen: [url])
        let held = Held()
        let serving = Task { await server.serve(contexts: 1) { request, reply in held.add(request, reply) } }
        let client = try RequestClient(dial: url)

        let first = Task { try await client.request(Array("a".utf8), timeout: .seconds(20)) }
        await waitUntil { held.count == 1 }
        let (_, reply) = held.take()[0]
        reply.send(Array("first answer".utf8))
        let firstReply = try await first.value
        XCTAssertEqual(String(decoding: firstReply, as: UTF8.self), "first answer")

        // The context has moved on: the stale handle must not answer the next request.
        let second = Task { try await client.request(Array("b".utf8), timeout: .seconds(20)) }
        await waitUntil { held.count == 1 }
        reply.send(Array("stale".utf8))
        let (request, current) = held.take()[0]
        XCTAssertEqual(request.bytes, Array("b".utf8))
        current.send(Array("second answer".utf8))
        let secondReply = try await second.value
        XCTAssertEqual(String(decoding: secondReply, as: UTF8.self), "second answer")
        client.close()
        server.close()
        await serving.value
    }

    func testCancelledServeStillSendsTheRepliesItOwesThenReturns() async throws {
        let url = uniqueInprocURL()
        let server = try ReplyServer(listen: [url])
        let held = Held()
        let serving = Task { await server.serve(contexts: 2) { request, reply in held.add(request, reply) } }
        let client = try RequestClient(dial: url)
        let pending = Task { try await client.request(Array("owed".utf8), timeout: .seconds(20)) }
        await waitUntil { held.count == 1 }
        serving.cancel()
        let (request, reply) = held.take()[0]
        reply.send(request.bytes)
        let answer = try await pending.value
        XCTAssertEqual(answer, Array("owed".utf8))
        await serving.value  // returns: the idle context was cancelled, the busy one stopped after its reply
        client.close()
        server.close()
    }
}
