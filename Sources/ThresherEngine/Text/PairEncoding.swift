/// Word ids for W2's pair classifier.
///
/// Guarantees: id 0 is `<pad>`, 1 is `<unk>`, 2 is `[SEP]`, then the words (each once, never one of
/// the three special tokens); `words[id]` is the word of `id`; the same inputs always give the same
/// ids (no dictionary iteration order, no locale).
public struct Vocabulary: Sendable, Equatable {
    public static let padding = "<pad>", unknown = "<unk>", separator = "[SEP]"
    public static let paddingID: Int32 = 0, unknownID: Int32 = 1, separatorID: Int32 = 2

    /// Every token by id, the three special tokens first.
    public let words: [String]
    private let ids: [String: Int32]

    /// The specials followed by `words` in the given order (repeats and special names skipped).
    public init(orderedWords: [String]) {
        var all = [Self.padding, Self.unknown, Self.separator]
        var ids: [String: Int32] = [Self.padding: 0, Self.unknown: 1, Self.separator: 2]
        for w in orderedWords where ids[w] == nil {
            ids[w] = Int32(all.count)
            all.append(w)
        }
        self.words = all
        self.ids = ids
    }

    /// Built from tokenized training texts: words seen at least `minCount` times, most frequent
    /// first, ties broken by the word itself (ascending Unicode scalar order); at most `maxSize`
    /// entries in total including the three specials (nil: no limit).
    public init(trainingTokens texts: [[String]], minCount: Int = 1, maxSize: Int? = nil) {
        var counts: [String: Int] = [:]
        for text in texts { for t in text { counts[t, default: 0] += 1 } }
        var ranked = counts.filter { $0.value >= max(minCount, 1) }.map { ($0.key, $0.value) }
        ranked.sort { a, b in
            a.1 != b.1 ? a.1 > b.1 : a.0.unicodeScalars.lexicographicallyPrecedes(b.0.unicodeScalars)
        }
        var words = ranked.map(\.0).filter { $0 != Self.padding && $0 != Self.unknown && $0 != Self.separator }
        if let maxSize { words = Array(words.prefix(max(0, maxSize - 3))) }
        self.init(orderedWords: words)
    }

    /// Built from the claims and evidence of training pairs, tokenized with `tokenizer`.
    public init(training examples: [ClaimEvidenceExample], tokenizer: WordTokenizer = .init(),
                minCount: Int = 1, maxSize: Int? = nil) {
        self.init(trainingTokens: examples.flatMap { [tokenizer.tokenize($0.claim), tokenizer.tokenize($0.evidence)] },
                  minCount: minCount, maxSize: maxSize)
    }

    /// The words of pretrained vectors, in their file order (the most frequent first for GloVe),
    /// optionally only the first `maxSize − 3`.
    public init(wordVectors: WordVectors, maxSize: Int? = nil) {
        let words = maxSize.map { Array(wordVectors.words.prefix(max(0, $0 - 3))) } ?? wordVectors.words
        self.init(orderedWords: words)
    }

    public var count: Int { words.count }

    /// The id of `word`, `unknownID` when it is not in the vocabulary.
    public func id(of word: String) -> Int32 { ids[word] ?? Self.unknownID }

    /// An embedding table [count, D] for this vocabulary: row i is the pretrained vector of `words[i]`
    /// when `vectors` has it; `<pad>` is all zeros (it is masked by the lengths anyway, and zero keeps
    /// it inert if it is not); every other row (`<unk>`, `[SEP]`, words without a vector) is drawn
    /// from normal(0, `std`), with 0.1 as default — about the spread of GloVe 50-d components, so
    /// new rows neither dominate nor vanish next to pretrained ones. Row i's draws come from
    /// `EngineRandom(seed: seed, stream: embeddingStream + i)`, so they depend only on (seed, i):
    /// adding vectors for other words never changes an unknown row.
    public func embeddingMatrix(from vectors: WordVectors, seed: UInt64, std: Float = 0.1) -> (matrix: Tensor, coverage: EmbeddingCoverage) {
        let d = vectors.dimension
        var storage = [Float](repeating: 0, count: count * d)
        var known = 0
        for (i, word) in words.enumerated() where i != Int(Self.paddingID) {
            if i > Int(Self.separatorID), let row = vectors.index(of: word) {
                known += 1
                for (k, v) in vectors.vector(at: row).enumerated() { storage[i * d + k] = v }
            } else {
                var random = EngineRandom(seed: seed, stream: Self.embeddingStream &+ UInt64(i))
                for k in 0..<d { storage[i * d + k] = random.normal(mean: 0, std: std) }
            }
        }
        let matrix = Tensor(shape: [count, d], storage: storage) ?? Tensor(zeros: [count, d])
        return (matrix, EmbeddingCoverage(words: count - 3, pretrained: known))
    }

