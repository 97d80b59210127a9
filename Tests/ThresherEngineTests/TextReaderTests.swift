import Foundation
import XCTest
@testable import ThresherEngine

/// Fixture files of the text tests (Fixtures/text/).
enum TextFixtures {
    static func path(_ name: String) throws -> String {
        let dot = name.lastIndex(of: ".").map { name[..<$0] } ?? Substring(name)
        let ext = name.lastIndex(of: ".").map { String(name[name.index(after: $0)...]) }
        return try XCTUnwrap(Bundle.module.url(forResource: String(dot), withExtension: ext, subdirectory: "Fixtures/text")).path
    }

    /// A fresh temporary folder, removed by the caller's teardown block.
    static func temporaryFolder() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-text-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }
}

final class WordTokenizerTests: XCTestCase {
    private let plain = WordTokenizer()
    private let keepPunctuation = WordTokenizer(options: .init(dropPunctuation: false))

    func testClitics() {
        XCTAssertEqual(plain.tokenize("Don't"), ["do", "n't"])
        XCTAssertEqual(plain.tokenize("can't"), ["ca", "n't"])
        XCTAssertEqual(plain.tokenize("They'll say I'm sure we're done, you've seen he'd go; John's."),
                       ["they", "'ll", "say", "i", "'m", "sure", "we", "'re", "done", "you", "'ve", "seen", "he", "'d", "go",
                        "john", "'s"])
        XCTAssertEqual(plain.tokenize("cannot gonna Gimme"), ["can", "not", "gon", "na", "gim", "me"])
        XCTAssertEqual(keepPunctuation.tokenize("'Tis the students' books"), ["'t", "is", "the", "students", "'", "books"])
        // A lone clitic is a token of its own, not split further.
        XCTAssertEqual(plain.tokenize("'s"), ["'s"])
        XCTAssertEqual(keepPunctuation.tokenize("'Tom saw 'em"), ["'", "tom", "saw", "'em"])
    }

    func testPunctuationQuotesAndBrackets() {
        XCTAssertEqual(keepPunctuation.tokenize("He said, \"hello (world)!\""),
                       ["he", "said", ",", "``", "hello", "(", "world", ")", "!", "''"])
        XCTAssertEqual(plain.tokenize("He said, \"hello (world)!\""), ["he", "said", "hello", "world"])
        XCTAssertEqual(keepPunctuation.tokenize("'hello' she said"), ["'", "hello", "'", "she", "said"])
        XCTAssertEqual(keepPunctuation.tokenize("wait... what--now $5 & 20% #1 a@b"),
                       ["wait", "...", "what", "--", "now", "$", "5", "&", "20", "%", "#", "1", "a", "@", "b"])
        XCTAssertEqual(keepPunctuation.tokenize("[a]{b}<c>"), ["[", "a", "]", "{", "b", "}", "<", "c", ">"])
        // BoolQ's passages quote LaTeX-style: "(or ``energy returned on energy invested'')."
        XCTAssertEqual(keepPunctuation.tokenize("(or ``energy invested'')."),
                       ["(", "or", "``", "energy", "invested", "''", ")", "."])
        XCTAssertEqual(plain.tokenize("the ``best'' one"), ["the", "best", "one"])
        // Commas and colons inside numbers stay; before anything else they split.
        XCTAssertEqual(keepPunctuation.tokenize("1,000 at 10:30, then: x"), ["1,000", "at", "10:30", ",", "then", ":", "x"])
    }

    func testPeriodsAndAbbreviations() {
        XCTAssertEqual(keepPunctuation.tokenize("The U.S. is big. E.g. here."), ["the", "u.s.", "is", "big", ".", "e.g.", "here", "."])
        XCTAssertEqual(plain.tokenize("It is 3.5 km. Mr. Smith"), ["it", "is", "3.5", "km", "mr", "smith"])
        // Single-letter initials lose their period too (Punkt would keep "c."): the only question of
        // BoolQ dev whose tokens differ from NLTK's.
        XCTAssertEqual(plain.tokenize("does c. botulinum"), ["does", "c", "botulinum"])
        // The notebook's example: odd tokens such as "/prn" and "-n/" survive, pure punctuation goes.
        XCTAssertEqual(plain.tokenize("Persian (/prn, -n/), also"), ["persian", "/prn", "-n/", "also"])
    }

