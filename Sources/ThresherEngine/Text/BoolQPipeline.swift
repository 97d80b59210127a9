import Foundation

/// Settings of W1 steps 1–7. Everything that changes the pipeline's output is here, so that
/// `cacheDescription` (part of the preprocessing cache key) covers it.
public struct BoolQPipelineSettings: Sendable, Equatable, Codable {
    /// How the passage percentile becomes an integer cut length.
    public enum Rounding: String, Sendable, Equatable, Codable {
        /// ⌊percentile⌋: the notebook's `int(np.percentile(lengths, 99))`. The default.
        case down
        /// ⌈percentile⌉: never cuts a passage at exactly the percentile length.
        case up
    }

    /// Steps 1–3.
    public var tokenizer: WordTokenizer.Options
    /// Step 5: the percentile (0…100) of training passage lengths that becomes the cut length.
    public var passagePercentile: Double
    public var passageCutRounding: Rounding
    /// Step 6: zero vectors between question and passage.
    public var separatorLength: Int

    public init(tokenizer: WordTokenizer.Options = .init(), passagePercentile: Double = 99,
                passageCutRounding: Rounding = .down, separatorLength: Int = 8) {
        self.tokenizer = tokenizer
        self.passagePercentile = passagePercentile
        self.passageCutRounding = passageCutRounding
        self.separatorLength = separatorLength
    }

    /// A stable one-line rendering of every setting (cache keys, metadata, reports).
    public var cacheDescription: String {
        "\(tokenizer.cacheDescription),passagePercentile=\(passagePercentile),rounding=\(passageCutRounding.rawValue),separator=\(separatorLength)"
    }
}

/// Where the BoolQ examples come from.
public enum BoolQSource: Sendable, Equatable {
    /// One file cut into train / validation / test by a seeded permutation: the rows 0..<N are
    /// shuffled with `EngineRandom(seed: seed, stream: DatasetSplit.randomStream)` (the same
    /// Fisher–Yates shuffle `DatasetSplit` uses), the first `trainCount` shuffled rows are train, the
    /// next `validationCount` validation and the rest test (kept in shuffled order). On these machines:
    /// `dev.jsonl` (3,270 rows) with 2,270 / 500 and the remaining 500 as test.
    case seededSplit(path: String, trainCount: Int, validationCount: Int, seed: UInt64)
    /// Separate files: the original W1 split (train, last 1,000 train rows as validation, dev as test).
    case files(train: String, validation: String?, test: String?)

    /// The W1 split used on these machines.
    public static func w1Dev(path: String, seed: UInt64 = 0) -> BoolQSource {
        .seededSplit(path: path, trainCount: 2270, validationCount: 500, seed: seed)
    }

    /// Every file read, in a fixed order.
    public var paths: [String] {
        switch self {
        case .seededSplit(let path, _, _, _): [path]
        case .files(let train, let validation, let test): [train] + [validation, test].compactMap { $0 }
        }
    }

    /// The split itself (not the file contents) in one line, part of the cache key.
    public var cacheDescription: String {
        switch self {
        case let .seededSplit(_, train, validation, seed): "seededSplit(train=\(train),validation=\(validation),seed=\(seed))"
        case let .files(_, validation, test): "files(validation=\(validation != nil),test=\(test != nil))"
        }
    }
}

/// What the pipeline measured and fitted; a person reads `summary`.
public struct BoolQPipelineReport: Sendable, Equatable, Codable {
    public var trainCount = 0, validationCount = 0, testCount = 0
    /// Longest training question in kept tokens: every question is padded (or truncated) to this.
    public var questionPad = 0
    public var separatorLength = 0
    /// The passage cut length fitted on training passages.
    public var passageCut = 0
    /// Sequence length T = questionPad + separatorLength + passageCut, and vector width D.
    public var steps = 0, dimension = 0
    /// Tokens after steps 1–3 over all splits, and how many of them had no vector (dropped).
    public var tokens = 0, outOfVocabulary = 0
    /// Examples whose passage was longer than the cut (averaged) / question longer than the pad (truncated).
    public var truncatedPassages = 0, truncatedQuestions = 0
    public var split = ""

