import Foundation
import XCTest
import ThresherCoordinator
import ThresherNet
@testable import ThresherStore
import ThresherWire

/// Group commit must not let a file go before the row that releases it is durable: an eviction
/// whose batch fails to commit keeps its blob (the row still says stored), and the same eviction
/// committed later deletes it.
final class EvictionCommitTests: XCTestCase {
    func testABlobIsDeletedOnlyAfterItsEvictionCommits() async throws {
        let dir = try temporaryDirectory(self)
        let cluster = try TestCoordinator(stateDirectory: dir, clock: TestClock(), socket: dir + "/c.sock")
        _ = try await cluster.coordinator.submit(sweepFileText: CheckpointUploadTests.sweep, fileName: "ckpt.yaml", baseDirectory: dir)
        let store = cluster.coordinator.sweepStore
        let worker = try cluster.worker("w1")
        defer { worker.close() }
        let assign = try await worker.assignment()
        let bytesName = ReservedMetric.checkpointBytes

        // Step 1 is stored (the sweep's best so far).
        let first = try worker.ack(try await worker.report(assign, seq: 0, [metric(bytesName, 1, 300), metric("val_loss", 1, 0.5)]))
        XCTAssertEqual(first.verdict(for: assign.trialID), .upload(step: 1))
        let file1 = CheckpointUploadTests.file(300, seed: 1)
        let stored = try await worker.send(CheckpointUploadTests.chunk(assign, step: 1, file1, offset: 0, count: 300))
        XCTAssertEqual(stored, .chunkAck(ChunkAck(trialID: assign.trialID, step: 1, nextOffset: 300, status: .complete)))
        let hex1 = SHA256.hex(of: file1)
        XCTAssertTrue(try cluster.coordinator.blobStore.contains(hex1))

        // Every commit that evicts a checkpoint now fails at COMMIT (a deferred foreign key).
        try await store.pool.writeWithoutTransaction { db in
            try db.execute(sql: """
                CREATE TABLE commit_breaker (ref INTEGER REFERENCES trials(id) DEFERRABLE INITIALLY DEFERRED);
                CREATE TRIGGER break_commit AFTER INSERT ON events WHEN NEW.kind = 'checkpoint.evicted'
                BEGIN INSERT INTO commit_breaker (ref) VALUES (-1); END;
                """)
        }
        // Step 2 is better: it displaces step 1 (keep_top_k 1) — in a batch that cannot commit.
        let refused = try await worker.report(assign, seq: 1, [metric(bytesName, 2, 300), metric("val_loss", 2, 0.2)])
        guard case .error(let error) = refused else { return XCTFail("a reply claimed success after a failed commit: \(refused)") }
        XCTAssertEqual(error.code, .internalError)
        XCTAssertEqual(try store.checkpoints(trial: Int64(assign.trialID)).first { $0.step == 1 }?.state, .stored)
        XCTAssertTrue(try cluster.coordinator.blobStore.contains(hex1), "the blob of a checkpoint still stored was deleted")

        // The commit works again and the worker resends: the eviction is durable, then the file goes.
        try await store.pool.writeWithoutTransaction { db in try db.execute(sql: "DROP TRIGGER break_commit; DROP TABLE commit_breaker") }
        let better = try worker.ack(try await worker.report(assign, seq: 1, [metric(bytesName, 2, 300), metric("val_loss", 2, 0.2)]))
        XCTAssertEqual(better.verdict(for: assign.trialID), .upload(step: 2))
        XCTAssertEqual(try store.checkpoints(trial: Int64(assign.trialID)).first { $0.step == 1 }?.state, .evicted)
        XCTAssertFalse(try cluster.coordinator.blobStore.contains(hex1))
    }
}
