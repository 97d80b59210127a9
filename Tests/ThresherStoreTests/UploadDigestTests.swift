import Foundation
import XCTest
@testable import ThresherStore
import ThresherWire

/// An upload's digest is computed as its chunks are written (no read-back at finalize), and falls
/// back to hashing the file whenever the running digest does not cover exactly the file's bytes.
final class UploadDigestTests: XCTestCase {
    func testTheRunningDigestIsTheDigestOfTheBytesWrittenInOrder() {
        let digests = UploadDigests()
        digests.appended([1, 2, 3], to: "u", at: 0)
        digests.appended([4, 5], to: "u", at: 3)
        digests.appended([], to: "u", at: 5)
        XCTAssertNil(digests.take("u", size: 4), "a size the digest does not cover gives no digest")
        digests.appended([1, 2, 3, 4, 5], to: "u", at: 0)
        XCTAssertEqual(digests.take("u", size: 5), SHA256.hex(of: [1, 2, 3, 4, 5] as [UInt8]))
        XCTAssertNil(digests.take("u", size: 5), "taken once")
    }

    func testAWriteThatDoesNotContinueTheDigestDropsIt() {
        let digests = UploadDigests()
        digests.appended([1, 2, 3], to: "u", at: 0)
        digests.appended([9], to: "u", at: 7)
        XCTAssertNil(digests.take("u", size: 8))
        digests.appended([4], to: "never-started", at: 3)
        XCTAssertNil(digests.take("never-started", size: 4))
        digests.appended([1], to: "u", at: 0)
        digests.forget("u")
        XCTAssertNil(digests.take("u", size: 1))
    }

    func testAnUploadBegunBeforeARestartIsVerifiedFromTheFile() throws {
        let dir = try makeTemporaryDirectory(self) + "/state"
        let data = (0 ..< 5000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let before = try BlobStore(stateDirectory: dir)
        try before.append(upload: "good", offset: 0, bytes: Array(data[..<2000]))
        try before.append(upload: "bad", offset: 0, bytes: Array(data[..<2000]))
        // A restarted coordinator: a new store on the same folder continues both uploads.
        let after = try BlobStore(stateDirectory: dir)
        try after.append(upload: "good", offset: 2000, bytes: Array(data[2000...]))
        try after.append(upload: "bad", offset: 2000, bytes: Array(data[2000...]))
        let digest = SHA256.hex(of: data)
        XCTAssertEqual(try after.finalize(upload: "good", expectedDigest: digest), digest)
        XCTAssertEqual(try after.read(digest), data)
        let wrong = SHA256.hex(of: [0] as [UInt8])
        XCTAssertThrowsError(try after.finalize(upload: "bad", expectedDigest: wrong)) { error in
            XCTAssertEqual(error as? BlobStoreError, .digestMismatch(expected: wrong, actual: digest))
        }
    }

    func testAnUploadStartedAgainAfterAnAbortHasTheNewBytesDigest() throws {
        let store = try BlobStore(stateDirectory: try makeTemporaryDirectory(self) + "/state")
        try store.append(upload: "u", offset: 0, bytes: [1, 2, 3])
        try store.abortUpload("u")
        try store.append(upload: "u", offset: 0, bytes: [4, 5])
        let digest = SHA256.hex(of: [4, 5] as [UInt8])
        XCTAssertEqual(try store.finalize(upload: "u", expectedDigest: digest), digest)
    }

    func testAPartFileCutUnderneathIsHashedFromTheFile() throws {
        let store = try BlobStore(stateDirectory: try makeTemporaryDirectory(self) + "/state")
        try store.append(upload: "u", offset: 0, bytes: [1, 2, 3, 4])
        XCTAssertEqual(truncate(try store.partPath("u"), 2), 0)
        try store.append(upload: "u", offset: 2, bytes: [9, 9])
        let onDisk = SHA256.hex(of: [1, 2, 9, 9] as [UInt8])
        XCTAssertEqual(try store.finalize(upload: "u", expectedDigest: onDisk), onDisk)
    }
}
