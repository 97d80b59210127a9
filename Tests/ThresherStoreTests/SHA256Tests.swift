import XCTest
@testable import ThresherStore

/// FIPS 180-2 appendix B vectors, plus split-point independence of the streaming interface.
final class SHA256Tests: XCTestCase {
    func testEmptyMessage() {
        XCTAssertEqual(SHA256.hex(of: [UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testABC() {
        XCTAssertEqual(SHA256.hex(of: Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func test448BitMessage() {
        let message = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        XCTAssertEqual(message.count * 8, 448)
        XCTAssertEqual(SHA256.hex(of: message), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testOneMillionA() {
        var hasher = SHA256()
        let block = [UInt8](repeating: 0x61, count: 1000)
        // Alternate the two update paths to cover both.
        for i in 0 ..< 1000 {
            if i % 2 == 0 { block.withUnsafeBytes { hasher.update($0) } } else { hasher.update(block) }
        }
        XCTAssertEqual(hasher.hexDigest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testSplitPointsDoNotChangeTheDigest() {
        var generator = SplitMix64(seed: 7)
        let message = (0 ..< 300).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let whole = SHA256.hex(of: message)
        for split in [0, 1, 55, 56, 63, 64, 65, 127, 128, 299, 300] {
            var hasher = SHA256()
            message[..<split].withUnsafeBytes { hasher.update($0) }
            hasher.update(message[split...])
            XCTAssertEqual(hasher.hexDigest(), whole, "split at \(split)")
        }
    }

    func testFinalizeDoesNotConsumeTheHasher() {
        var hasher = SHA256()
        hasher.update(Array("ab".utf8))
        _ = hasher.finalize()
        hasher.update(Array("c".utf8))
        XCTAssertEqual(hasher.hexDigest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}

/// Small deterministic generator for seeded tests (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A fresh temporary folder, removed when the test ends.
func makeTemporaryDirectory(_ test: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "thresher-store-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock {
        // Restore permissions a test may have removed, so cleanup can succeed.
        _ = try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path + "/blobs")
        try? FileManager.default.removeItem(atPath: path)
    }
    return path
}
