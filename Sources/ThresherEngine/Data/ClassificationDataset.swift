import Foundation

/// Labelled examples held in memory, in one of the input forms the models read (`ModelBatch`).
///
/// Guarantees: `labels.count` equals the number of examples in `inputs`, every label lies in
/// 0..<`classCount`, and every length lies in 1...T — the initialiser checks all three, so a
/// batch cut from a dataset is always well formed.
public struct ClassificationDataset: Sendable, Equatable {
    /// The examples: dense rows [N, F], embedded sequences [N, T, D] with lengths, or token ids
    /// (row-major [N, T]) with lengths.
    public enum Inputs: Sendable, Equatable {
        case features(Tensor)
        case sequences(Tensor, lengths: [Int])
        case tokens(ids: [Int32], steps: Int, lengths: [Int])
    }

    public let inputs: Inputs
    public let labels: [Int]
    public let classCount: Int

    public var count: Int { labels.count }

    public init(inputs: Inputs, labels: [Int], classCount: Int) throws(DatasetError) {
        guard classCount >= 2 else { throw .invalid("a classifier needs at least 2 classes, got \(classCount)") }
        if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= classCount }) {
            throw .invalid("label \(labels[bad]) of example \(bad) is outside 0..<\(classCount)")
        }
        let n = labels.count
        switch inputs {
        case .features(let x):
            guard x.rank == 2, x.shape[0] == n else { throw .invalid("features must be [\(n), F], got \(x.shape)") }
        case .sequences(let x, let lengths):
            guard x.rank == 3, x.shape[0] == n, lengths.count == n else {
                throw .invalid("sequences must be [\(n), T, D] with \(n) lengths, got \(x.shape) and \(lengths.count)")
            }
            if let bad = lengths.firstIndex(where: { $0 < 1 || $0 > x.shape[1] }) {
                throw .invalid("example \(bad) has length \(lengths[bad]), outside 1...\(x.shape[1])")
            }
        case .tokens(let ids, let steps, let lengths):
            guard steps > 0, lengths.count == n, ids.count == n * steps else {
                throw .invalid("token ids must be [\(n), T] with \(n) lengths, got \(ids.count) ids, T \(steps), \(lengths.count) lengths")
            }
            if let bad = lengths.firstIndex(where: { $0 < 1 || $0 > steps }) {
                throw .invalid("example \(bad) has length \(lengths[bad]), outside 1...\(steps)")
            }
            if let bad = ids.firstIndex(where: { $0 < 0 }) { throw .invalid("token id \(ids[bad]) is negative") }
        }
        self.inputs = inputs
        self.labels = labels
        self.classCount = classCount
    }

    /// The examples at `indices` (each in 0..<count), in that order, as a model batch.
    public func batch(_ indices: [Int]) -> ModelBatch {
        switch inputs {
        case .features(let x):
            return .features(Self.rows(x, indices))
        case .sequences(let x, let lengths):
            return .sequences(Self.rows(x, indices), lengths: indices.map { lengths[$0] })
        case .tokens(let ids, let steps, let lengths):
            var out: [Int32] = []
            out.reserveCapacity(indices.count * steps)
            for i in indices { out.append(contentsOf: ids[(i * steps)..<((i + 1) * steps)]) }
            return .tokens(ids: out, steps: steps, lengths: indices.map { lengths[$0] })
        }
    }

    /// Labels at `indices`.
    public func labels(_ indices: [Int]) -> [Int] { indices.map { labels[$0] } }

    /// A dataset of the examples at `indices` (checked by construction).
    public func subset(_ indices: [Int]) -> ClassificationDataset {
        let inputs: Inputs = switch batch(indices) {
        case .features(let x): .features(x)
        case .sequences(let x, let lengths): .sequences(x, lengths: lengths)
        case .tokens(let ids, let steps, let lengths): .tokens(ids: ids, steps: steps, lengths: lengths)
        }
        return ClassificationDataset(unchecked: inputs, labels: labels(indices), classCount: classCount)
    }

    private init(unchecked inputs: Inputs, labels: [Int], classCount: Int) {
        self.inputs = inputs
        self.labels = labels
        self.classCount = classCount
    }

    /// Rows of the first axis of x, copied contiguously.
    static func rows(_ x: Tensor, _ indices: [Int]) -> Tensor {
        let row = x.shape.dropFirst().reduce(1, *)
        var storage: [Float] = []
        storage.reserveCapacity(indices.count * row)
        for i in indices { storage.append(contentsOf: x.storage[(i * row)..<((i + 1) * row)]) }
        return Tensor(shape: [indices.count] + Array(x.shape.dropFirst()), storage: storage)
            ?? Tensor(zeros: [indices.count] + Array(x.shape.dropFirst()))
    }
}

/// The splits one training run uses. `validation` and `test` are optional; when present they have
/// the same input form, width and class count as `train` (checked).
public struct DatasetSplits: Sendable, Equatable {
    public let train: ClassificationDataset
    public let validation: ClassificationDataset?
    public let test: ClassificationDataset?
    /// One line a person can read: where the data came from and how it was split.
    public let description: String

    public init(train: ClassificationDataset, validation: ClassificationDataset?, test: ClassificationDataset?,
                description: String) throws(DatasetError) {
        for (name, other) in [("validation", validation), ("test", test)] {
            guard let other else { continue }
            guard other.classCount == train.classCount else {
                throw .invalid("\(name) has \(other.classCount) classes, train has \(train.classCount)")
            }
            guard Self.width(other.inputs) == Self.width(train.inputs) else {
                throw .invalid("\(name) examples are \(Self.width(other.inputs)), train examples are \(Self.width(train.inputs))")
            }
        }
        self.train = train
        self.validation = validation
        self.test = test
        self.description = description
    }

    /// The input form and per-step width, e.g. "features of 64" — what must agree across splits.
    static func width(_ inputs: ClassificationDataset.Inputs) -> String {
        switch inputs {
        case .features(let x): "features of \(x.shape.last ?? 0)"
        case .sequences(let x, _): "sequences of \(x.shape.last ?? 0)-vectors"
        case .tokens: "token ids"
        }
    }
}

/// A dataset that cannot be used, with the reason (and, for files, the path and line).
public enum DatasetError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)
    /// A problem in an input file: path, 1-based line when known, and what is wrong.
    case file(path: String, line: Int?, message: String)

    public var description: String {
        switch self {
        case .invalid(let s): s
        case .file(let path, let line, let message): line.map { "\(path):\($0): \(message)" } ?? "\(path): \(message)"
        }
    }
}
