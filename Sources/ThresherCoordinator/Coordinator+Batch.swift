import Foundation
import ThresherNet
import ThresherStore
import ThresherWire

/// One request of an authenticated worker, waiting to be answered in a batch.
public struct BatchedRequest: Sendable {
    public var session: WorkerSession
    public var message: Message
    public init(session: WorkerSession, message: Message) {
        self.session = session
        self.message = message
    }
}

/// Group commit: the requests that arrived together are answered with one SQLite commit.
///
/// Guarantees (on top of `handle(session:message:)`'s):
/// - **Durable before acknowledged, still.** No reply of a batch is returned before the batch's
///   single transaction is committed (synchronous FULL); replies are computed inside it and
///   released only after the commit.
/// - **Neighbours are independent.** Requests are handled one after another, exactly as
///   `handle(session:message:)` would handle them one by one, and each sees its predecessors'
///   writes. Each store operation is its own savepoint, so a request that fails keeps the same
///   partial effects it would have had unbatched and leaves its neighbours' writes untouched; it
///   gets its own Error reply.
/// - **A failed commit claims nothing.** If the commit itself fails, every request of the batch is
///   answered `Error(internalError)`, and the in-memory sweep state (searchers, policies, pending
///   verdicts) is rebuilt from the store, which holds none of the batch's decisions.
/// - **No lease runs out while nothing can be stored.** From a failed commit until one succeeds,
///   decisions are taken at the time of the first failure (`now()` stands still), so renewals that
///   could not be stored cost no worker its lease; the first successful commit extends every held
///   lease to a full timeout.
/// - **Files follow the commit.** Blobs of checkpoints evicted in the batch are deleted only after
///   the commit (a failed commit keeps them), so a stored row never points at a deleted file.
extension Coordinator {
    ///
    /// With `deferringSync` the batch is committed without waiting for the disk
    /// (`SweepStore.batch(deferringSync:)`): the caller must not send the replies before a
    /// `SweepStore.syncWriteAheadLog()` that begins after this returns (`DurabilityGate`). A
    /// batch that evicted checkpoints syncs here before deleting their files, so a file is never
    /// gone while a durable row still points at it.
    public func handle(batch requests: [BatchedRequest], deferringSync: Bool = false) -> [Message] {
        guard !requests.isEmpty else { return [] }
        var replies: [Message] = []
        replies.reserveCapacity(requests.count)
        // Timing for statistics only; no decision reads this clock.
        let clock = ContinuousClock()
        let start = clock.now
        var decided = start
        // Counters of stored things must match the store: a failed commit takes back the batch's.
        let (pointsBefore, dispatchedBefore, windowBefore) = (counters.metricPointsIngested, counters.trialsDispatched, dispatchWindow)
        do {
            try store.batch(deferringSync: deferringSync) {
                for request in requests {
                    replies.append(handle(session: request.session, message: request.message))
                }
                decided = clock.now
            }
            // Committed (and, for deferred batches, synced here first): only now may the evicted
            // checkpoints' files go. A failed sync keeps them for the next batch that evicts.
            if deferringSync && !(blobDeletionsAfterCommit.isEmpty && uploadAbortsAfterCommit.isEmpty) {
                do {
                    try store.syncWriteAheadLog()
                    deleteEvictedFiles()
                } catch {
                    options.logger.error("evicted checkpoint files kept: \(error)")
                }
            } else {
                deleteEvictedFiles()
            }
            if clockFrozenAt != nil { thawClock() }
            counters.batchesCommitted += 1
            counters.requestsBatched += requests.count
            counters.batchProcessingSeconds += Self.seconds(decided - start)
            counters.batchCommitSeconds += Self.seconds(clock.now - decided)
            return replies
        } catch {
            options.logger.error("the commit of \(requests.count) request(s) failed, answering each with internalError: \(error)")
            // The evictions were rolled back with the rest: their files stay.
            blobDeletionsAfterCommit.removeAll()
            uploadAbortsAfterCommit.removeAll()
            rebuildAfterFailedCommit()
            (counters.metricPointsIngested, counters.trialsDispatched, dispatchWindow) = (pointsBefore, dispatchedBefore, windowBefore)
            if clockFrozenAt == nil {
                clockFrozenAt = options.clock()
                options.logger.warning("commits fail: leases stand still until a commit succeeds again")
            }
            return requests.map { _ in
                reject(.internalError, "the coordinator could not store its decision (\(error)); retry")
            }
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// The first commit after failed ones succeeded: time runs again, and every held lease gets a
    /// full timeout from now, since no worker's renewal could be stored while commits failed (the
    /// batch just committed took its decisions at the frozen time). If even that extension cannot
    /// be written, the clock stays frozen.
    func thawClock() {
        do {
            let extended = try store.extendLeases(until: options.clock().addingTimeInterval(options.leaseTimeout))
            clockFrozenAt = nil
            options.logger.info("commits succeed again; \(extended) lease(s) extended by the lease timeout")
        } catch {
            options.logger.error("commits succeed again, but extending the leases failed: \(error)")
        }
    }

    /// Replaces every sweep's in-memory state with what the store holds.
    func rebuildAfterFailedCommit() {
        pendingVerdicts = [:]
        do {
            var rebuilt: [Int64: SweepRuntime] = [:]
            for sweep in try store.sweeps() where sweep.state == .active || sweep.state == .paused {
                rebuilt[sweep.id] = try Self.rebuild(sweep: sweep, store: store, now: now())
            }
            sweeps = rebuilt
        } catch {
            // The store is unreadable too: keep serving what is in memory; every later request
            // will meet the same store error and be refused with internalError.
            options.logger.error("rebuilding sweep state after a failed commit failed: \(error)")
        }
    }
}
