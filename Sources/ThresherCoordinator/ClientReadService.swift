import Dispatch
import Foundation
import Synchronization
import ThresherNet
import ThresherReport
import ThresherStore
import ThresherWire

/// Answers the client requests that only read — `StatusRequest` and `ReportRequest` — beside the
/// coordinator's request batches instead of inside them.
///
/// Why: a status reads every trial (~16 ms at 81 trials through a kept board, and `status --watch`
/// asks every 2 s per watcher); a report reads every curve and renders a page (~0.1 s at 81
/// trials). Inside a batch both held the actor and the batch's write transaction, so every worker's
/// request waited behind them. Here only the admission runs on the actor (the request is counted
/// and the session's role checked, `Coordinator.admitRead`); the rest — the sweep lookup, the reads
/// through the store's concurrent readers (each a committed snapshot, never the batch's
/// connection), the rendering — runs on one serial utility queue, which also owns the status
/// boards. The reply goes out when it is ready: a read announces no decision, so it does not wait
/// for a WAL sync, and what it shows was committed before it was read.
///
/// Guarantees: every request handed to `answer` gets exactly one reply; at most `maxWaiting`
/// requests are admitted or being answered at once, more are refused `overloaded`; refusals are
/// counted like the coordinator's own; once a WAL sync has failed every request is refused, as
/// the batches' are (the rows it would read may never reach the disk).
final class ClientReadService: Sendable {
    static let maxWaiting = 16

    private let coordinator: Coordinator
    private let gate: DurabilityGate
    private let queue = DispatchQueue(label: "thresher.coordinator.client-reads", qos: .utility)
    private let waiting = Mutex(0)
    /// Kept between status requests so each reads only what was stored since; touched on `queue` only.
    private let boards = QueueConfined(LiveBoards())

    init(coordinator: Coordinator, gate: DurabilityGate) {
        self.coordinator = coordinator
        self.gate = gate
    }

    /// Whether `message` is one this service answers.
    static func answers(_ message: Message) -> Bool {
        switch message {
        case .statusRequest, .reportRequest: true
        default: false
        }
    }

    func answer(_ request: ClusterRequest) {
        // After a failed WAL sync committed rows may never reach the disk: show none of them.
        if let failure = gate.failure { return request.reply(DurabilityGate.refusal(failure)) }
        let admitted = waiting.withLock { count in
            guard count < Self.maxWaiting else { return false }
            count += 1
            return true
        }
        let coordinator = self.coordinator
        Task {
            guard admitted else {
                request.reply(await coordinator.refuse(.overloaded, "\(Self.maxWaiting) status or report requests are being answered; ask again in a moment"))
                return
            }
            switch await coordinator.admitRead(session: request.session, request.message) {
            case .refused(let reply):
                self.finish(request, reply)
            case .admitted(let now):
                let store = coordinator.sweepStore
                queue.async {
                    let reply = Result { try self.read(request.message, store: store, now: now) }
                    Task {
                        switch reply {
                        case .success(let reply): self.finish(request, reply)
                        case .failure(let error as RequestError): self.finish(request, await coordinator.refuse(error.code, error.detail))
                        case .failure(let error): self.finish(request, await coordinator.refuse(.internalError, "\(error)"))
                        }
                    }
                }
            }
        }
    }

    /// The reply to an admitted read; runs on `queue`.
    private func read(_ message: Message, store: SweepStore, now: Date) throws -> Message {
        switch message {
        case .statusRequest(let request):
            return try boards.with { try StatusDocument.reply(request, store: store, boards: &$0) }
        case .reportRequest(let request):
            return try ReportPage.reply(store: store, sweep: try Coordinator.sweep(named: request.sweep, in: store), now: now)
        default:
            throw RequestError(code: .unexpectedMessage, detail: "\(message.type) is not a read this service answers")
        }
    }

    private func finish(_ request: ClusterRequest, _ reply: Message) {
        waiting.withLock { $0 -= 1 }
        request.reply(reply)
    }
}

/// A value touched only from one serial queue; the box exists to carry it into `Sendable` code.
// @unchecked: every access runs on the owner's serial queue (ClientReadService.queue).
private final class QueueConfined<Value>: @unchecked Sendable {
    private var value: Value
    init(_ value: Value) { self.value = value }
    func with<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result { try body(&value) }
}

extension StatusDocument {
    /// The `StatusReply` to `request`, read through `boards` (the one place both the actor's and
    /// the service's path use).
    static func reply(_ request: StatusRequest, store: SweepStore, boards: inout LiveBoards) throws -> Message {
        let document: [String: Any]
        if let reference = request.sweep {
            let sweep = try Coordinator.sweep(named: reference, in: store)
            document = try StatusDocument.sweep(store: store, sweep, board: boards.board(for: sweep.id))
        } else {
            document = try StatusDocument.allSweeps(store: store, boards: &boards)
        }
        return .statusReply(StatusReply(json: try StatusDocument.text(document)))
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
