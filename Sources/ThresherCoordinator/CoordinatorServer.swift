import Foundation
import ThresherNet
import ThresherWire

/// The coordinator on the network: a `ClusterServer` (handshake and authentication) whose
/// authenticated requests go to `Coordinator.handle`, plus a task that reaps expired leases every
/// `tickInterval`.
///
/// Guarantees: the Welcome's heartbeat interval and lease timeout are the coordinator's own; every
/// request gets the coordinator's reply; `close()` stops listening and both tasks.
public final class CoordinatorServer: Sendable {
    public let coordinator: Coordinator
    public let cluster: ClusterServer
    private let serving: Task<Void, Never>
    private let ticking: Task<Void, Never>

    public init(coordinator: Coordinator, options: CoordinatorOptions, listen urls: [String], token: ClusterToken,
                serverOptions: ClusterServerOptions = ClusterServerOptions(), tickInterval: Duration = .seconds(1)) throws {
        var server = serverOptions
        server.heartbeatInterval = Self.duration(options.heartbeatInterval)
        server.leaseTimeout = Self.duration(options.leaseTimeout)
        let cluster = try ClusterServer(listen: urls, token: token, options: server)
        self.coordinator = coordinator
        self.cluster = cluster
        serving = Task {
            await cluster.serve { session, message in await coordinator.handle(session: session, message: message) }
        }
        let logger = options.logger
        ticking = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: tickInterval)
                do { try await coordinator.tick() } catch { logger.error("lease expiry failed: \(error)") }
            }
        }
    }

    /// Seconds as a Duration, clamped to 1 ms … 1 day so a bad setting cannot trap the conversion.
    static func duration(_ seconds: TimeInterval) -> Duration {
        let clamped = seconds.isFinite ? min(max(seconds, 0.001), 86_400) : 15
        return .milliseconds(Int64(clamped * 1000))
    }

    public func close() {
        ticking.cancel()
        cluster.close()
        serving.cancel()
    }
}
