import Foundation
import XCTest
@testable import ThresherStore

/// A fixed clock origin: every store time in the tests is `t0 + seconds`.
let t0 = Date(timeIntervalSince1970: 1_800_000_000)
func at(_ seconds: TimeInterval) -> Date { t0.addingTimeInterval(seconds) }

extension XCTestCase {
    /// A store on a real SQLite file in a fresh temporary folder.
    func makeSweepStore() throws -> (SweepStore, String) {
        let dir = try makeTemporaryDirectory(self)
        let path = dir + "/thresher.sqlite"
        return (try SweepStore(path: path), path)
    }
}

/// Asserts that `body` throws exactly `expected`.
func XCTAssertThrowsStoreError<T>(_ expected: StoreError, _ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        XCTAssertEqual(error as? StoreError, expected, file: file, line: line)
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
