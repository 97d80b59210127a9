import XCTest

@testable import ThresherWorker

final class MetricLineParserTests: XCTestCase {
    private func parse(_ text: String, maxLineBytes: Int = MetricLineParser.defaultMaxLineBytes) throws(MetricLineError) -> MetricLine? {
        var parser = MetricLineParser(maxLineBytes: maxLineBytes)
        return try parser.parse(Array(text.utf8))
    }

    private func reason(_ text: String) -> MetricLineError.Reason? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error.reason
        }
    }

    func testGoodLineKeepsOrderStepAndEpoch() throws {
        let line = try XCTUnwrap(parse(#"{"step": 12, "val_loss": 0.41, "epoch": 2, "val_accuracy": 0.88, "n": -3e2}"#))
        XCTAssertEqual(line, MetricLine(step: 12, epoch: 2, values: [("val_loss", 0.41), ("val_accuracy", 0.88), ("n", -300)]))
        XCTAssertEqual(line["val_accuracy"], 0.88)
        XCTAssertNil(line["step"])
    }

    func testWhitespaceCarriageReturnAndEmptyObject() throws {
        XCTAssertEqual(try parse(" \t{ \"a\" :1 , \"b\":2}\r"), MetricLine(step: 1, values: [("a", 1), ("b", 2)]))
        XCTAssertEqual(try parse("{}"), MetricLine(step: 1, values: []))
    }

    func testBlankLineIsSkippedButCounted() throws {
        var parser = MetricLineParser()
        XCTAssertNil(try parser.parse(Array("  \r".utf8)))
        XCTAssertNil(try parser.parse([UInt8]()))
        XCTAssertEqual(parser.lineNumber, 2)
        XCTAssertEqual(try parser.parse(Array("{\"a\": 1}".utf8))?.step, 1)
    }

    func testMissingStepsAreNumberedAfterThePreviousLine() {
        var parser = MetricLineParser()
        let steps = ["{\"a\":1}", "{\"a\":2}", "{\"step\":10,\"a\":3}", "{\"a\":4}", "oops", "{\"a\":5}"].map { text in
            (try? parser.parse(Array(text.utf8)))??.step
        }
        XCTAssertEqual(steps, [1, 2, 10, 11, nil, 12])
        XCTAssertEqual(parser.lineNumber, 6)
    }

    func testIntegralFloatStepIsAcceptedOthersAreNot() throws {
        XCTAssertEqual(try parse(#"{"step": 12.0}"#)?.step, 12)
        XCTAssertEqual(try parse(#"{"step": 0}"#)?.step, 0)
        for bad in [#"{"step": -1}"#, #"{"step": 1.5}"#, #"{"step": null}"#, #"{"step": NaN}"#, #"{"step": 1e300}"#] {
            guard case .badStep = reason(bad) else { return XCTFail("\(bad) gave \(String(describing: reason(bad)))") }
        }
        guard case .notNumeric(key: "step") = reason(#"{"step": "3"}"#) else { return XCTFail("string step") }
    }

    func testEpochMayBeFractionalOrNullButNotNegative() throws {
        XCTAssertEqual(try parse(#"{"epoch": 1.5}"#)?.epoch, 1.5)
        XCTAssertNil(try parse(#"{"epoch": null, "a": 1}"#)?.epoch)
        guard case .badStep = reason(#"{"epoch": -1}"#) else { return XCTFail("negative epoch") }
        guard case .badStep = reason(#"{"epoch": Infinity}"#) else { return XCTFail("infinite epoch") }
    }

    func testNullValuesAreLeftOut() throws {
        XCTAssertEqual(try parse(#"{"a": null, "b": 1}"#)?.values.map(\.name), ["b"])
    }

    func testPythonNonFiniteSpellingsAreKept() throws {
        let line = try XCTUnwrap(parse(#"{"a": NaN, "b": Infinity, "c": -Infinity}"#))
        XCTAssertEqual(line["a"].map { $0.isNaN }, true)
        XCTAssertEqual(line["b"], .infinity)
        XCTAssertEqual(line["c"], -.infinity)
        XCTAssertEqual(line, line, "NaN equals NaN in a MetricLine")
    }

    func testOtherNonFiniteSpellingsAreRefused() {
        for bad in ["nan", "inf", "-inf", "+Infinity", "-NaN", "Inf", "infinity", "NAN"] {
            guard case .syntax = reason("{\"a\": \(bad)}") else {
                return XCTFail("\(bad) gave \(String(describing: reason("{\"a\": \(bad)}")))")
            }
        }
    }

    func testNumberGrammarIsJSONs() {
        for bad in ["01", "1.", ".5", "+1", "1e", "1e+", "0x10", "--1", "1_000"] {
            XCTAssertNotNil(reason("{\"a\": \(bad)}"), bad)
        }
        for good in ["0", "-0", "0.5", "1E3", "1e-3", "-12.25e+2"] {
            XCTAssertNil(reason("{\"a\": \(good)}"), good)
        }
        XCTAssertEqual(try parse(#"{"a": 1e400}"#)?["a"], .infinity, "beyond Double's range, as Python's json reads it")
    }

    func testNonObjectsAreRefused() {
        for bad in ["[1, 2]", "3", "\"text\"", "null", "true", "not json", "{\"a\": 1"] {
            XCTAssertNotNil(reason(bad), bad)
        }
        XCTAssertEqual(reason("[1]"), .notAnObject)
        XCTAssertEqual(reason("step=3 loss=1"), .notAnObject)
    }

    func testPartialLinesAreSyntaxErrors() {
        for partial in ["{", "{\"a\"", "{\"a\":", "{\"a\": 1,", "{\"a\": 1, }", "{\"a\": 1} x", "{\"a\" 1}", "{a: 1}"] {
            guard case .syntax = reason(partial) else {
                return XCTFail("\(partial) gave \(String(describing: reason(partial)))")
            }
        }
    }

    func testNonNumericValuesAreRefusedByKey() {
        XCTAssertEqual(reason(#"{"a": 1, "phase": "train"}"#), .notNumeric(key: "phase"))
        XCTAssertEqual(reason(#"{"ok": true}"#), .notNumeric(key: "ok"))
        XCTAssertEqual(reason(#"{"ok": false}"#), .notNumeric(key: "ok"))
        XCTAssertEqual(reason(#"{"m": [[1, 2], [3, 4]]}"#), .notNumeric(key: "m"))
        XCTAssertEqual(reason(#"{"o": {"x": 1}}"#), .notNumeric(key: "o"))
    }

    func testDuplicateKeysAreRefused() {
        XCTAssertEqual(reason(#"{"a": 1, "a": 2}"#), .duplicateKey("a"))
        XCTAssertEqual(reason(#"{"step": 1, "step": 2}"#), .duplicateKey("step"))
        XCTAssertEqual(reason(#"{"a": 1, "\u0061": 2}"#), .duplicateKey("a"), "escapes are decoded before comparing")
    }

    func testKeyEscapesAndUnicode() throws {
        let line = try XCTUnwrap(parse(#"{"caf\u00e9": 1, "g\ud83d\ude00": 2, "tab\tq\"": 3, "é": 4}"#))
        XCTAssertEqual(line.values.map(\.name), ["café", "g😀", "tab\tq\"", "é"])
        XCTAssertNotNil(reason(#"{"\ud83d": 1}"#), "lone surrogate")
        XCTAssertNotNil(reason(#"{"\x": 1}"#), "unknown escape")
        XCTAssertNotNil(reason("{\"a\tb\": 1}"), "raw control character")
    }

    func testInvalidUTF8IsRefused() throws {
        var parser = MetricLineParser()
        XCTAssertThrowsError(try parser.parse([UInt8]("{\"".utf8) + [0xFF, 0xFE] + [UInt8]("\": 1}".utf8))) { error in
            XCTAssertEqual((error as? MetricLineError)?.reason, .notUTF8)
        }
    }

    func testHugeLineIsRefusedWithItsNumber() throws {
        var parser = MetricLineParser(maxLineBytes: 100)
        _ = try parser.parse(Array("{\"a\": 1}".utf8))
        let huge = "{\"a\": \"" + String(repeating: "x", count: 500) + "\"}"
        XCTAssertThrowsError(try parser.parse(Array(huge.utf8))) { error in
            XCTAssertEqual(error as? MetricLineError, MetricLineError(line: 2, reason: .tooLong(limit: 100)))
        }
        XCTAssertEqual(try parser.parse(Array("{\"b\": 2}".utf8))?.values.map(\.name), ["b"], "the next line is unaffected")
    }

    func testALineOfExactlyTheDefaultLimitIsReadAndOneByteMoreIsRefused() throws {
        let limit = MetricLineParser.defaultMaxLineBytes
        func line(_ bytes: Int) -> [UInt8] {
            let head = "{\"loss\": 0.5", tail = "}"
            return Array((head + String(repeating: " ", count: bytes - head.utf8.count - tail.utf8.count) + tail).utf8)
        }
        var parser = MetricLineParser()
        XCTAssertEqual(try parser.parse(line(limit))?.values.map(\.name), ["loss"])
        XCTAssertThrowsError(try parser.parse(line(limit + 1))) { error in
            XCTAssertEqual(error as? MetricLineError, MetricLineError(line: 2, reason: .tooLong(limit: limit)))
        }
    }

    func testManyKeysWithinTheLimitAreFine() throws {
        let body = (0..<500).map { "\"m\($0)\": \($0).5" }.joined(separator: ", ")
        let line = try XCTUnwrap(parse("{\"step\": 3, \(body)}"))
        XCTAssertEqual(line.values.count, 500)
        XCTAssertEqual(line["m499"], 499.5)
    }

    func testErrorDescriptionsNameTheLine() {
        XCTAssertEqual(MetricLineError(line: 4, reason: .duplicateKey("a")).description, "metrics line 4: duplicate key 'a'")
    }
}
