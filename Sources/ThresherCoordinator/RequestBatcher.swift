import Synchronization
import ThresherNet
import ThresherWire

/// Gathers the requests that NNG's serving contexts deliver concurrently and hands them to the
/// coordinator in batches, so that one commit (one fsync) acknowledges all of them.
///
/// How the batches form: one drain task takes everything waiting, has the coordinator answer it
/// in one transaction (`Coordinator.handle(batch:)`), releases the replies, and takes what arrived
/// meanwhile. Under no load a request is answered alone, immediately (no timer, no added
/// latency); under load a batch holds whatever arrived during the previous commit, up to
/// `maxBatch`.
///
/// Guarantees: every submitted request gets exactly one reply; after `close()` waiting and new
/// requests are answered `Error(internalError)` ("shutting down").
final class RequestBatcher: Sendable {
    private struct Waiting {
        var request: BatchedRequest
        var continuation: CheckedContinuation<Message, Never>
    }

    private struct State {
        var queue: [Waiting] = []
        var drainer: CheckedContinuation<Void, Never>?
        var closed = false
    }

    private let state = Mutex(State())
    let maxBatch: Int

    init(maxBatch: Int) {
        self.maxBatch = max(1, maxBatch)
    }

    /// Queues one request and waits for its reply.
    func submit(_ request: BatchedRequest) async -> Message {
        await withCheckedContinuation { (continuation: CheckedContinuation<Message, Never>) in
            let (accepted, drainer) = state.withLock { s -> (Bool, CheckedContinuation<Void, Never>?) in
                guard !s.closed else { return (false, nil) }
                s.queue.append(Waiting(request: request, continuation: continuation))
                let drainer = s.drainer
                s.drainer = nil
                return (true, drainer)
            }
            if !accepted { continuation.resume(returning: Self.shuttingDown) }
            drainer?.resume()
        }
    }

    /// Answers batches with `coordinator` until `close()`.
    func drain(into coordinator: Coordinator) async {
        while let batch = await nextBatch() {
            let replies = await coordinator.handle(batch: batch.map(\.request))
            for (index, waiting) in batch.enumerated() {
                waiting.continuation.resume(returning: index < replies.count ? replies[index] : Self.shuttingDown)
            }
        }
    }

    /// Stops draining; answers everything still waiting.
    func close() {
        let (waiting, drainer) = state.withLock { s -> ([Waiting], CheckedContinuation<Void, Never>?) in
            s.closed = true
            let waiting = s.queue
            s.queue = []
            let drainer = s.drainer
            s.drainer = nil
            return (waiting, drainer)
        }
        for w in waiting { w.continuation.resume(returning: Self.shuttingDown) }
        drainer?.resume()
    }

    /// The next batch (oldest first, at most `maxBatch`), waiting for one if none is queued; nil
    /// once closed.
    private func nextBatch() async -> [Waiting]? {
        while true {
            enum Step { case batch([Waiting]), closed, wait }
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
