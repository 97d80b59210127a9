import Foundation
import ThresherNet
import ThresherWire

/// The coordinator on the network: a `ClusterServer` (handshake and authentication) whose
/// authenticated requests are queued, straight from NNG's callbacks, by a `RequestBatcher` and answered in batches by
/// `Coordinator.handle(batch:)` (group commit: one SQLite commit per batch, replies after it), plus
/// a task that reaps expired leases every `tickInterval`. Status and report requests are answered
/// beside the batches by a `ClientReadService`.
///
/// Guarantees: the Welcome's heartbeat interval and lease timeout are the coordinator's own; every
/// request gets the coordinator's reply, and only after the decisions it announces are committed;
/// `close()` stops listening and all tasks.
public final class CoordinatorServer: Sendable {
    public let coordinator: Coordinator
    public let cluster: ClusterServer
    private let serving: Task<Void, Never>
    private let draining: Task<Void, Never>
    private let ticking: Task<Void, Never>
    private let batcher: RequestBatcher
    private let gate: DurabilityGate

    public init(coordinator: Coordinator, options: CoordinatorOptions, listen urls: [String], token: ClusterToken,
                serverOptions: ClusterServerOptions = ClusterServerOptions(), tickInterval: Duration = .seconds(1),
                maxBatch: Int = 256) throws {
        var server = serverOptions
        server.heartbeatInterval = Self.duration(options.heartbeatInterval)
        server.leaseTimeout = Self.duration(options.leaseTimeout)
        let cluster = try ClusterServer(listen: urls, token: token, options: server)
        self.coordinator = coordinator
        self.cluster = cluster
        let batcher = RequestBatcher(maxBatch: maxBatch)
        self.batcher = batcher
        let gate = DurabilityGate(store: coordinator.sweepStore, logger: options.logger)
        self.gate = gate
        draining = Task { await batcher.drain(into: coordinator, through: gate) }
        let reads = ClientReadService(coordinator: coordinator, gate: gate)
        serving = Task {
            await cluster.serve { request in
                // Status and report requests only read, for a while: beside the batches, not in one.
                if ClientReadService.answers(request.message) {
                    reads.answer(request)
                } else {
                    batcher.submit(request)
                }
            }
        }
        let logger = options.logger
        ticking = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: tickInterval)
                do { try await coordinator.tick() } catch { logger.error("lease expiry failed: \(error)") }
            }
        }
    }

    /// How the server's WAL syncs went (the other half of group commit; see `DurabilityGate`).
    public var durability: DurabilityFigures { gate.figures }
    /// Why every request is refused, once a WAL sync has failed (nil while the disk is healthy).
    public var durabilityFailure: String? { gate.failure }

    /// Seconds as a Duration, clamped to 1 ms … 1 day so a bad setting cannot trap the conversion.
    static func duration(_ seconds: TimeInterval) -> Duration {
        let clamped = seconds.isFinite ? min(max(seconds, 0.001), 86_400) : 15
        return .milliseconds(Int64(clamped * 1000))
    }

    public func close() {
        ticking.cancel()
        cluster.close()
        batcher.close()
        serving.cancel()
        draining.cancel()
        gate.close()
    }
}
