import Foundation
import XCTest
@testable import ThresherEngine

final class PreprocessingCacheTests: XCTestCase {
    private var folder = ""
    private var inputs = ""

    override func setUpWithError() throws {
        folder = try TextFixtures.temporaryFolder()
        inputs = folder + "/inputs"
        try FileManager.default.createDirectory(atPath: inputs, withIntermediateDirectories: true)
        for name in ["boolq_train.jsonl", "boolq_val.jsonl", "boolq_test.jsonl", "glove_tiny.txt"] {
            try FileManager.default.copyItem(atPath: try TextFixtures.path(name), toPath: "\(inputs)/\(name)")
        }
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    private var source: BoolQSource {
        .files(train: "\(inputs)/boolq_train.jsonl", validation: "\(inputs)/boolq_val.jsonl", test: "\(inputs)/boolq_test.jsonl")
    }

    private func lookup(_ settings: BoolQPipelineSettings = .init(), source: BoolQSource? = nil,
                        limit: Int? = nil) throws -> BoolQCacheResult {
        try PreprocessingCache(folder: folder + "/cache").boolQ(source: source ?? self.source,
                                                               embeddings: "\(inputs)/glove_tiny.txt", limit: limit,
                                                               settings: settings)
    }

    private func editByte(_ path: String, at offset: Int) throws {
        var bytes = try AtomicFile.contents(of: path)
        bytes[offset] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func testHitReturnsTheSameOutputAndStoresTheKey() throws {
        let first = try lookup()
        XCTAssertFalse(first.hit)
        XCTAssertNil(first.writeError)
        XCTAssertEqual(first.key.count, 64)
        XCTAssert(first.path.hasSuffix("boolq-\(first.key).safetensors"))
        let second = try lookup()
        XCTAssertTrue(second.hit)
        XCTAssertEqual(second.key, first.key)
        XCTAssertEqual(second.output, first.output)
        let file = try SafeTensorsFile(contentsOfFile: first.path)
        XCTAssertEqual(file.metadata["thresher.cache.key"], first.key)
        XCTAssertEqual(file.metadata["settings"], BoolQPipelineSettings().cacheDescription)
        XCTAssertEqual(file.tensors["train.x"]?.shape, [4, 30, 4])
        // Same bytes under another path: still a hit (the key is content, not names).
        try FileManager.default.copyItem(atPath: "\(inputs)/boolq_train.jsonl", toPath: "\(inputs)/renamed.jsonl")
        let renamed = try lookup(source: .files(train: "\(inputs)/renamed.jsonl", validation: "\(inputs)/boolq_val.jsonl",
                                                test: "\(inputs)/boolq_test.jsonl"))
        XCTAssertTrue(renamed.hit)
    }

    func testEverySettingAndEveryInputByteMissesTheCache() throws {
        let base = try lookup()
        var keys: Set<String> = [base.key]
        var variants: [BoolQPipelineSettings] = []
        for change in 0..<8 {
            var s = BoolQPipelineSettings()
            switch change {
            case 0: s.tokenizer.lowercase = false
            case 1: s.tokenizer.dropNonASCII = false
            case 2: s.tokenizer.treebank = false
            case 3: s.tokenizer.dropPunctuation = false
            case 4: s.passagePercentile = 95
            case 5: s.passageCutRounding = .up
            case 6: s.separatorLength = 7
            default: s.passagePercentile = 99.5
            }
            variants.append(s)
        }
        for s in variants {
            let r = try lookup(s)
            XCTAssertFalse(r.hit, s.cacheDescription)
            XCTAssertTrue(keys.insert(r.key).inserted, s.cacheDescription)
        }
        // The separator change really changes the stored shapes (what the notebook's cache got wrong).
        XCTAssertEqual(try lookup(variants[6]).output.report.steps, 29)
        XCTAssertTrue(try lookup(variants[6]).hit)

        let limited = try lookup(limit: 29)
        XCTAssertFalse(limited.hit)
        XCTAssertTrue(keys.insert(limited.key).inserted)
        let split = try lookup(source: .seededSplit(path: "\(inputs)/boolq_train.jsonl", trainCount: 2, validationCount: 1, seed: 1))
        let split2 = try lookup(source: .seededSplit(path: "\(inputs)/boolq_train.jsonl", trainCount: 2, validationCount: 1, seed: 2))
        XCTAssertFalse(split.hit || split2.hit)
        XCTAssertTrue(keys.insert(split.key).inserted && keys.insert(split2.key).inserted)

        // One flipped bit in any input file (question text, embedding value) misses.
        for name in ["boolq_val.jsonl", "glove_tiny.txt"] {
            let offset = name == "glove_tiny.txt" ? 4 : 20  // "the 1.0" → "the 0.0"; a question letter
            try editByte("\(inputs)/\(name)", at: offset)
            let r = try lookup()
            XCTAssertFalse(r.hit, name)
            XCTAssertTrue(keys.insert(r.key).inserted, name)
            try editByte("\(inputs)/\(name)", at: offset)
            XCTAssertTrue(try lookup().hit, name)
        }
    }

    func testTruncatedCorruptOrMislabelledFilesAreRecomputed() throws {
        let good = try lookup()
        let bytes = try AtomicFile.contents(of: good.path)
        // Truncated: recomputed, equal to the original, and the file is whole again.
        try Data(bytes.prefix(bytes.count / 2)).write(to: URL(fileURLWithPath: good.path))
        let afterTruncation = try lookup()
        XCTAssertFalse(afterTruncation.hit)
        XCTAssertEqual(afterTruncation.output, good.output)
        XCTAssertEqual(try AtomicFile.contents(of: good.path), bytes)
        XCTAssertTrue(try lookup().hit)
        // A flipped bit in the tensor data (valid safetensors, wrong numbers): the content digest catches it.
        var flipped = bytes
        flipped[flipped.count - 3] ^= 0x40
        try Data(flipped).write(to: URL(fileURLWithPath: good.path))
        let afterFlip = try lookup()
        XCTAssertFalse(afterFlip.hit)
        XCTAssertEqual(afterFlip.output, good.output)
        // Another entry's file under this key's name: the key in the metadata does not match.
        let other = try lookup(BoolQPipelineSettings(separatorLength: 3))
        try FileManager.default.removeItem(atPath: good.path)
        try FileManager.default.copyItem(atPath: other.path, toPath: good.path)
        let afterSwap = try lookup()
        XCTAssertFalse(afterSwap.hit)
        XCTAssertEqual(afterSwap.output.report.steps, 30)
        // Garbage and an empty file.
        try Data("not a safetensors file".utf8).write(to: URL(fileURLWithPath: good.path))
        XCTAssertFalse(try lookup().hit)
        try Data().write(to: URL(fileURLWithPath: good.path))
        XCTAssertFalse(try lookup().hit)
        XCTAssertTrue(try lookup().hit)
    }

    func testUnwritableFolderStillReturnsTheOutput() throws {
        let blocker = folder + "/blocker"
        try Data("file, not folder".utf8).write(to: URL(fileURLWithPath: blocker))
        let r = try PreprocessingCache(folder: blocker + "/cache").boolQ(source: source, embeddings: "\(inputs)/glove_tiny.txt")
        XCTAssertFalse(r.hit)
        XCTAssertNotNil(r.writeError)
        XCTAssertEqual(r.output.report.steps, 30)
    }

    func testSHA256KnownAnswers() {
        let empty = CacheKeyHasher()
        XCTAssertEqual(empty.hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let abc = CacheKeyHasher()
        Array("abc".utf8).withUnsafeBytes { abc.update($0) }
        XCTAssertEqual(abc.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}

final class PairEncodingTests: XCTestCase {
    func testVocabularyIsDeterministic() throws {
        let examples = try ClaimEvidenceReader().read(path: TextFixtures.path("claims_train.jsonl"))
        let vocabulary = Vocabulary(training: examples)
        XCTAssertEqual(Array(vocabulary.words.prefix(3)), ["<pad>", "<unk>", "[SEP]"])
        // Counts: are 4, is 4, animals 3, water 3, cats 2, dogs 2, fuel 2, the 2, wet 2, then the single words by name.
        XCTAssertEqual(Array(vocabulary.words[3..<12]), ["are", "is", "animals", "water", "cats", "dogs", "fuel", "the", "wet"])
        XCTAssertEqual(Array(vocabulary.words[12...]), ["blue", "keep", "not", "people", "sea", "sky", "small", "that"])
        XCTAssertEqual(Vocabulary(training: examples.reversed()), vocabulary)
        XCTAssertEqual(vocabulary.id(of: "are"), 3)
        XCTAssertEqual(vocabulary.id(of: "zebra"), Vocabulary.unknownID)
        let small = Vocabulary(training: examples, minCount: 2, maxSize: 9)
        XCTAssertEqual(small.words, ["<pad>", "<unk>", "[SEP]", "are", "is", "animals", "water", "cats", "dogs"])
        let frequent = Vocabulary(training: examples, minCount: 3)
        XCTAssertEqual(Array(frequent.words.dropFirst(3)), ["are", "is", "animals", "water"])
        let fromVectors = Vocabulary(wordVectors: try WordVectors(path: TextFixtures.path("glove_tiny.txt")), maxSize: 6)
        XCTAssertEqual(fromVectors.words, ["<pad>", "<unk>", "[SEP]", "the", "is", "a"])
        XCTAssertEqual(Vocabulary(orderedWords: ["x", "<unk>", "x", "y"]).words, ["<pad>", "<unk>", "[SEP]", "x", "y"])
    }

    func testEncodingTruncatesEvidenceFirst() throws {
        let vocabulary = Vocabulary(orderedWords: ["cats", "are", "animals", "small", "dogs"])
        let encoder = try PairEncoder(vocabulary: vocabulary, maxLength: 6)
        // "cats are animals" [SEP] "cats are small animals": 3 + 1 + 4 > 6 → evidence keeps 2.
        XCTAssertEqual(encoder.encode(claim: "Cats are animals.", evidence: "Cats are small animals."), [3, 4, 5, 2, 3, 4])
        XCTAssertEqual(encoder.encode(claim: "Dogs?", evidence: "Zebras are."), [7, 2, 1, 4])
        // A claim longer than the row keeps maxLength − 1 claim tokens and [SEP].
        XCTAssertEqual(encoder.encode(claim: "cats are small animals and dogs", evidence: "cats"), [3, 4, 6, 5, 1, 2])
        XCTAssertEqual(encoder.encode(claim: "", evidence: ""), [2])
        XCTAssertThrowsError(try PairEncoder(vocabulary: vocabulary, maxLength: 1))

        let examples = [ClaimEvidenceExample(claim: "Cats are animals.", evidence: "Cats are small animals.", label: .name("S")),
                        ClaimEvidenceExample(claim: "Dogs?", evidence: "", label: .name("R"))]
        let data = try encoder.dataset(examples, labels: [1, 0], classCount: 3)
        guard case .tokens(let ids, let steps, let lengths) = data.inputs else { return XCTFail("\(data.inputs)") }
        XCTAssertEqual(steps, 6)
        XCTAssertEqual(lengths, [6, 2])
        XCTAssertEqual(ids, [3, 4, 5, 2, 3, 4, 7, 2, 0, 0, 0, 0])
        XCTAssertEqual(data.classCount, 3)
        XCTAssertEqual(encoder.truncatedCount(examples), 1)
        XCTAssertThrowsError(try encoder.dataset(examples, labels: [1], classCount: 3))
    }

    func testEmbeddingMatrixRows() throws {
        let vectors = try WordVectors(path: TextFixtures.path("glove_tiny.txt"))
        let vocabulary = Vocabulary(orderedWords: ["cats", "zebra", "the"])
        let (matrix, coverage) = vocabulary.embeddingMatrix(from: vectors, seed: 5)
        XCTAssertEqual(matrix.shape, [6, 4])
        XCTAssertEqual(coverage, EmbeddingCoverage(words: 3, pretrained: 2))
        XCTAssertEqual(coverage.rate, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(Array(matrix.storage[0..<4]), [0, 0, 0, 0])
        XCTAssertEqual(Array(matrix.storage[12..<16]), Array(vectors.vector(at: try XCTUnwrap(vectors.index(of: "cats")))))
        XCTAssertEqual(Array(matrix.storage[20..<24]), [1, 0.5, -0.25, 0.125])
        let random = Array(matrix.storage[4..<12]) + Array(matrix.storage[16..<20])
        XCTAssertFalse(random.contains(0))
        XCTAssertLessThan(random.map { abs($0) }.max() ?? 1, 0.6)
        // Deterministic per (seed, row): same seed same rows, another seed other rows, and a larger
        // vocabulary leaves row 4 ("zebra") unchanged.
        XCTAssertEqual(vocabulary.embeddingMatrix(from: vectors, seed: 5).matrix, matrix)
        XCTAssertNotEqual(vocabulary.embeddingMatrix(from: vectors, seed: 6).matrix, matrix)
        let bigger = Vocabulary(orderedWords: ["cats", "zebra", "the", "okapi"]).embeddingMatrix(from: vectors, seed: 5).matrix
        XCTAssertEqual(Array(bigger.storage[16..<20]), Array(matrix.storage[16..<20]))
    }
}