    public var oovRate: Double { tokens == 0 ? 0 : Double(outOfVocabulary) / Double(tokens) }

    public var summary: String {
        let rate = (oovRate * 10000).rounded() / 100
        return "BoolQ \(split): train \(trainCount), validation \(validationCount), test \(testCount); "
            + "T = \(questionPad) + \(separatorLength) + \(passageCut) = \(steps), D = \(dimension); "
            + "OOV \(outOfVocabulary) of \(tokens) tokens (\(rate)%); "
            + "\(truncatedPassages) passages averaged past the cut, \(truncatedQuestions) questions truncated"
    }
}

/// The datasets and the report of one pipeline run.
public struct BoolQPipelineOutput: Sendable, Equatable {
    public var splits: DatasetSplits
    public var report: BoolQPipelineReport
}

/// W1 steps 4–7: tokens → GloVe vectors → fixed-size [T, D] sequences.
///
/// Guarantees (all fitting uses the TRAIN split only, so validation and test never leak into it):
/// - Step 4: each token is looked up exactly (after steps 1–3) in `WordVectors`; a token without a
///   vector is dropped and counted in `outOfVocabulary`. Lengths below are in kept tokens.
/// - Step 5: `passageCut` = the `passagePercentile` of the training passage lengths by numpy's
///   default method (linear interpolation between the two nearest ranks: with sorted lengths
///   L[0…n−1] and h = (n−1)·p/100, L[⌊h⌋] + (h−⌊h⌋)·(L[⌊h⌋+1] − L[⌊h⌋])), rounded down (the
///   notebook's `int(...)`) or up, and at least 1. A passage longer than the cut keeps its first
///   cut−1 vectors, and its last kept vector (position cut−1) becomes the mean of positions
///   cut−1 … end, i.e. of itself and every vector cut off — exactly the notebook's
///   `passage[cut-1] = mean(passage[cut-1:])`.
/// - Step 6: `questionPad` = the longest training question. Questions are padded with zero vectors
///   to it; a validation or test question longer than that is truncated to its first `questionPad`
///   vectors (the notebook had no rule: such a question would have produced a wrongly sized input).
///   Then `separatorLength` zero vectors, then the passage padded with zeros to `passageCut`.
/// - Step 7: example i is x[i] = question ++ separator ++ passage, T = questionPad +
///   separatorLength + passageCut steps of D floats; label = answer ? 1 : 0; 2 classes.
///   lengths[i] = questionPad + separatorLength + (kept passage length), at least 1: the GRU stops
///   after the passage's last real vector. The question's own padding and the separator stay
///   inside the length on purpose, so the model sees the same layout as the notebook (question
///   block of fixed width, then the passage); only the trailing passage padding is skipped.
///   An empty passage gives length questionPad + separatorLength.
public enum BoolQPipeline {
    /// Reads the source's files and runs the pipeline.
    public static func run(source: BoolQSource, vectors: WordVectors,
                           settings: BoolQPipelineSettings = .init()) throws(DatasetError) -> BoolQPipelineOutput {
        var bytes: [String: [UInt8]] = [:]
        for path in source.paths { bytes[path] = try WordVectors.fileBytes(path) }
        return try run(source: source, fileBytes: bytes, vectors: vectors, settings: settings)
    }

