import Foundation
import Logging
import Synchronization
import XCTest
@testable import ThresherCoordinator
import ThresherStore
import ThresherWire

/// Records the replies a gate sends, as a worker's connection would receive them.
private final class RecordedReplies: ReplyDestination {
    private let received = Mutex<[Message]>([])
    var messages: [Message] { received.withLock { $0 } }
    func reply(_ message: Message) { received.withLock { $0.append(message) } }
}

/// `DurabilityGate`: replies leave only after a WAL sync, and a failed sync refuses everything after.
final class DurabilityGateTests: XCTestCase {
    private func openStore() throws -> (SweepStore, String) {
        let path = try temporaryDirectory(self) + "/state.sqlite"
        return (try SweepStore(path: path), path)
    }

    private func waitFor(_ condition: () -> Bool, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(20)
        while !condition() && Date() < deadline { usleep(2_000) }
        XCTAssertTrue(condition(), "the gate never released the replies", file: file, line: line)
    }

    func testRepliesOfCommittedBatchesGoOutInOrderAfterTheSync() throws {
        let (store, _) = try openStore()
        let gate = DurabilityGate(store: store, logger: Logger(label: "test"))
        defer { gate.close() }
        let sweep = try store.batch(deferringSync: true) { try store.createSweep(name: "s", spec: "{}", seed: 1, now: Date()) }
        let first = RecordedReplies(), second = RecordedReplies()
        gate.release([first, second], replies: [.ack(Ack(ackedSeq: 1, verdicts: []))], missing: .noWork(NoWork(reason: .nothingPending, retryAfterMs: 5)))
        waitFor { first.messages.count == 1 && second.messages.count == 1 }
        XCTAssertEqual(first.messages, [.ack(Ack(ackedSeq: 1, verdicts: []))])
        XCTAssertEqual(second.messages, [.noWork(NoWork(reason: .nothingPending, retryAfterMs: 5))], "a missing reply is answered with `missing`")
        XCTAssertNil(gate.failure)
        XCTAssertEqual(try store.sweep(sweep.id).name, "s")
    }

    func testAFailedSyncRefusesItsBatchAndEveryLaterOne() throws {
        let (store, path) = try openStore()
        let gate = DurabilityGate(store: store, logger: Logger(label: "test"))
        defer { gate.close() }
        _ = try store.batch(deferringSync: true) { try store.createSweep(name: "s", spec: "{}", seed: 1, now: Date()) }
        // The log vanishes under the coordinator: the sync cannot make the batch durable.
        try FileManager.default.removeItem(atPath: path + "-wal")
        let held = RecordedReplies()
        gate.release([held], replies: [.ack(Ack(ackedSeq: 1, verdicts: []))], missing: .ack(Ack(ackedSeq: 0, verdicts: [])))
        waitFor { held.messages.count == 1 }
        guard case .error(let refusal)? = held.messages.first else { return XCTFail("\(held.messages)") }
        XCTAssertEqual(refusal.code, .internalError)
        XCTAssertTrue(refusal.detail.contains("durable"), refusal.detail)
        XCTAssertNotNil(gate.failure)

        // Everything after is refused at once, without waiting for another sync.
        let later = RecordedReplies()
        gate.release([later], replies: [.ack(Ack(ackedSeq: 2, verdicts: []))], missing: .ack(Ack(ackedSeq: 0, verdicts: [])))
        guard case .error(let second)? = later.messages.first else { return XCTFail("\(later.messages)") }
        XCTAssertEqual(second.code, .internalError)
    }

    func testCloseReleasesWhatWasHandedInAndRefusesWhatComesAfter() throws {
        let (store, _) = try openStore()
        let gate = DurabilityGate(store: store, logger: Logger(label: "test"))
        _ = try store.batch(deferringSync: true) { try store.createSweep(name: "s", spec: "{}", seed: 1, now: Date()) }
        let before = RecordedReplies(), after = RecordedReplies()
        gate.release([before], replies: [.ack(Ack(ackedSeq: 1, verdicts: []))], missing: .ack(Ack(ackedSeq: 0, verdicts: [])))
        gate.close()
        XCTAssertEqual(before.messages, [.ack(Ack(ackedSeq: 1, verdicts: []))], "close flushes what it was given")
        gate.release([after], replies: [.ack(Ack(ackedSeq: 2, verdicts: []))], missing: .ack(Ack(ackedSeq: 0, verdicts: [])))
        guard case .error(let refusal)? = after.messages.first else { return XCTFail("\(after.messages)") }
        XCTAssertTrue(refusal.detail.contains("shutting down"), refusal.detail)
    }
}
