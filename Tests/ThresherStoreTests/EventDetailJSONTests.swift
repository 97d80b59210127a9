import Foundation
import XCTest
@testable import ThresherStore

/// The event log's hand-written JSON must parse back to exactly what was logged.
final class EventDetailJSONTests: XCTestCase {
    func testEveryKindOfDetailValueRoundTripsThroughAJSONParser() throws {
        let awkward = "quote \" backslash \\ slash / newline \n tab \t cr \r bell \u{7} nul \u{0} é 漢 🙂"
        let text = SweepStore.Detail.json(["s": .string(awkward), "i": .int(-9_007_199_254_740_993), "d": .double(0.1),
                                           "big": .double(1e300), "inf": .double(-.infinity), "nan": .double(.nan), "n": .null])
        // Keys are sorted, so equal details give equal text.
        XCTAssertTrue(text.hasPrefix("{\"big\":"), text)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(object["s"] as? String, awkward)
        XCTAssertEqual((object["i"] as? NSNumber)?.int64Value, -9_007_199_254_740_993)
        XCTAssertEqual(object["d"] as? Double, 0.1)
        XCTAssertEqual(object["big"] as? Double, 1e300)
        XCTAssertEqual(object["inf"] as? String, "-inf")
        XCTAssertEqual(object["nan"] as? String, "nan")
        XCTAssertTrue(object["n"] is NSNull)
        XCTAssertEqual(SweepStore.Detail.json([:]), "{}")
    }
}
