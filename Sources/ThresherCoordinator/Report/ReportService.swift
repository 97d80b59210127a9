import Dispatch
import Foundation
import Synchronization
import ThresherNet
import ThresherReport
import ThresherStore
import ThresherWire

/// Answers `ReportRequest`s beside the coordinator's request batches instead of inside them.
///
/// A report reads every trial's curve and renders a page (~0.1 s at 81 trials, growing with the
/// trials): done in a batch, that held the actor and the batch's write transaction, so every
/// worker's request waited behind it. Here only the admission (the request is counted, the
/// session's role checked, the sweep looked up) runs on the actor; the page is read through the
/// store's concurrent readers (one committed snapshot per read, never the batch's connection) and
/// rendered on a serial utility queue, and the reply goes out as soon as it is ready (a report
/// announces no decision, so it does not wait for a WAL sync).
///
/// Guarantees: every request handed to `answer` gets exactly one reply; at most `maxWaiting`
/// reports are admitted or rendering at once, more are refused `overloaded`; refusals are counted
/// like the coordinator's own.
final class ReportService: Sendable {
    static let maxWaiting = 4

    private let coordinator: Coordinator
    private let queue = DispatchQueue(label: "thresher.coordinator.reports", qos: .utility)
    private let waiting = Mutex(0)

    init(coordinator: Coordinator) {
        self.coordinator = coordinator
    }

    func answer(_ request: ClusterRequest, _ report: ReportRequest) {
        let admitted = waiting.withLock { count in
            guard count < Self.maxWaiting else { return false }
            count += 1
            return true
        }
        let coordinator = self.coordinator
        Task {
            guard admitted else {
                request.reply(await coordinator.refuse(.overloaded,
                                                       "\(Self.maxWaiting) reports are being rendered; ask again in a moment"))
                return
            }
            switch await coordinator.admitReport(session: request.session, report) {
            case .refused(let reply):
                self.finish(request, reply)
            case .admitted(let sweep, let now):
                let store = coordinator.sweepStore
                queue.async {
                    let page = Result { try ReportPage.reply(store: store, sweep: sweep, now: now) }
                    Task {
                        switch page {
                        case .success(let reply): self.finish(request, reply)
                        case .failure(let error as RequestError): self.finish(request, await coordinator.refuse(error.code, error.detail))
                        case .failure(let error): self.finish(request, await coordinator.refuse(.internalError, "the report failed: \(error)"))
                        }
                    }
                }
            }
        }
    }

    private func finish(_ request: ClusterRequest, _ reply: Message) {
        waiting.withLock { $0 -= 1 }
        request.reply(reply)
    }
}

extension ReportPage {
    /// The `ReportReply` carrying `sweep`'s page read from `store`, or a `RequestError` when the
    /// page is too big for one reply (the one place both the actor's and the service's path use).
    static func reply(store: SweepStore, sweep: Sweep, now: Date) throws -> Message {
        let html = ReportPage(report: try SweepReportReader.read(store: store, sweep: sweep.id, now: now)).html()
        // A reply must fit a frame with room for its header; a bigger page is written where the store is.
        let limit = WireLimits.defaultMaxDecompressedBytes - (1 << 20)
        guard html.utf8.count <= limit else {
            throw RequestError(code: .invalidRequest, detail: "the report of sweep \(sweep.id) is \(html.utf8.count) bytes, more than one reply carries "
                + "(\(limit)); write it on the coordinator's host: thresher report \(sweep.id) --state STATE --out FILE")
        }
        return .reportReply(ReportReply(html: html))
    }
}
