import XCTest
@testable import ThresherWire

/// Asserts that `body` throws exactly `expected`.
///
/// (The closure is untyped `throws` because Swift 6.3 infers closures as throwing `any Error`
/// even where the context asks for `throws(WireError)`; a non-WireError is a failure here.)
func XCTAssertWireError<T>(
    _ expected: WireError, _ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line
) {
    do {
        let value = try body()
        XCTFail("expected \(expected), got value \(value)", file: file, line: line)
    } catch let error as WireError {
        XCTAssertEqual(error, expected, file: file, line: line)
    } catch {
        XCTFail("expected WireError \(expected), got \(type(of: error)): \(error)", file: file, line: line)
    }
}