    func testNonASCIIAndCaseOptions() {
        XCTAssertEqual(plain.tokenize("Café naïve – OK"), ["caf", "nave", "ok"])
        let keepAll = WordTokenizer(options: .init(lowercase: false, dropNonASCII: false))
        XCTAssertEqual(keepAll.tokenize("Café – OK"), ["Café", "–", "OK"])
        let whitespace = WordTokenizer(options: .init(treebank: false, dropPunctuation: false))
        XCTAssertEqual(whitespace.tokenize("Don't  stop.\n\tNow"), ["don't", "stop.", "now"])
        XCTAssertEqual(plain.tokenize(""), [])
        XCTAssertEqual(plain.tokenize(" ?! ... -- ``"), [])
    }

    func testDeterministicAndNeverEmpty() {
        let text = "A \"quoted\" (text) -- with: clitics can't, won't; and 1,234.5 numbers... u.s.a. 'em"
        let a = keepPunctuation.tokenize(text)
        XCTAssertEqual(a, keepPunctuation.tokenize(text))
        XCTAssertFalse(a.contains { $0.isEmpty || $0.contains(" ") })
    }
}

final class WordVectorsTests: XCTestCase {
    func testReadsFixtureFirstDuplicateWins() throws {
        let v = try WordVectors(path: TextFixtures.path("glove_tiny.txt"))
        XCTAssertEqual(v.count, 30)
        XCTAssertEqual(v.dimension, 4)
        XCTAssertEqual(v.matrix.shape, [30, 4])
        XCTAssertEqual(v.duplicateCount, 1)
        XCTAssertEqual(v.index(of: "the"), 0)
        XCTAssertEqual(Array(v.vector(at: 0)), [1, 0.5, -0.25, 0.125])
        XCTAssertEqual(v.index(of: "n't"), 5)
        XCTAssertNil(v.index(of: "The"))
        let limited = try WordVectors(path: TextFixtures.path("glove_tiny.txt"), limit: 5)
        XCTAssertEqual(limited.words, ["the", "is", "a", "of", "do"])
        XCTAssertEqual(limited.matrix.storage, Array(v.matrix.storage.prefix(20)))
    }

