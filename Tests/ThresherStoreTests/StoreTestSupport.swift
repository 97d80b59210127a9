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
