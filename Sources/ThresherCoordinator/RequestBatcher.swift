import Synchronization
import ThresherNet
import ThresherWire

/// Gathers the requests that NNG's serving contexts deliver concurrently and hands them to the
/// coordinator in batches, so that one commit (one fsync) acknowledges all of them.
///
/// How the batches form: requests are queued straight from NNG's receive callbacks (no task per
/// request); one drain task takes everything waiting, has the coordinator answer it in one
/// transaction (`Coordinator.handle(batch:)`), sends the replies, and takes what arrived
/// meanwhile. Only the drain task is ever woken, and only when it found the queue empty. Under no load a request is answered alone, immediately (no timer, no added
/// latency); under load a batch holds whatever arrived during the previous commit, up to
/// `maxBatch`.
///
/// Guarantees: every submitted request gets exactly one reply; after `close()` waiting and new
/// requests are answered `Error(internalError)` ("shutting down").
final class RequestBatcher: Sendable {
    private struct State {
        var queue: [ClusterRequest] = []
        var drainer: CheckedContinuation<Void, Never>?
        var closed = false
    }

    private let state = Mutex(State())
    let maxBatch: Int

    init(maxBatch: Int) {
        self.maxBatch = max(1, maxBatch)
    }

    /// Queues one request; it is answered by the drain task (or `shuttingDown` once closed).
    /// Called on NNG threads: takes a lock and at most wakes the drain task.
    func submit(_ request: ClusterRequest) {
        let (accepted, drainer) = state.withLock { s -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !s.closed else { return (false, nil) }
            s.queue.append(request)
            let drainer = s.drainer
            s.drainer = nil
            return (true, drainer)
        }
        if !accepted { request.reply(Self.shuttingDown) }
        drainer?.resume()
    }

    /// Answers batches with `coordinator` until `close()`: each batch is decided and committed
    /// without waiting for the disk, and its replies go out through `gate` once it is durable.
    func drain(into coordinator: Coordinator, through gate: DurabilityGate) async {
        while let batch = await nextBatch() {
            if let failure = gate.failure {
                for request in batch { request.reply(DurabilityGate.refusal(failure)) }
                continue
            }
            let replies = await coordinator.handle(batch: batch.map { BatchedRequest(session: $0.session, message: $0.message) },
                                                   deferringSync: true)
            gate.release(batch, replies: replies, missing: Self.shuttingDown)
        }
    }

    /// Stops draining; answers everything still waiting.
    func close() {
        let (waiting, drainer) = state.withLock { s -> ([ClusterRequest], CheckedContinuation<Void, Never>?) in
            s.closed = true
            let waiting = s.queue
            s.queue = []
            let drainer = s.drainer
            s.drainer = nil
            return (waiting, drainer)
        }
        for request in waiting { request.reply(Self.shuttingDown) }
        drainer?.resume()
    }

    /// The next batch (oldest first, at most `maxBatch`), waiting for one if none is queued; nil
    /// once closed.
    private func nextBatch() async -> [ClusterRequest]? {
        while true {
            enum Step { case batch([ClusterRequest]), closed, wait }
            let step = state.withLock { s -> Step in
                if s.closed { return .closed }
                guard !s.queue.isEmpty else { return .wait }
                let count = min(maxBatch, s.queue.count)
                let batch = Array(s.queue.prefix(count))
                s.queue.removeFirst(count)
                return .batch(batch)
            }
            switch step {
            case .batch(let batch): return batch
            case .closed: return nil
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { s -> Bool in
                        if s.closed || !s.queue.isEmpty { return true }
                        s.drainer = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    static let shuttingDown = Message.error(ErrorReply(code: .internalError, detail: "the coordinator is shutting down"))
}
