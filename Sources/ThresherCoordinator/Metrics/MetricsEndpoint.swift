import Foundation
import Synchronization

/// `--metrics-listen`: a `MetricsHTTPServer` answering `/metrics` with a `CoordinatorMetrics`
/// rendering of one `CoordinatorServer`.
///
/// Guarantees: the address is bound (or the error thrown) before `init` returns, so the caller can
/// print `boundAddress` at once; a scrape that cannot be rendered within `renderTimeout` is
/// answered 500 instead of holding the HTTP thread; `close()` stops the HTTP server.
public final class MetricsEndpoint: Sendable {
    public let http: MetricsHTTPServer
    public var boundAddress: MetricsListenAddress { http.boundAddress }

    public init(address: MetricsListenAddress, server: CoordinatorServer, startTime: Date = Date(),
                renderTimeout: Duration = .seconds(10)) throws(MetricsAddressError) {
        let metrics = CoordinatorMetrics(server: server, startTime: startTime)
        http = try MetricsHTTPServer(address: address) {
            try Self.wait(for: renderTimeout) { try await metrics.render() }
        }
    }

    public func close() { http.close() }

    /// Runs `body` in a task and blocks this (non-pool) thread until it finishes or `timeout`
    /// passes. Only for the HTTP thread, which is not one of Swift's cooperative threads.
    static func wait(for timeout: Duration, _ body: @escaping @Sendable () async throws -> String) throws -> String {
        let result = Mutex<Result<String, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let task = Task {
            let outcome: Result<String, any Error>
            do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
            result.withLock { $0 = outcome }
            done.signal()
        }
        let milliseconds = Int(timeout.components.seconds) * 1000 + Int(timeout.components.attoseconds / 1_000_000_000_000_000)
        guard done.wait(timeout: .now() + .milliseconds(milliseconds)) == .success else {
            task.cancel()
            throw MetricsRenderTimeout(timeout: timeout)
        }
        guard let outcome = result.withLock({ $0 }) else { throw MetricsRenderTimeout(timeout: timeout) }
        return try outcome.get()
    }
}

/// A scrape not rendered in time: the coordinator actor stayed busy (e.g. a disk stall).
struct MetricsRenderTimeout: Error, CustomStringConvertible {
    var timeout: Duration
    var description: String { "the coordinator did not answer within \(timeout)" }
}
