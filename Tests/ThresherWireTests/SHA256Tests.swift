import XCTest
@testable import ThresherWire

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