    /// As `run(source:vectors:settings:)` with the files' contents already read (the cache hashes
    /// exactly the bytes it then parses).
    static func run(source: BoolQSource, fileBytes: [String: [UInt8]], vectors: WordVectors,
                    settings: BoolQPipelineSettings) throws(DatasetError) -> BoolQPipelineOutput {
        let reader = BoolQReader()
        func examples(_ path: String) throws(DatasetError) -> [BoolQExample] {
            guard let bytes = fileBytes[path] else { throw .file(path: path, line: nil, message: "not read") }
            return try reader.parse(bytes: bytes, path: path)
        }
        switch source {
        case let .seededSplit(path, trainCount, validationCount, seed):
            let all = try examples(path)
            let (train, validation, test) = try seededSplit(count: all.count, trainCount: trainCount,
                                                            validationCount: validationCount, seed: seed)
            let name = (path as NSString).lastPathComponent
            return try run(train: train.map { all[$0] }, validation: validation.map { all[$0] },
                           test: test.isEmpty ? nil : test.map { all[$0] }, vectors: vectors, settings: settings,
                           split: "\(name) (\(all.count) rows) split by seed \(seed)")
        case let .files(trainPath, validationPath, testPath):
            let train = try examples(trainPath)
            var validation: [BoolQExample]?
            var test: [BoolQExample]?
            if let validationPath { validation = try examples(validationPath) }
            if let testPath { test = try examples(testPath) }
            let names = [trainPath, validationPath, testPath].map { $0.map { ($0 as NSString).lastPathComponent } ?? "-" }
            return try run(train: train, validation: validation, test: test, vectors: vectors, settings: settings,
                           split: "files \(names.joined(separator: " / "))")
        }
    }

    /// The seeded permutation split of `BoolQSource.seededSplit` (train, validation, test indices).
    public static func seededSplit(count: Int, trainCount: Int, validationCount: Int,
                                   seed: UInt64) throws(DatasetError) -> ([Int], [Int], [Int]) {
        guard trainCount >= 1, validationCount >= 0, trainCount + validationCount <= count else {
            throw .invalid("cannot take \(trainCount) train and \(validationCount) validation rows from \(count)")
        }
        var order = Array(0..<count)
        var random = EngineRandom(seed: seed, stream: DatasetSplit.randomStream)
        random.shuffle(&order)
        return (Array(order[0..<trainCount]), Array(order[trainCount..<(trainCount + validationCount)]),
                Array(order[(trainCount + validationCount)...]))
    }

    /// Runs steps 1–7 on examples already split. Every example needs a passage.
    public static func run(train: [BoolQExample], validation: [BoolQExample]?, test: [BoolQExample]?,
                           vectors: WordVectors, settings: BoolQPipelineSettings = .init(),
                           split: String = "given splits") throws(DatasetError) -> BoolQPipelineOutput {
        guard !train.isEmpty else { throw .invalid("BoolQ: the training split is empty") }
        guard settings.separatorLength >= 0 else { throw .invalid("separator length must be ≥ 0, got \(settings.separatorLength)") }
        guard (0...100).contains(settings.passagePercentile) else {
            throw .invalid("passage percentile must be in 0…100, got \(settings.passagePercentile)")
        }
        let tokenizer = WordTokenizer(options: settings.tokenizer)
        var report = BoolQPipelineReport()
        report.split = split
        report.separatorLength = settings.separatorLength
        report.dimension = vectors.dimension

        // Step 4 for every split first: fitting needs the kept-token lengths.
        func embed(_ text: String) -> [Int] {
            let tokens = tokenizer.tokenize(text)
            report.tokens += tokens.count
            var kept: [Int] = []
            kept.reserveCapacity(tokens.count)
            for t in tokens {
                if let i = vectors.index(of: t) { kept.append(i) } else { report.outOfVocabulary += 1 }
            }
            return kept
        }
        func embedAll(_ examples: [BoolQExample]) throws(DatasetError) -> [(q: [Int], p: [Int], label: Int)] {
            var out: [(q: [Int], p: [Int], label: Int)] = []
            out.reserveCapacity(examples.count)
            for e in examples {
                guard let passage = e.passage else {
                    throw .invalid("BoolQ example from line \(e.line) has no passage; the pipeline needs passages")
                }
                out.append((embed(e.question), embed(passage), e.answer ? 1 : 0))
            }
            return out
        }
        let trainIDs = try embedAll(train)
        let validationIDs = try validation.map { (v) throws(DatasetError) in try embedAll(v) }
        let testIDs = try test.map { (t) throws(DatasetError) in try embedAll(t) }

        // Steps 5–6: fit on train only.
        report.questionPad = trainIDs.map(\.q.count).max() ?? 0
        let percentile = Self.percentile(trainIDs.map(\.p.count), settings.passagePercentile)
        let rounded = settings.passageCutRounding == .down ? percentile.rounded(.down) : percentile.rounded(.up)
        report.passageCut = max(1, Int(rounded))
        report.steps = report.questionPad + report.separatorLength + report.passageCut

        func dataset(_ ids: [(q: [Int], p: [Int], label: Int)]) throws(DatasetError) -> ClassificationDataset {
            let x = layout(ids, report: &report, vectors: vectors)
            return try ClassificationDataset(inputs: .sequences(x.tensor, lengths: x.lengths), labels: ids.map(\.label),
                                             classCount: 2)
        }
        let trainSet = try dataset(trainIDs)
        let validationSet = try validationIDs.map { (v) throws(DatasetError) in try dataset(v) }
        let testSet = try testIDs.map { (t) throws(DatasetError) in try dataset(t) }
        report.trainCount = trainSet.count
        report.validationCount = validationSet?.count ?? 0
        report.testCount = testSet?.count ?? 0
        let splits = try DatasetSplits(train: trainSet, validation: validationSet, test: testSet, description: report.summary)
        return BoolQPipelineOutput(splits: splits, report: report)
    }

