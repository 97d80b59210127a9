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
        server.heartbeatInterval = .milliseconds(Int64(options.heartbeatInterval * 1000))
        server.leaseTimeout = .milliseconds(Int64(options.leaseTimeout * 1000))
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

    public func close() {
        ticking.cancel()
        cluster.close()
        serving.cancel()
    }
}
