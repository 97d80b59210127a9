import XCTest
@testable import ThresherSweep

/// Inputs the sweep-file fuzzer (`scripts/fuzz sweep`) found, each with the behaviour it broke.
final class SweepFuzzFindingsTests: XCTestCase {
    /// crash-94785b2b…: a mapping repeating a non-string key (`? {a: 1}`) and a string key. Yams
    /// names the first repeated key in an order that is not total, so the error's line changed from
    /// run to run (1:3 in one process, 5:1 in the next) and two parses of one file could differ.
    func testRepeatedKeysThatAreNotAllPlainStringsGetTheSameMessageEveryTime() throws {
        let inputs = [
            "? {a: 1}\n: x\n? {a: 1}\n: y\nmethod: grid\nmethod: grid\n",
            "1: a\n1: b\n\"1\": c\n\"1\": d\nmethod: grid\n",
        ]
        for text in inputs {
            var seen = Set<String>()
            for _ in 0..<20 {
                do {
                    _ = try SweepFileParser.parse(text, fileName: "dup.yaml")
                    XCTFail("a file repeating keys parsed")
                } catch {
                    let first = try XCTUnwrap(error.errors.first)
                    XCTAssertNil(first.line, "\(first)")
                    XCTAssertNil(first.column, "\(first)")
                    XCTAssertTrue(first.message.hasPrefix("a mapping repeats the key(s) "), first.message)
                    seen.insert(error.description)
                }
            }
            XCTAssertEqual(seen.count, 1, "\(seen)")
        }
        // Plain string keys keep their place (Yams names the first occurrence).
        do {
            _ = try SweepFileParser.parse("method: grid\nmethod: random\nparameters: {}\n", fileName: "dup.yaml")
            XCTFail("a file repeating keys parsed")
        } catch {
            XCTAssertEqual(error.errors.first?.line, 1)
        }
    }
}
