import Foundation
import XCTest
@testable import ThresherCoordinator
import ThresherSweep
import ThresherWire

/// `StoredTrialParams.canonicalJSON` must be byte for byte what JSONEncoder writes (the store's
/// canonical form), and must decode back to the same parameters.
final class CanonicalParamsJSONTests: XCTestCase {
    private static let awkward = ["", "a/b", "quote\"", "back\\slash", "line\nbreak", "tab\t", "cr\r", "bell\u{7}", "bs\u{8}",
                                  "ff\u{c}", "nul\u{0}", "unit\u{1f}", "del\u{7f}", "é", "漢字", "🙂", "lr", "</script>"]

    private func value(_ g: inout SeededGenerator, depth: Int) -> ParamValue {
        switch g.nextIndex(below: depth > 2 ? 6 : 8) {
        case 0: return .null
        case 1: return .bool(g.nextIndex(below: 2) == 0)
        case 2: return .int(Int64(bitPattern: g.next()) >> Int64(g.nextIndex(below: 64)))
        case 3: return .string(Self.awkward[g.nextIndex(below: Self.awkward.count)])
        case 4: return .double([0.1, -0.0, 1e-7, 3e300, .nan, .infinity, -.infinity, 1.0 / 3][g.nextIndex(below: 8)])
        case 5: return .double(Double(bitPattern: g.next()))
        case 6: return .list((0..<g.nextIndex(below: 4)).map { _ in value(&g, depth: depth + 1) })
        default:
            return .map(ParamMap(entries: (0..<g.nextIndex(below: 4)).map { n in (Self.awkward[g.nextIndex(below: Self.awkward.count)] + "\(n)", value(&g, depth: depth + 1)) }))
        }
    }

    func testCanonicalJSONIsWhatJSONEncoderWritesAndDecodesBack() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var g = SeededGenerator(seed: 5)
        for round in 0..<500 {
            let params = ParamMap(entries: (0..<g.nextIndex(below: 6)).map { n in ("p\(n)" + Self.awkward[g.nextIndex(below: Self.awkward.count)], value(&g, depth: 0)) })
            let stored = StoredTrialParams(index: g.nextIndex(below: 100_000), params: params)
            let expected = String(decoding: try encoder.encode(stored), as: UTF8.self)
            XCTAssertEqual(stored.canonicalJSON, expected, "round \(round)")
            let decoded = try XCTUnwrap(StoredTrialParams.decode(stored.canonicalJSON))
            XCTAssertEqual(decoded.index, stored.index)
            // NaN != NaN, so compare the canonical text of the decoded value instead of the values.
            XCTAssertEqual(decoded.canonicalJSON, stored.canonicalJSON, "round \(round)")
        }
    }
}
