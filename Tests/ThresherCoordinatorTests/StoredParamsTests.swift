import Foundation
import XCTest
@testable import ThresherCoordinator
import ThresherWire

/// Trial parameters survive the store exactly, so a restarted searcher gets back what it suggested.
final class StoredParamsTests: XCTestCase {
    func testTypedParamsRoundTripExactly() throws {
        let params: ParamMap = [
            "zero": .int(0), "one": .int(1), "onePointZero": .double(1.0), "negativeZero": .double(-0.0),
            "tiny": .double(0.1 + 0.2), "nan": .double(.nan), "inf": .double(-.infinity),
            "text": .string("1"), "yes": .string("true"), "flag": .bool(true), "off": .bool(false), "nothing": .null,
            "list": .list([.int(1), .double(2.5), .list([.string("x")])]),
            "nested": .map(["b": .int(2), "a": .double(1)]),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(StoredTrialParams(index: 7, params: params)), as: UTF8.self)
        let decoded = try XCTUnwrap(StoredTrialParams.decode(json))
        XCTAssertEqual(decoded.index, 7)
        let map = try XCTUnwrap(decoded.paramMap)
        XCTAssertEqual(map.keys, params.keys, "order is kept")
        for (key, value) in params.entries {
            switch (value, map[key]) {
            case (.double(let a), .double(let b)?):
                XCTAssertEqual(a.bitPattern, b.bitPattern, key)
            default:
                XCTAssertEqual(map[key], value, key)
            }
        }
        XCTAssertNil(StoredTrialParams.decode("{\"index\": 1, \"params\": {\"f\": \"not a number\"}}"))
        XCTAssertNil(StoredTrialParams.decode("garbage"))
    }

    func testStoredSpecKeepsTheBaseDirectoryOutOfTheParsersWay() {
        let stored = StoredSpec.compose(text: "method: grid\n", baseDirectory: "/a/b")
        XCTAssertEqual(StoredSpec.split(stored).text, "method: grid\n")
        XCTAssertEqual(StoredSpec.split(stored).baseDirectory, "/a/b")
        XCTAssertEqual(StoredSpec.split("method: grid\n").baseDirectory, ".")
    }
}
