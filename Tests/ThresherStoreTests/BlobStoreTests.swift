import Foundation
import XCTest
@testable import ThresherStore
import ThresherWire

final class BlobStoreTests: XCTestCase {
    private func makeStore() throws -> (BlobStore, String) {
        let dir = try makeTemporaryDirectory(self)
        return (try BlobStore(stateDirectory: dir + "/state"), dir)
    }

    private func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        return (0 ..< count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    }

    func testChunkedUploadIsStoredUnderItsDigest() throws {
        let (store, _) = try makeStore()
        let data = bytes(10_000, seed: 1)
        let digest = SHA256.hex(of: data)
        var offset: Int64 = 0
        for start in stride(from: 0, to: data.count, by: 3000) {
            offset = try store.append(upload: "u1", offset: offset, bytes: Array(data[start ..< min(start + 3000, data.count)]))
        }
        XCTAssertEqual(offset, 10_000)
        XCTAssertEqual(try store.finalize(upload: "u1", expectedDigest: digest), digest)
        let path = try store.blobPath(digest)
        XCTAssertEqual(path, "\(store.stateDirectory)/blobs/\(digest.prefix(2))/\(digest)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        XCTAssertEqual(try store.read(digest), data)
        XCTAssertEqual(store.allDigests(), [digest])
        XCTAssertEqual(store.pendingUploads(), [], "the part file is gone after finalize")
    }

    func testAppendAtWrongOffsetIsRejectedWithTheExpectedOffset() throws {
        let (store, _) = try makeStore()
        try store.append(upload: "u", offset: 0, bytes: [1, 2, 3])
        XCTAssertThrowsError(try store.append(upload: "u", offset: 5, bytes: [9])) { error in
            XCTAssertEqual(error as? BlobStoreError, .wrongOffset(upload: "u", offset: 5, expected: 3))
        }
        XCTAssertThrowsError(try store.append(upload: "u", offset: -1, bytes: [9]))
        XCTAssertEqual(try store.uploadedSize("u"), 3)
        XCTAssertEqual(try store.uploadedSize("never-started"), 0)
    }

    func testAFirstChunkAtANonZeroOffsetLeavesNoPartFile() throws {
        let (store, _) = try makeStore()
        XCTAssertThrowsError(try store.append(upload: "late", offset: 4, bytes: [1])) { error in
            XCTAssertEqual(error as? BlobStoreError, .wrongOffset(upload: "late", offset: 4, expected: 0))
        }
        XCTAssertEqual(store.pendingUploads(), [])
    }

    func testChunkedReadsSizeAndStreamingVerify() throws {
        let (store, _) = try makeStore()
        let data = bytes(3_000_000, seed: 8)
        let digest = SHA256.hex(of: data)
        try store.append(upload: "big", offset: 0, bytes: data)
        try store.finalize(upload: "big", expectedDigest: digest)
        XCTAssertEqual(try store.size(digest), 3_000_000)
        var rebuilt: [UInt8] = []
        while true {
            let chunk = try store.readChunk(digest, offset: Int64(rebuilt.count), count: 1 << 20)
            if chunk.isEmpty { break }
            rebuilt += chunk
        }
        XCTAssertEqual(rebuilt, data)
        XCTAssertNoThrow(try store.verify(digest))
        XCTAssertThrowsError(try store.readChunk(digest, offset: -1, count: 1)) {
            XCTAssertEqual($0 as? BlobStoreError, .invalidRange(offset: -1, count: 1))
        }
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: try store.blobPath(digest)))
        try handle.seek(toOffset: 2_500_000)
        try handle.write(contentsOf: Data([0xAB]))
        try handle.close()
        XCTAssertThrowsError(try store.verify(digest)) { error in
            guard case .corrupt? = error as? BlobStoreError else { return XCTFail("\(error)") }
        }
    }

    func testResentChunkIsIdempotentAndOverlapAppendsOnlyTheRest() throws {
        let (store, _) = try makeStore()
        try store.append(upload: "u", offset: 0, bytes: [1, 2, 3, 4])
        XCTAssertEqual(try store.append(upload: "u", offset: 0, bytes: [1, 2, 3, 4]), 4)
        XCTAssertEqual(try store.append(upload: "u", offset: 2, bytes: [3, 4]), 4)
        XCTAssertEqual(try store.append(upload: "u", offset: 2, bytes: [3, 4, 5, 6]), 6)
        XCTAssertThrowsError(try store.append(upload: "u", offset: 1, bytes: [7])) { error in
            XCTAssertEqual(error as? BlobStoreError, .conflictingChunk(upload: "u", offset: 1))
        }
        let digest = SHA256.hex(of: [1, 2, 3, 4, 5, 6] as [UInt8])
        try store.finalize(upload: "u", expectedDigest: digest)
        XCTAssertEqual(try store.read(digest), [1, 2, 3, 4, 5, 6])
    }

    func testDigestMismatchDiscardsTheUploadAndPublishesNothing() throws {
        let (store, _) = try makeStore()
        try store.append(upload: "u", offset: 0, bytes: [1, 2, 3])
        let wrong = SHA256.hex(of: [9] as [UInt8])
        XCTAssertThrowsError(try store.finalize(upload: "u", expectedDigest: wrong)) { error in
            XCTAssertEqual(error as? BlobStoreError, .digestMismatch(expected: wrong, actual: SHA256.hex(of: [1, 2, 3] as [UInt8])))
        }
        XCTAssertEqual(store.allDigests(), [])
        XCTAssertEqual(try store.uploadedSize("u"), 0)
        XCTAssertThrowsError(try store.finalize(upload: "u", expectedDigest: wrong)) { error in
            XCTAssertEqual(error as? BlobStoreError, .noSuchUpload("u"))
        }
    }

    func testFinalizingContentAlreadyStoredDeduplicates() throws {
        let (store, _) = try makeStore()
        let data = bytes(100, seed: 2)
        let digest = SHA256.hex(of: data)
        for id in ["a", "b"] {
            try store.append(upload: id, offset: 0, bytes: data)
            try store.finalize(upload: id, expectedDigest: digest)
        }
        XCTAssertEqual(store.allDigests(), [digest])
        XCTAssertEqual(store.pendingUploads(), [])
    }

    func testEmptyBlob() throws {
        let (store, _) = try makeStore()
        let digest = SHA256.hex(of: [UInt8]())
        try store.append(upload: "e", offset: 0, bytes: [])
        try store.finalize(upload: "e", expectedDigest: digest)
        XCTAssertEqual(try store.read(digest), [])
    }

    func testReadDetectsCorruption() throws {
        let (store, _) = try makeStore()
        let data = bytes(64, seed: 3)
        let digest = SHA256.hex(of: data)
        try store.append(upload: "u", offset: 0, bytes: data)
        try store.finalize(upload: "u", expectedDigest: digest)
        var damaged = data
        damaged[10] ^= 0xff
        try Data(damaged).write(to: URL(fileURLWithPath: try store.blobPath(digest)))
        XCTAssertThrowsError(try store.read(digest)) { error in
            XCTAssertEqual(error as? BlobStoreError, .corrupt(digest: digest, actual: SHA256.hex(of: damaged)))
        }
    }

    func testDeleteIsIdempotentAndReadAfterDeleteIsNotFound() throws {
        let (store, _) = try makeStore()
        let data: [UInt8] = [4, 5, 6]
        let digest = SHA256.hex(of: data)
        try store.append(upload: "u", offset: 0, bytes: data)
        try store.finalize(upload: "u", expectedDigest: digest)
        try store.delete(digest)
        try store.delete(digest)
        XCTAssertFalse(try store.contains(digest))
        XCTAssertThrowsError(try store.read(digest)) { XCTAssertEqual($0 as? BlobStoreError, .notFound(digest: digest)) }
        try store.abortUpload("never")
    }

    func testNamesFromTheNetworkCannotEscapeTheStateDirectory() throws {
        let (store, outer) = try makeStore()
        let before = try FileManager.default.contentsOfDirectory(atPath: outer)
        let badIDs = ["../escape", "..", ".", "/etc/passwd", "/tmp/x", "a/b", "a\u{0}b", "", String(repeating: "x", count: 129),
                      "x.part", "é", "a b", "\\..\\x"]
        for id in badIDs {
            XCTAssertThrowsError(try store.append(upload: id, offset: 0, bytes: [1])) { error in
                XCTAssertEqual(error as? BlobStoreError, .invalidUploadID(id), "id \(id.debugDescription)")
            }
            XCTAssertThrowsError(try store.uploadedSize(id))
            XCTAssertThrowsError(try store.abortUpload(id))
            XCTAssertThrowsError(try store.finalize(upload: id, expectedDigest: SHA256.hex(of: [1] as [UInt8])))
        }
        let good = SHA256.hex(of: [1] as [UInt8])
        var badDigests: [String] = []
        badDigests.append("../" + String(good.dropFirst(3)))
        badDigests.append("/" + String(good.dropFirst()))
        badDigests.append(good.uppercased())
        badDigests.append(String(good.dropLast()))
        badDigests.append(good + "0")
        badDigests.append(String(good.dropLast()) + "\u{0}")
        badDigests.append(String(good.dropLast(2)) + "/.")
        badDigests.append("")
        badDigests.append("zz" + String(good.dropFirst(2)))
        for digest in badDigests {
            XCTAssertThrowsError(try store.read(digest)) { XCTAssertEqual($0 as? BlobStoreError, .invalidDigest(digest)) }
            XCTAssertThrowsError(try store.delete(digest))
            XCTAssertThrowsError(try store.contains(digest))
            try store.append(upload: "ok", offset: 0, bytes: [1])
            XCTAssertThrowsError(try store.finalize(upload: "ok", expectedDigest: digest)) {
                XCTAssertEqual($0 as? BlobStoreError, .invalidDigest(digest))
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outer).sorted(), before.sorted())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: store.stateDirectory).sorted(), ["blobs", "uploads"])
        XCTAssertEqual(store.pendingUploads(), ["ok"])
    }

    /// A finalize that fails at the rename (here a file sits where the digest's folder should be, which
    /// also works when tests run as root and permissions are not enforced) publishes nothing and keeps
    /// the part file; once the obstacle is gone the same upload finalizes.
    func testFailedFinalizeLeavesTheStoreConsistent() throws {
        let (store, _) = try makeStore()
        let data = bytes(5000, seed: 4)
        let digest = SHA256.hex(of: data)
        let obstacle = "\(store.blobsDirectory)/\(digest.prefix(2))"
        XCTAssertTrue(FileManager.default.createFile(atPath: obstacle, contents: Data([0])))
        try store.append(upload: "u", offset: 0, bytes: data)
        XCTAssertThrowsError(try store.finalize(upload: "u", expectedDigest: digest)) { error in
            guard case .io(let operation, _, _)? = error as? BlobStoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(operation, "rename")
        }
        XCTAssertEqual(store.allDigests(), [])
        XCTAssertFalse(try store.contains(digest))
        XCTAssertEqual(try store.uploadedSize("u"), 5000, "the upload survives for a retry")
        try FileManager.default.removeItem(atPath: obstacle)
        try store.finalize(upload: "u", expectedDigest: digest)
        XCTAssertEqual(try store.read(digest), data)
    }

    /// The same with a read-only blobs folder, which only binds when not running as root.
    func testFinalizeIntoReadOnlyBlobsFolderFailsCleanly() throws {
        try XCTSkipIf(getuid() == 0, "root ignores directory permissions")
        let (store, _) = try makeStore()
        let data = bytes(100, seed: 5)
        let digest = SHA256.hex(of: data)
        try store.append(upload: "u", offset: 0, bytes: data)
        XCTAssertEqual(chmod(store.blobsDirectory, 0o500), 0)
        XCTAssertThrowsError(try store.finalize(upload: "u", expectedDigest: digest))
        XCTAssertEqual(chmod(store.blobsDirectory, 0o700), 0)
        XCTAssertEqual(store.allDigests(), [])
        XCTAssertEqual(try store.uploadedSize("u"), 100)
    }

    func testReopeningFindsStoredBlobsAndPendingUploads() throws {
        let (store, _) = try makeStore()
        let data = bytes(10, seed: 6)
        let digest = SHA256.hex(of: data)
        try store.append(upload: "done", offset: 0, bytes: data)
        try store.finalize(upload: "done", expectedDigest: digest)
        try store.append(upload: "half", offset: 0, bytes: [1, 2])
        let reopened = try BlobStore(stateDirectory: store.stateDirectory + "/")
        XCTAssertEqual(reopened.allDigests(), [digest])
        XCTAssertEqual(reopened.pendingUploads(), ["half"])
        XCTAssertEqual(try reopened.uploadedSize("half"), 2)
    }
}
