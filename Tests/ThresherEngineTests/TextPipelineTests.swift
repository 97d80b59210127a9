import Foundation
import XCTest
@testable import ThresherEngine

/// W1 steps 4–7 on the fixture files. Kept-token lengths of the fixture (tiny GloVe, 30 words):
/// train questions 8, 4, 3, 4; train passages 10, 7, 6, 15 (OOV: "spoken", "in", "zzz", "qqq");
/// so questionPad 8, 99th percentile of [6, 7, 10, 15] = 10 + 0.97·5 = 14.85 → cut 14, T = 8 + 8 + 14.
final class TextPipelineTests: XCTestCase {
    private func source() throws -> BoolQSource {
        .files(train: try TextFixtures.path("boolq_train.jsonl"), validation: try TextFixtures.path("boolq_val.jsonl"),
               test: try TextFixtures.path("boolq_test.jsonl"))
    }

    private func sequences(_ set: ClassificationDataset?) throws -> (x: Tensor, lengths: [Int]) {
        guard case .sequences(let x, let lengths)? = set?.inputs else { throw XCTSkip("not sequences") }
        return (x, lengths)
    }

    /// Row `step` of example `n` in x [N, T, D].
    private func row(_ x: Tensor, _ n: Int, _ step: Int) -> [Float] {
        let t = x.shape[1], d = x.shape[2]
        return Array(x.storage[((n * t + step) * d)..<((n * t + step + 1) * d)])
    }

    func testPercentileIsNumpyLinear() {
        // Exact values printed by numpy 2.4 (np.percentile, default method): bit-identical.
        XCTAssertEqual(BoolQPipeline.percentile([6, 7, 11, 15], 99), 14.879999999999999)
        XCTAssertEqual(BoolQPipeline.percentile([6, 7, 10, 15], 99), 14.849999999999998)
        let xs = (0..<2270).map { ($0 * 7919) % 401 }
        XCTAssertEqual(BoolQPipeline.percentile(xs, 99), 396.30999999999995)
        XCTAssertEqual(BoolQPipeline.percentile(xs, 95), 380)
        XCTAssertEqual(BoolQPipeline.percentile(xs, 37.3), 149)
        XCTAssertEqual(BoolQPipeline.percentile(xs, 99.9), 400)
        XCTAssertEqual(BoolQPipeline.percentile([15, 6, 11, 7], 50), 9)
        XCTAssertEqual(BoolQPipeline.percentile([1, 2, 3, 4, 5], 100), 5)
        XCTAssertEqual(BoolQPipeline.percentile([1, 2, 3, 4, 5], 0), 1)
        XCTAssertEqual(BoolQPipeline.percentile([4], 99), 4)
        XCTAssertEqual(BoolQPipeline.percentile([], 99), 0)
        // np.percentile(range(1, 101), 99) == 99.01
        XCTAssertEqual(BoolQPipeline.percentile(Array(1...100), 99), 99.01)
    }