    func testGzipCopyReadsTheSame() throws {
        let gzip = "/bin/gzip"
        guard FileManager.default.isExecutableFile(atPath: gzip) else { throw XCTSkip("no \(gzip) to make a .gz fixture") }
        let folder = try TextFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let copy = folder + "/glove_tiny.txt"
        try FileManager.default.copyItem(atPath: try TextFixtures.path("glove_tiny.txt"), toPath: copy)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gzip)
        process.arguments = ["-n", copy]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let fromGzip = try WordVectors(path: copy + ".gz")
        XCTAssertEqual(fromGzip, try WordVectors(path: TextFixtures.path("glove_tiny.txt")))
        // A truncated .gz is an error naming the file, not a shorter vocabulary.
        let bytes = try AtomicFile.contents(of: copy + ".gz")
        XCTAssertThrowsError(try WordVectors(bytes: Array(bytes.dropLast(10)), path: "cut.gz")) { error in
            guard case .file(let path, nil, _) = error as? DatasetError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "cut.gz")
        }
    }

    func testBadLinesNameTheLine() {
        func expect(_ text: String, line: Int?, _ fragment: String, file: StaticString = #filePath, at: UInt = #line) {
            XCTAssertThrowsError(try WordVectors(bytes: Array(text.utf8), path: "v.txt"), file: file, line: at) { error in
                guard case .file(let path, let l, let message) = error as? DatasetError else { return XCTFail("\(error)", file: file, line: at) }
                XCTAssertEqual(path, "v.txt", file: file, line: at)
                XCTAssertEqual(l, line, file: file, line: at)
                XCTAssert(message.contains(fragment), "\(message)", file: file, line: at)
            }
        }
        expect("a 1 2\nb 1\n", line: 2, "1 values, expected 2")
        expect("a 1 2\n\nb 1 2 3\n", line: 3, "3 values, expected 2")
        expect("a 1 2\nb 1 nan\n", line: 2, "value 2 of \"b\" is not a finite number")
        expect("a 1 2\nb 1 1e99\n", line: 2, "not a finite number")
        expect("a 1 2\nb 1 0x10\n", line: 2, "not a finite number")
        expect("a 1  2\n", line: 1, "empty field")
        expect("a\n", line: 1, "a word with no values")
        expect("", line: nil, "no word vectors")
        // Windows line ends and trailing spaces are tolerated; blank lines skipped.
        XCTAssertEqual(try WordVectors(bytes: Array("a 1 2 \r\n\nb -3e-1 +4.\r\n".utf8), path: "v").matrix.storage, [1, 2, -0.3, 4])
        XCTAssertThrowsError(try WordVectors(path: "/nonexistent/vectors.txt")) { error in
            guard case .file(let path, nil, _) = error as? DatasetError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "/nonexistent/vectors.txt")
        }
    }
}

final class JSONLReaderTests: XCTestCase {
    private func expect(_ text: String, questionsOnly: Bool = false, line: Int, _ message: String,
                        file: StaticString = #filePath, at: UInt = #line) {
        XCTAssertThrowsError(try BoolQReader(questionsOnly: questionsOnly).parse(bytes: Array(text.utf8), path: "b.jsonl"),
                             file: file, line: at) { error in
            guard case .file("b.jsonl", line, let m) = error as? DatasetError else { return XCTFail("\(error)", file: file, line: at) }
            XCTAssert(m.contains(message), "\(m)", file: file, line: at)
        }
    }

    func testBoolQFixtureAndErrors() throws {
        let train = try BoolQReader().read(path: TextFixtures.path("boolq_train.jsonl"))
        XCTAssertEqual(train.count, 4)
        XCTAssertEqual(train.map(\.answer), [true, true, false, true])
        XCTAssertEqual(train[1].question, "Is the sky blue?")
        XCTAssertEqual(train.map(\.line), [1, 2, 3, 4])
        let badPath = try TextFixtures.path("boolq_bad.jsonl")
        XCTAssertThrowsError(try BoolQReader().read(path: badPath)) { error in
            XCTAssertEqual(error as? DatasetError, .file(path: badPath, line: 3, message: "'answer' must be true or false, found a string"))
            XCTAssertEqual("\(error)", "\(badPath):3: 'answer' must be true or false, found a string")
        }
        expect("{\"question\": \"q\", \"passage\": \"p\", \"answer\": 1}", line: 1, "'answer' must be true or false, found a number")
        expect("\n\n{\"question\": \"q\", \"passage\": \"p\"}", line: 3, "'answer' must be true or false (missing)")
        expect("{\"question\": 7, \"passage\": \"p\", \"answer\": true}", line: 1, "'question' must be a string, found a number")
        expect("{\"question\": \"q\", \"answer\": true}", line: 1, "'passage' is missing")
        expect("{\"question\": \"q\", \"passage\": null, \"answer\": true}", questionsOnly: true, line: 1, "'passage' must be a string, found null")
        expect("{\"question\": \"q\"", line: 1, "not a JSON object")
        expect("[1, 2]", line: 1, "not a JSON object")
        let questions = try BoolQReader(questionsOnly: true).parse(bytes: Array("{\"question\": \"q\", \"answer\": false}\n".utf8), path: "b")
        XCTAssertEqual(questions, [BoolQExample(question: "q", passage: nil, answer: false, line: 1)])
    }

