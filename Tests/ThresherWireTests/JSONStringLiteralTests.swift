import Foundation
import XCTest
import ThresherWire

/// The one hand-written JSON string writer agrees with `JSONEncoder` byte for byte.
final class JSONStringLiteralTests: XCTestCase {
    func testMatchesJSONEncoderOnEveryControlCharacterAndBeyond() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        var samples = ["", "plain", "a/b", "quote \" and back\\slash", "é ü 漢字 🙂", "\u{7f}\u{80}\u{2028}"]
        samples += (0 ..< 0x20).map { "x\(String(UnicodeScalar(UInt8($0))))y" }
        for sample in samples {
            var out = ""
            JSONStringLiteral.append(sample, to: &out)
            XCTAssertEqual(out, String(decoding: try encoder.encode(sample), as: UTF8.self), sample.debugDescription)
        }
    }
}