    func testFitLayoutLengthsAndOOV() throws {
        let vectors = try WordVectors(path: TextFixtures.path("glove_tiny.txt"))
        let out = try BoolQPipeline.run(source: source(), vectors: vectors)
        let r = out.report
        XCTAssertEqual([r.questionPad, r.separatorLength, r.passageCut, r.steps, r.dimension], [8, 8, 14, 30, 4])
        XCTAssertEqual([r.trainCount, r.validationCount, r.testCount], [4, 2, 1])
        // 61 train + 23 validation + 8 test tokens; OOV: 4 in train, "as" and "unknownword" in validation.
        XCTAssertEqual(r.tokens, 92)
        XCTAssertEqual(r.outOfVocabulary, 6)
        XCTAssertEqual(r.oovRate, 6.0 / 92, accuracy: 1e-12)
        XCTAssertEqual(r.truncatedPassages, 1)
        XCTAssertEqual(r.truncatedQuestions, 1)
        XCTAssert(out.splits.description.contains("T = 8 + 8 + 14 = 30, D = 4"), out.splits.description)

        let train = try sequences(out.splits.train)
        XCTAssertEqual(train.x.shape, [4, 30, 4])
        XCTAssertEqual(train.lengths, [26, 23, 22, 30])
        XCTAssertEqual(out.splits.train.labels, [1, 1, 0, 1])
        XCTAssertEqual(out.splits.train.classCount, 2)
        // Example 0: question "do iran and afghanistan speak the same language" fills steps 0–7 exactly,
        // the separator 8–15 is zero, the passage (10 kept) fills 16–25, padding 26–29 is zero.
        let question = ["do", "iran", "and", "afghanistan", "speak", "the", "same", "language"]
        for (s, w) in question.enumerated() {
            XCTAssertEqual(row(train.x, 0, s), Array(vectors.vector(at: try XCTUnwrap(vectors.index(of: w)))))
        }
        for s in 8..<16 { XCTAssertEqual(row(train.x, 0, s), [0, 0, 0, 0]) }
        XCTAssertEqual(row(train.x, 0, 16), Array(vectors.vector(at: try XCTUnwrap(vectors.index(of: "persian")))))
        XCTAssertEqual(row(train.x, 0, 25), Array(vectors.vector(at: try XCTUnwrap(vectors.index(of: "afghanistan")))))
        for s in 26..<30 { XCTAssertEqual(row(train.x, 0, s), [0, 0, 0, 0]) }
        // Example 1: 4-word question padded with zeros up to step 7 (inside the length, as in the notebook).
        for s in 4..<16 { XCTAssertEqual(row(train.x, 1, s), [0, 0, 0, 0]) }

        // Example 3: 15 kept passage tokens, cut 14: steps 16…28 are tokens 0…12 ("…fuel of"),
        // step 29 = mean of tokens 13 and 14 ("the" = row 1, "u.s." = row 30): (1 + 30) / 2 = 15.5.
        XCTAssertEqual(row(train.x, 3, 28), Array(vectors.vector(at: try XCTUnwrap(vectors.index(of: "of")))))
        XCTAssertEqual(row(train.x, 3, 29), [15.5, 7.75, -3.875, 1.9375])

        // Validation: the 14-token question is truncated to 8; the second passage is empty after OOV.
        let validation = try sequences(out.splits.validation)
        XCTAssertEqual(validation.x.shape, [2, 30, 4])
        XCTAssertEqual(validation.lengths, [19, 16])
        XCTAssertEqual(row(validation.x, 0, 7), Array(vectors.vector(at: try XCTUnwrap(vectors.index(of: "same")))))
        for s in 8..<30 where s != 16 && s != 17 && s != 18 { XCTAssertEqual(row(validation.x, 0, s), [0, 0, 0, 0]) }
        for s in 0..<30 where s >= 4 { XCTAssertEqual(row(validation.x, 1, s), [0, 0, 0, 0]) }
        let test = try sequences(out.splits.test)
        XCTAssertEqual(test.lengths, [20])
        XCTAssertEqual(row(test.x, 0, 1), Array(vectors.vector(at: try XCTUnwrap(vectors.index(of: "n't")))))
        XCTAssertEqual(row(test.x, 0, 17), Array(vectors.vector(at: try XCTUnwrap(vectors.index(of: "ca")))))
    }