    /// numpy's default (`method="linear"`) percentile of `values`; 0 for no values. The floating-point
    /// steps follow numpy's so the result is bit-identical and rounding to a cut length agrees:
    /// h = (n−1)·(p/100), and the interpolation is a + (b−a)·t for t < 0.5, b − (b−a)·(1−t) otherwise.
    public static func percentile(_ values: [Int], _ p: Double) -> Double {
        let sorted = values.sorted()
        guard let first = sorted.first else { return 0 }
        guard sorted.count > 1 else { return Double(first) }
        let h = Double(sorted.count - 1) * (p / 100)
        let lo = min(max(Int(h.rounded(.down)), 0), sorted.count - 1)
        let hi = min(lo + 1, sorted.count - 1)
        let a = Double(sorted[lo]), b = Double(sorted[hi]), t = h - Double(lo)
        return t < 0.5 ? a + (b - a) * t : b - (b - a) * (1 - t)
    }

    /// Step 7's layout of embedded examples into [N, T, D] with lengths (see the type's documentation).
    static func layout(_ ids: [(q: [Int], p: [Int], label: Int)], report: inout BoolQPipelineReport,
                       vectors: WordVectors) -> (tensor: Tensor, lengths: [Int]) {
        let d = vectors.dimension, t = report.steps, qPad = report.questionPad, cut = report.passageCut
        let passageStart = qPad + report.separatorLength
        var storage = [Float](repeating: 0, count: ids.count * t * d)
        var lengths: [Int] = []
        lengths.reserveCapacity(ids.count)
        let source = vectors.matrix.storage
        storage.withUnsafeMutableBufferPointer { out in
            source.withUnsafeBufferPointer { m in
                func copy(row: Int, to step: Int, example: Int) {
                    let dst = (example * t + step) * d
                    for k in 0..<d { out[dst + k] = m[row * d + k] }
                }
                for (n, e) in ids.enumerated() {
                    if e.q.count > qPad { report.truncatedQuestions += 1 }
                    for (s, row) in e.q.prefix(qPad).enumerated() { copy(row: row, to: s, example: n) }
                    let kept = min(e.p.count, cut)
                    for (s, row) in e.p.prefix(kept).enumerated() { copy(row: row, to: passageStart + s, example: n) }
                    if e.p.count > cut {
                        // Last kept vector := mean of positions cut−1 … end (itself and all cut vectors),
                        // summed in Double so the mean does not depend on float accumulation error.
                        report.truncatedPassages += 1
                        var sum = [Double](repeating: 0, count: d)
                        for row in e.p[(cut - 1)...] { for k in 0..<d { sum[k] += Double(m[row * d + k]) } }
                        let count = Double(e.p.count - cut + 1)
                        let dst = (n * t + passageStart + cut - 1) * d
                        for k in 0..<d { out[dst + k] = Float(sum[k] / count) }
                    }
                    lengths.append(max(1, passageStart + kept))
                }
            }
        }
        let tensor = Tensor(shape: [ids.count, t, d], storage: storage) ?? Tensor(zeros: [ids.count, t, d])
        return (tensor, lengths)
    }
}
