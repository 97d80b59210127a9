import Foundation
import GRDB

/// Decoding a trial row by column position, for the coordinator's hot path: `Codable` decoding
/// looks every column up by name (a case-insensitive comparison against each column), which cost
/// more than the query itself. Same values as the `Codable` path; a malformed row throws.
extension Trial {
    /// The columns `init(orderedRow:)` reads, in its order.
    static let orderedColumns = """
        id, sweepId, indexInSweep, params, state, leaseId, leaseEpoch, workerId, leaseExpiry, attempts, maxAttempts,
        lastError, resumeCheckpointId, stopExplanation, createdAt, startedAt, endedAt
        """

    init(orderedRow row: Row) throws {
        let stateText = try row.decode(String.self, atIndex: 4)
        guard let state = TrialState(rawValue: stateText) else {
            throw StoreError.invalidArgument("trial row has an unknown state '\(stateText)'")
        }
        func date(_ index: Int) throws -> Date? {
            try row.decode(Double?.self, atIndex: index).map { Date(timeIntervalSince1970: $0) }
        }
        guard let createdAt = try date(14) else { throw StoreError.invalidArgument("trial row has no createdAt") }
        self.init(id: try row.decode(Int64.self, atIndex: 0), sweepId: try row.decode(Int64.self, atIndex: 1),
                  indexInSweep: try row.decode(Int.self, atIndex: 2), params: try row.decode(String.self, atIndex: 3),
                  state: state, leaseId: try row.decode(String?.self, atIndex: 5), leaseEpoch: try row.decode(Int64.self, atIndex: 6),
                  workerId: try row.decode(String?.self, atIndex: 7), leaseExpiry: try date(8),
                  attempts: try row.decode(Int.self, atIndex: 9), maxAttempts: try row.decode(Int.self, atIndex: 10),
                  lastError: try row.decode(String?.self, atIndex: 11), resumeCheckpointId: try row.decode(Int64?.self, atIndex: 12),
                  stopExplanation: try row.decode(String?.self, atIndex: 13), createdAt: createdAt,
                  startedAt: try date(15), endedAt: try date(16))
    }
}
