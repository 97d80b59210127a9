import Foundation
import XCTest
@testable import ThresherEngine

/// The preprocessing cache keys on inputs and settings, not on the code: if the tokenizer or the
/// W1 pipeline starts producing different output, old cache entries would be served as if nothing
/// changed — the notebook's bug. This test pins a digest of the pipeline's output on fixed inputs
/// together with `PreprocessingCache.formatVersion`; when it fails, bump the version (old entries
/// then miss) and record the new digest here.
final class PipelineRevisionTests: XCTestCase {
    static let pinned: (version: Int, digest: String) = (3, "967bfdc82232d8c0ec185f73924ce4af38c1387b037ffefd1bcb63e478bdf762")

    func testPipelineOutputIsPinnedToTheCacheFormatVersion() throws {
        let source = BoolQSource.files(train: try TextFixtures.path("boolq_train.jsonl"),
                                       validation: try TextFixtures.path("boolq_val.jsonl"),
                                       test: try TextFixtures.path("boolq_test.jsonl"))
        let vectors = try WordVectors(path: try TextFixtures.path("glove_tiny.txt"))
        let output = try BoolQPipeline.run(source: source, vectors: vectors)
        let hash = CacheKeyHasher()
        for split in [output.splits.train, output.splits.validation, output.splits.test].compactMap({ $0 }) {
            guard case .sequences(let x, let lengths) = split.inputs else { return XCTFail("W1 gives sequences") }
            hash.field(x.shape.map(String.init).joined(separator: ","))
            hash.field(x.storage)
            hash.field(lengths.map(String.init).joined(separator: ","))
            hash.field(split.labels.map(String.init).joined(separator: ","))
        }
        let samples = [
            "Don't you think it's \"odd\"? ``Quoted'' text -- and (brackets), e.g. U.S. etc.",
            "Can't, won't; they'll go... 'Tom' isn't here! Café naïve 3.14 $5 50% #1 a/b",
        ]
        for s in samples { hash.field(WordTokenizer().tokenize(s).joined(separator: "\u{1F}")) }
        let digest = hash.hex()
        XCTAssertEqual(PreprocessingCache.formatVersion, Self.pinned.version,
                       "formatVersion changed: record the pipeline digest for it here (now \(digest))")
        XCTAssertEqual(digest, Self.pinned.digest,
                       "the W1 pipeline's output changed: bump PreprocessingCache.formatVersion and pin \(digest)")
    }
}