    /// Stream ids reserved for embedding rows (row i uses embeddingStream + i).
    public static let embeddingStream: UInt64 = 0xE_4B00_0000
}

/// How many vocabulary words (specials excluded) got a pretrained vector.
public struct EmbeddingCoverage: Sendable, Equatable {
    public var words: Int
    public var pretrained: Int
    public var rate: Double { words == 0 ? 0 : Double(pretrained) / Double(words) }
}

/// Encodes claim/evidence pairs as `claim [SEP] evidence` token ids for the pair classifier.
///
/// Guarantees: each row has exactly `maxLength` ids, the real ones first and `<pad>` (0) after;
/// its length counts the real ids (≥ 1: `[SEP]` is always kept). When a pair is too long the
/// EVIDENCE is truncated first (its tail is dropped), and the claim only when the claim alone
/// does not fit, because the claim is what is being classified and is usually short, while
/// evidence passages are long and their first sentences carry most of the signal.
public struct PairEncoder: Sendable {
    public let vocabulary: Vocabulary
    public let tokenizer: WordTokenizer
    /// Ids per example, T (≥ 2: at least one claim token and `[SEP]`).
    public let maxLength: Int

    public init(vocabulary: Vocabulary, tokenizer: WordTokenizer = .init(), maxLength: Int) throws(DatasetError) {
        guard maxLength >= 2 else { throw .invalid("pair encoding needs maxLength ≥ 2, got \(maxLength)") }
        self.vocabulary = vocabulary
        self.tokenizer = tokenizer
        self.maxLength = maxLength
    }

    /// The real ids of `claim [SEP] evidence`, truncated to `maxLength` (no padding).
    public func encode(claim: String, evidence: String) -> [Int32] {
        let c = tokenizer.tokenize(claim).map(vocabulary.id(of:))
        let e = tokenizer.tokenize(evidence).map(vocabulary.id(of:))
        let budget = maxLength - 1  // one slot for [SEP]
        let keptEvidence = min(e.count, max(0, budget - c.count))
        let keptClaim = min(c.count, budget - keptEvidence)
        return Array(c.prefix(keptClaim)) + [Vocabulary.separatorID] + Array(e.prefix(keptEvidence))
    }

    /// A token dataset [N, maxLength] of `examples` with their class ids (`labels`, one per example).
    public func dataset(_ examples: [ClaimEvidenceExample], labels: [Int], classCount: Int) throws(DatasetError) -> ClassificationDataset {
        guard labels.count == examples.count else {
            throw .invalid("\(examples.count) pairs but \(labels.count) labels")
        }
        var ids: [Int32] = []
        ids.reserveCapacity(examples.count * maxLength)
        var lengths: [Int] = []
        lengths.reserveCapacity(examples.count)
        for e in examples {
            let row = encode(claim: e.claim, evidence: e.evidence)
            ids.append(contentsOf: row)
            ids.append(contentsOf: repeatElement(Vocabulary.paddingID, count: maxLength - row.count))
            lengths.append(row.count)
        }
        return try ClassificationDataset(inputs: .tokens(ids: ids, steps: maxLength, lengths: lengths), labels: labels,
                                         classCount: classCount)
    }

    /// Pairs truncated by `encode` (claim + 1 + evidence tokens > maxLength), for reports.
    public func truncatedCount(_ examples: [ClaimEvidenceExample]) -> Int {
        examples.filter { tokenizer.tokenize($0.claim).count + 1 + tokenizer.tokenize($0.evidence).count > maxLength }.count
    }
}