    func testSettingsChangeTheFit() throws {
        let vectors = try WordVectors(path: TextFixtures.path("glove_tiny.txt"))
        let up = try BoolQPipeline.run(source: source(), vectors: vectors,
                                       settings: .init(passageCutRounding: .up, separatorLength: 2))
        XCTAssertEqual([up.report.passageCut, up.report.steps, up.report.truncatedPassages], [15, 25, 0])
        XCTAssertEqual(try sequences(up.splits.train).lengths, [20, 17, 16, 25])
        let median = try BoolQPipeline.run(source: source(), vectors: vectors, settings: .init(passagePercentile: 50))
        XCTAssertEqual(median.report.passageCut, 8)  // 7 + 0.5·(10 − 7) = 8.5 → 8
        XCTAssertEqual(median.report.truncatedPassages, 2)  // 10 and 15 in train; validation/test fit
        XCTAssertThrowsError(try BoolQPipeline.run(source: source(), vectors: vectors, settings: .init(passagePercentile: 101)))
        XCTAssertThrowsError(try BoolQPipeline.run(train: [], validation: nil, test: nil, vectors: vectors))
        // The fit uses train only: validation's 14-token question does not widen the pad.
        let noValidation = try BoolQPipeline.run(
            source: .files(train: TextFixtures.path("boolq_train.jsonl"), validation: nil, test: nil), vectors: vectors)
        XCTAssertEqual(noValidation.report.steps, 30)
        XCTAssertNil(noValidation.splits.validation)
    }

    func testSeededSplitOfOneFile() throws {
        let (a, b, c) = try BoolQPipeline.seededSplit(count: 10, trainCount: 6, validationCount: 2, seed: 7)
        XCTAssertEqual([a.count, b.count, c.count], [6, 2, 2])
        XCTAssertEqual(Set(a + b + c), Set(0..<10))
        let again = try BoolQPipeline.seededSplit(count: 10, trainCount: 6, validationCount: 2, seed: 7)
        XCTAssertEqual(again.0, a)
        XCTAssertNotEqual(try BoolQPipeline.seededSplit(count: 10, trainCount: 6, validationCount: 2, seed: 8).0, a)
        XCTAssertThrowsError(try BoolQPipeline.seededSplit(count: 10, trainCount: 9, validationCount: 2, seed: 7))

        let vectors = try WordVectors(path: TextFixtures.path("glove_tiny.txt"))
        let out = try BoolQPipeline.run(source: .seededSplit(path: TextFixtures.path("boolq_train.jsonl"), trainCount: 2,
                                                              validationCount: 1, seed: 3), vectors: vectors)
        XCTAssertEqual([out.report.trainCount, out.report.validationCount, out.report.testCount], [2, 1, 1])
        XCTAssert(out.report.split.contains("split by seed 3"))
    }

    /// W1 on the machines' real data: dev.jsonl split 2,270 / 500 / 500, GloVe 50-d top 20,000.
    func testRealBoolQDevWithGloVe50() throws {
        let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data")
        let dev = data.appendingPathComponent("boolq/dev.jsonl").path
        let glove = data.appendingPathComponent("glove/glove.6B.50d.top20000.txt.gz").path
        guard FileManager.default.fileExists(atPath: dev), FileManager.default.fileExists(atPath: glove) else {
            throw XCTSkip("real W1 data not present (\(dev), \(glove))")
        }
        let started = Date()
        let vectors = try WordVectors(path: glove)
        let loaded = Date()
        let out = try BoolQPipeline.run(source: .w1Dev(path: dev, seed: 0), vectors: vectors)
        let finished = Date()
        XCTAssertEqual(vectors.count, 20000)
        XCTAssertEqual(out.report.dimension, 50)
        XCTAssertEqual([out.report.trainCount, out.report.validationCount, out.report.testCount], [2270, 500, 500])
        XCTAssertEqual(try sequences(out.splits.train).x.shape, [2270, out.report.steps, 50])
        XCTAssertEqual(try sequences(out.splits.test).x.shape, [500, out.report.steps, 50])
        let validation = try XCTUnwrap(out.splits.validation), test = try XCTUnwrap(out.splits.test)
        XCTAssertEqual(out.splits.train.count + validation.count + test.count, 3270)
        XCTAssertLessThan(out.report.oovRate, 0.1)
        print("W1 real: \(out.report.summary)")
        print(String(format: "W1 real: GloVe load %.2f s, pipeline %.2f s", loaded.timeIntervalSince(started),
                     finished.timeIntervalSince(loaded)))
    }
}
