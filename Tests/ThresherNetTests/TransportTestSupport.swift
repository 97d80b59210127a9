import Foundation
import XCTest
@testable import ThresherNet

/// A server that echoes each request back, serving until the test tears it down.
final class EchoHarness: Sendable {
    let server: ReplyServer
    private let serving: Task<Void, Never>

    init(listen urls: [String], options: TransportOptions = TransportOptions(), contexts: Int = 8,
         handler: (@Sendable (IncomingRequest) async -> [UInt8]?)? = nil) throws {
        let server = try ReplyServer(listen: urls, options: options)
        self.server = server
        let handler = handler ?? { $0.bytes }
        serving = Task { await server.serve(contexts: contexts, handler: handler) }
    }

    var url: String { server.boundURLs[0] }

    /// Closes the server and waits until every serving context has stopped.
    func stop() async {
        server.close()
        await serving.value
    }
}

/// A fresh directory under the system temp folder, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-net-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        path = url.path
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Deterministic, distinguishable payloads.
func payload(client: Int, request: Int, size: Int = 48) -> [UInt8] {
    var bytes = Array("c\(client)-r\(request)-".utf8)
    while bytes.count < size { bytes.append(UInt8(truncatingIfNeeded: bytes.count &* 31 &+ client)) }
    return bytes
}

/// A unique inproc URL per call.
func uniqueInprocURL(_ name: String = #function) -> String {
    "inproc://thresher-\(name.filter(\.isLetter))-\(UUID().uuidString.prefix(8))"
}

/// Runs `body` against the clock; fails (without hanging the suite) when it takes longer
/// than `limit`.
func withDeadline<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw DeadlineExceeded(limit: limit)
        }
        group.cancelAll()
        return value
    }
}

struct DeadlineExceeded: Error, CustomStringConvertible {
    let limit: Duration
    var description: String { "did not finish within \(limit)" }
}