    func testClaimsLabelMappingIsSortedAndStable() throws {
        let path = try TextFixtures.path("claims_train.jsonl")
        let examples = try ClaimEvidenceReader().read(path: path)
        XCTAssertEqual(examples.count, 4)
        let mapping = try LabelMapping(fitting: examples)
        XCTAssertEqual(mapping.names, ["NOT_ENOUGH_INFO", "REFUTES", "SUPPORTS"])
        XCTAssertEqual(mapping.description, "0=NOT_ENOUGH_INFO, 1=REFUTES, 2=SUPPORTS")
        XCTAssertEqual(try mapping.ids(of: examples, path: path), [2, 1, 0, 2])
        XCTAssertEqual(try LabelMapping(fitting: examples.reversed()), mapping)
        let given = try LabelMapping(names: ["SUPPORTS", "REFUTES", "NOT_ENOUGH_INFO"])
        XCTAssertEqual(try given.ids(of: examples, path: path), [0, 1, 2, 0])
        // Unknown names and out-of-range ids name the line.
        let partial = try LabelMapping(names: ["SUPPORTS", "REFUTES"])
        XCTAssertThrowsError(try partial.ids(of: examples, path: path)) { error in
            XCTAssertEqual(error as? DatasetError, .file(path: path, line: 3, message: "'label' \"NOT_ENOUGH_INFO\" is not one of SUPPORTS, REFUTES"))
        }
        let numeric = try ClaimEvidenceReader().parse(bytes: Array("{\"claim\":\"a\",\"evidence\":\"b\",\"label\":2}\n\n{\"claim\":\"a\",\"evidence\":\"b\",\"label\":0}".utf8), path: "n")
        XCTAssertEqual(numeric.map(\.label), [.id(2), .id(0)])
        XCTAssertEqual(numeric.map(\.line), [1, 3])
        XCTAssertEqual(try LabelMapping(fitting: numeric).names, ["0", "1", "2"])
        XCTAssertThrowsError(try partial.ids(of: numeric, path: "n")) { error in
            XCTAssertEqual(error as? DatasetError, .file(path: "n", line: 1, message: "'label' 2 is outside 0..<2"))
        }
        XCTAssertThrowsError(try LabelMapping(names: ["a", "a"]))
    }

    func testClaimBadLines() throws {
        let bad = try TextFixtures.path("claims_bad.jsonl")
        XCTAssertThrowsError(try ClaimEvidenceReader().read(path: bad)) { error in
            XCTAssertEqual(error as? DatasetError, .file(path: bad, line: 3, message: "'label' is missing"))
        }
        func expect(_ line: String, _ message: String, at: UInt = #line) {
            XCTAssertThrowsError(try ClaimEvidenceReader().parse(bytes: Array(line.utf8), path: "c"), line: at) { error in
                XCTAssertEqual(error as? DatasetError, .file(path: "c", line: 1, message: message), line: at)
            }
        }
        expect("{\"claim\":\"a\",\"evidence\":\"b\",\"label\":1.5}", "'label' must be a class name or a non-negative integer, found a number")
        expect("{\"claim\":\"a\",\"evidence\":\"b\",\"label\":-1}", "'label' must be a class name or a non-negative integer, found a number")
        expect("{\"claim\":\"a\",\"evidence\":\"b\",\"label\":true}", "'label' must be a class name or a non-negative integer, found a boolean")
        expect("{\"claim\":\"a\",\"evidence\":\"b\",\"label\":\"\"}", "'label' must not be an empty string")
        expect("{\"claim\":\"a\",\"label\":\"X\"}", "'evidence' is missing")
        expect("{\"claim\":[1],\"evidence\":\"b\",\"label\":\"X\"}", "'claim' must be a string, found an array or object")
    }
}
