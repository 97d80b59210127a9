import Foundation
import Logging
import Synchronization
import ThresherNet
import ThresherStore
import ThresherWire

/// Holds each batch's replies until the write-ahead-log sync that makes the batch durable, on a
/// thread of its own, so the coordinator decides the next batch while the disk syncs this one.
///
/// Why a thread: `fdatasync` blocks for about a millisecond, and Swift's cooperative pool has one
/// thread per core (two here); parking one of them on the disk would halve the coordinator.
///
/// Guarantees:
/// - A reply is sent only after a `syncWriteAheadLog()` that began after its batch committed, so
///   every decision a reply announces is on disk first (each sync covers every earlier commit).
/// - Batches are released in the order they were handed in; one sync releases all that waited.
/// - If a sync fails, the batches it covered are answered `Error(internalError)` instead, and so
///   is every later request (`failure` is set): after a failed fsync the kernel may have dropped
///   the dirty pages, so nothing written since can be trusted. The operator restarts the
///   coordinator, which rebuilds from what is on disk — never more than was acknowledged.
/// - `close()` releases (syncs and sends) what was handed in before it, then ends the thread.
final class DurabilityGate: Sendable {
    private struct Held {
        var requests: [any ReplyDestination]
        var replies: [Message]
    }

    private struct State {
        var held: [Held] = []
        var failure: String?
        var closed = false
        var figures = DurabilityFigures()
    }

    private let store: SweepStore
    private let logger: Logger
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(store: SweepStore, logger: Logger) {
        self.store = store
        self.logger = logger
        let thread = Thread { [self] in self.run() }
        thread.name = "thresher.wal-sync"
        thread.start()
    }

    /// Why requests are being refused, once a sync has failed.
    var failure: String? { state.withLock { $0.failure } }

    /// How the syncs went so far.
    var figures: DurabilityFigures { state.withLock { $0.figures } }

    /// Hands in a committed batch and its replies (index-aligned; missing replies are answered
    /// with `missing`).
    func release(_ requests: [any ReplyDestination], replies: [Message], missing: Message) {
        var replies = replies
        if replies.count < requests.count {
            replies += Array(repeating: missing, count: requests.count - replies.count)
        }
        let refused = state.withLock { s -> String? in
            if let failure = s.failure { return failure }
            // After close nothing is synced any more: answer rather than leave a context waiting.
            if s.closed { return "the coordinator is shutting down" }
            s.held.append(Held(requests: requests, replies: replies))
            return nil
        }
        if let refused {
            for request in requests { request.reply(Self.refusal(refused)) }
            return
        }
        wake.signal()
    }

    /// Releases what was handed in so far, then stops the thread; waits for it.
    func close() {
        let first = state.withLock { s -> Bool in
            defer { s.closed = true }
            return !s.closed
        }
        guard first else { return }
        wake.signal()
        finished.wait()
    }

    private func run() {
        while true {
            wake.wait()
            let (held, closed) = state.withLock { s -> ([Held], Bool) in
                defer { s.held = [] }
                return (s.held, s.closed)
            }
            if !held.isEmpty { flush(held) }
            if closed {
                finished.signal()
                return
            }
        }
    }

    private func flush(_ held: [Held]) {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            try store.syncWriteAheadLog()
            let elapsed = clock.now - start
            state.withLock { s in
                s.figures.batchesReleased += held.count
                s.figures.record(sync: Coordinator.seconds(elapsed))
            }
        } catch {
            let failure = "the coordinator's disk failed to make its decisions durable (\(error)); restart it"
            let first = state.withLock { s -> Bool in
                defer { if s.failure == nil { s.failure = failure } }
                return s.failure == nil
            }
            if first {
                logger.critical("\(failure). Every request is refused from now on; the state on disk holds at most what was acknowledged.")
            }
            for batch in held { for request in batch.requests { request.reply(Self.refusal(failure)) } }
            return
        }
        for batch in held {
            for (request, reply) in zip(batch.requests, batch.replies) { request.reply(reply) }
        }
    }

    static func refusal(_ failure: String) -> Message {
        .error(ErrorReply(code: .internalError, detail: failure))
    }
}

/// How a `DurabilityGate`'s WAL syncs went: for the coordinator's shutdown line and
/// `thresher bench cluster`.
public struct DurabilityFigures: Sendable, Equatable {
    public var syncs = 0
    public var batchesReleased = 0
    /// Wall time inside `fdatasync`, summed over syncs.
    public var syncSeconds = 0.0
    /// Syncs by duration: `syncBuckets[i]` counts those of at most `syncBucketBounds[i]` seconds
    /// (not cumulative; the metrics endpoint sums them into Prometheus' cumulative buckets).
    /// Longer syncs are in `syncs` only.
    public var syncBuckets = [Int](repeating: 0, count: DurabilityFigures.syncBucketBounds.count)
    public static let syncBucketBounds: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]

    public init(syncs: Int = 0, batchesReleased: Int = 0, syncSeconds: Double = 0) {
        self.syncs = syncs
        self.batchesReleased = batchesReleased
        self.syncSeconds = syncSeconds
    }

    /// Counts one sync of `seconds`.
    mutating func record(sync seconds: Double) {
        syncs += 1
        syncSeconds += seconds
        if let bucket = Self.syncBucketBounds.firstIndex(where: { seconds <= $0 }) { syncBuckets[bucket] += 1 }
    }

    /// One line for the log, e.g. "WAL syncs 812, mean sync 0.410 ms, batches per sync 1.37".
    public var summary: String {
        guard syncs > 0 else { return "no WAL syncs" }
        return "WAL syncs \(syncs), mean sync \(String(format: "%.3f", 1000 * syncSeconds / Double(syncs))) ms, "
            + "batches per sync \(String(format: "%.2f", Double(batchesReleased) / Double(syncs)))"
    }
}

/// Where one request's reply goes: a `ClusterRequest` on the wire (a test can record instead).
protocol ReplyDestination: Sendable {
    func reply(_ message: Message)
}

extension ClusterRequest: ReplyDestination {}
