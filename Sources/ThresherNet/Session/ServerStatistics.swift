import ThresherWire

/// Counters a `ClusterServer` keeps; exported later as Prometheus metrics.
///
/// Every rejected input is counted under a stable reason name, so an operator can tell a
/// misconfigured worker (`bad_proof`) from a peer sending garbage (`checksum_mismatch`).
public struct ServerStatistics: Sendable, Equatable {
    /// Requests answered by the application handler.
    public var requestsServed: Int = 0
    /// Frames that failed to decode, by `WireError` reason.
    public var framesRejected: [String: Int] = [:]
    /// Handshakes refused, by `RejectReason`.
    public var handshakesRejected: [String: Int] = [:]
    /// Requests refused because their connection had not completed the handshake.
    public var unauthenticatedRequests: Int = 0
    /// Successful handshakes.
    public var sessionsOpened: Int = 0

    public init() {}

    public var totalFramesRejected: Int { framesRejected.values.reduce(0, +) }
}
