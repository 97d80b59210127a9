import ThresherWire

/// The sessions a `ClusterServer` counts as active at one moment (see `activeSessions`):
/// authenticated, on an open connection, and heard from within the lease timeout.
public struct ActiveSessions: Sendable, Equatable {
    /// Sessions whose Hello declared at least one trial slot, and the slots they declared.
    public var workers = 0
    public var workerSlots = 0
    /// Sessions without slots (`thresher status`, `submit`, … connections).
    public var clients = 0
    public init() {}
}

/// Counters a `ClusterServer` keeps; `thresher coordinator` prints `summary` when it stops.
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

    /// One line for a log, reasons sorted by name, e.g. `requests 12, sessions 3, frames rejected 2
    /// (checksumMismatch 1, truncated 1), handshakes rejected 1 (badProof 1), unauthenticated requests 0`.
    public var summary: String {
        func reasons(_ counts: [String: Int]) -> String {
            counts.isEmpty ? "" : " (" + counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
        }
        return "requests \(requestsServed), sessions \(sessionsOpened), "
            + "frames rejected \(totalFramesRejected)\(reasons(framesRejected)), "
            + "handshakes rejected \(handshakesRejected.values.reduce(0, +))\(reasons(handshakesRejected)), "
            + "unauthenticated requests \(unauthenticatedRequests)"
    }
}
