/// Index sets of a train/validation/test split.
///
/// Guarantees: the three index lists are disjoint, together cover 0..<count exactly once, and
/// depend only on (count, fractions, seed): the indices are shuffled with `EngineRandom(seed:
/// seed, stream: DatasetSplit.randomStream)` and cut in order (train first); sizes are ⌊count·trainFraction⌋,
/// ⌊count·validationFraction⌋ and the rest.
public struct DatasetSplit: Sendable, Equatable {
    public let train: [Int]
    public let validation: [Int]
    public let test: [Int]

    /// Stream id reserved for split shuffling.
    public static let randomStream: UInt64 = 0x5_0171

    /// Fractions must be in [0, 1] with a sum ≤ 1; returns nil otherwise.
    public init?(count: Int, trainFraction: Double = 0.7, validationFraction: Double = 0.15, seed: UInt64) {
        guard count >= 0, trainFraction >= 0, validationFraction >= 0,
              trainFraction + validationFraction <= 1 + 1e-12 else { return nil }
        var order = Array(0..<count)
        var random = EngineRandom(seed: seed, stream: Self.randomStream)
        random.shuffle(&order)
        let nTrain = Int((Double(count) * trainFraction).rounded(.down))
        let nVal = min(count - nTrain, Int((Double(count) * validationFraction).rounded(.down)))
        train = Array(order[0..<nTrain])
        validation = Array(order[nTrain..<(nTrain + nVal)])
        test = Array(order[(nTrain + nVal)...])
    }
}

/// Mini-batch index lists for one epoch.
///
/// Guarantees: each epoch's batches cover 0..<count exactly once; all batches have `batchSize`
/// indices except possibly the last (kept, smaller). With `shuffle`, the order is a function of
/// (seed, epoch) only: `EngineRandom(seed: seed, stream: randomStream &+ epoch)`; without it,
/// the order is 0, 1, 2, ….
public struct BatchIterator: Sendable, Equatable {
    public let count: Int
    public let batchSize: Int
    public let shuffle: Bool
    public let seed: UInt64

    public static let randomStream: UInt64 = 0xBA7C_0000

    /// Returns nil for a non-positive batch size or negative count.
    public init?(count: Int, batchSize: Int, shuffle: Bool = true, seed: UInt64) {
        guard count >= 0, batchSize > 0 else { return nil }
        self.count = count
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
    }

    public var batchesPerEpoch: Int { (count + batchSize - 1) / batchSize }

    /// The batches of `epoch` (0-based).
    public func batches(epoch: Int) -> [[Int]] {
        var order = Array(0..<count)
        if shuffle {
            var random = EngineRandom(seed: seed, stream: Self.randomStream &+ UInt64(truncatingIfNeeded: epoch))
            random.shuffle(&order)
        }
        return stride(from: 0, to: count, by: batchSize).map { Array(order[$0..<min($0 + batchSize, count)]) }
    }
}

/// Per-feature standardisation (x − mean) / std with statistics from one table (fit on the
/// training split only). Constant features get std 1 so they map to 0, never NaN.
public struct Standardizer: Sendable, Equatable {
    public let mean: [Float]
    public let std: [Float]

    /// Population mean and standard deviation of each column of `features` [N, F].
    public init(fitting features: Tensor) {
        let n = features.rank == 2 ? features.shape[0] : 0
        let f = features.rank == 2 ? features.shape[1] : 0
        var mean = [Double](repeating: 0, count: f)
        var sq = [Double](repeating: 0, count: f)
        for i in 0..<n { for j in 0..<f { mean[j] += Double(features.storage[i * f + j]) } }
        for j in 0..<f { mean[j] /= Double(max(n, 1)) }
        for i in 0..<n { for j in 0..<f { let d = Double(features.storage[i * f + j]) - mean[j]; sq[j] += d * d } }
        self.mean = mean.map(Float.init)
        self.std = sq.map { let s = ($0 / Double(max(n, 1))).squareRoot(); return s > 1e-12 ? Float(s) : 1 }
    }

    /// Standardises `features` [N, F] with F == mean.count.
    public func apply(_ features: Tensor) -> Tensor {
        var out = features
        let f = mean.count
        guard f > 0 else { return out }
        for i in 0..<out.count { out.storage[i] = (out.storage[i] - mean[i % f]) / std[i % f] }
        return out
    }
}
