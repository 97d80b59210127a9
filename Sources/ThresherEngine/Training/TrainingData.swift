import Foundation

/// Data for one training run, loaded in the form its model reads, with the vocabulary and initial
/// embeddings a token model needs and notes for the person running it.
public struct LoadedTrainingData: Sendable {
    public var splits: DatasetSplits
    /// For `pair-classifier` with word vectors: the embedding matrix [V, D] to start from.
    public var initialEmbedding: Tensor?
    /// For `pair-classifier`: the vocabulary size V.
    public var vocabularySize: Int?
    /// One line each: sources, split sizes, OOV rates, cache hits.
    public var notes: [String]
}

/// Finds and reads a run's data by the model and the path's form:
///
/// - `.csv` / `.csv.gz`: a numeric table (label in the last column), split 70/15/15 by seed and
///   standardised on the training split (`mlp`).
/// - `.safetensors`: a tensor dataset (`TensorDataset`), splits as stored.
/// - JSONL (`.jsonl` file, or a folder holding `train.jsonl` and optionally `validation.jsonl` /
///   `val.jsonl` and `test.jsonl` / `dev.jsonl`): BoolQ for `gru-classifier` (needs word vectors;
///   goes through the W1 pipeline and its preprocessing cache) or claim/evidence pairs for
///   `pair-classifier`. A single BoolQ file is split by seed into train / v / v with
///   v = min(500, N/5) (dev.jsonl's 3,270 rows → 2,270 / 500 / 500, the split used on these
///   machines); a single claim file 80/10/10 by seed.
public enum TrainingData {
    public static func load(model: String, data: String, embeddings: String?, parameters: inout Hyperparameters,
                            seed: UInt64, cacheFolder: String) throws(TrainingError) -> LoadedTrainingData {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: data, isDirectory: &isFolder) else {
            throw .data("--data \(data) does not exist")
        }
        let lower = data.lowercased()
        do {
            if !isFolder.boolValue && (lower.hasSuffix(".csv") || lower.hasSuffix(".csv.gz")) {
                let table: NumericTable
                do { table = try CSVTableReader().read(path: data) } catch { throw TrainingError.data("\(error)") }
                let splits = try DatasetSplits(table: table, source: data, seed: seed)
                return LoadedTrainingData(splits: splits, notes: [splits.description])
            }
            if !isFolder.boolValue && lower.hasSuffix(".safetensors") {
                let splits = try TensorDataset.read(path: data)
                return LoadedTrainingData(splits: splits, notes: [splits.description])
            }
            let files = try jsonlFiles(data, isFolder: isFolder.boolValue)
            switch model {
            case "gru-classifier": return try boolQ(files, embeddings: embeddings, seed: seed, cacheFolder: cacheFolder)
            case "pair-classifier": return try pairs(files, embeddings: embeddings, parameters: &parameters, seed: seed)
            default: throw TrainingError.data("\(model) reads \(ModelCatalog.inputDescription(model)), not JSONL")
            }
        } catch let error as TrainingError {
            throw error
        } catch let error as DatasetError {
            throw .data("\(error)")
        } catch {
            throw .data("\(error)")
        }
    }

    /// The JSONL file(s) of a run: one file, or a folder's train / validation / test files.
    struct JSONLFiles {
        var single: String?
        var train: String?
        var validation: String?
        var test: String?
    }

    static func jsonlFiles(_ path: String, isFolder: Bool) throws(TrainingError) -> JSONLFiles {
        guard isFolder else {
            guard path.lowercased().hasSuffix(".jsonl") else {
                throw .data("--data \(path): expected .csv, .csv.gz, .safetensors, .jsonl or a folder of JSONL files")
            }
            return JSONLFiles(single: path)
        }
        func first(_ names: [String]) -> String? {
            names.map { (path as NSString).appendingPathComponent($0) }.first { FileManager.default.fileExists(atPath: $0) }
        }
        guard let train = first(["train.jsonl"]) else {
            throw .data("--data folder \(path) has no train.jsonl")
        }
        return JSONLFiles(train: train, validation: first(["validation.jsonl", "val.jsonl"]), test: first(["test.jsonl", "dev.jsonl"]))
    }

    static func boolQ(_ files: JSONLFiles, embeddings: String?, seed: UInt64, cacheFolder: String) throws -> LoadedTrainingData {
        guard let embeddings else {
            throw TrainingError.data("gru-classifier on BoolQ JSONL needs --embeddings (GloVe text, plain or .gz)")
        }
        let source: BoolQSource
        if let single = files.single {
            let rows = try BoolQReader().read(path: single).count
            let held = max(1, min(500, rows / 5))
            guard rows >= 2 * held + 1 else { throw TrainingError.data("\(single) has \(rows) examples; too few to split") }
            source = .seededSplit(path: single, trainCount: rows - 2 * held, validationCount: held, seed: seed)
        } else {
            source = .files(train: files.train ?? "", validation: files.validation, test: files.test)
        }
        let result = try PreprocessingCache(folder: cacheFolder).boolQ(source: source, embeddings: embeddings)
        var notes = [result.output.splits.description,
                     "preprocessing cache \(result.hit ? "hit" : "miss"): \(result.path)"]
        if let writeError = result.writeError { notes.append("warning: preprocessing cache not written: \(writeError)") }
        return LoadedTrainingData(splits: result.output.splits, notes: notes)
    }

    static func pairs(_ files: JSONLFiles, embeddings: String?, parameters: inout Hyperparameters, seed: UInt64) throws -> LoadedTrainingData {
        let reader = ClaimEvidenceReader()
        var train: [ClaimEvidenceExample], validation: [ClaimEvidenceExample]?, test: [ClaimEvidenceExample]?
        var names: (String, String?, String?)
        if let single = files.single {
            let all = try reader.read(path: single)
            guard let split = DatasetSplit(count: all.count, trainFraction: 0.8, validationFraction: 0.1, seed: seed) else {
                throw TrainingError.data("\(single) has \(all.count) pairs; too few to split")
            }
            train = split.train.map { all[$0] }
            validation = split.validation.map { all[$0] }
            test = split.test.map { all[$0] }
            names = (single, nil, nil)
        } else {
            let trainPath = files.train ?? ""
            train = try reader.read(path: trainPath)
            validation = try files.validation.map { try reader.read(path: $0) }
            test = try files.test.map { try reader.read(path: $0) }
            names = (trainPath, files.validation, files.test)
        }
        let labels = try LabelMapping(fitting: train)
        let maxLength = try parameters.int("max_length", default: 128, in: 2...100_000)
        let minCount = try parameters.int("min_count", default: 1, in: 1...1_000_000)
        let maxSize = try parameters.int("vocab_size", default: 50_000, in: 4...10_000_000)
        var notes: [String] = []
        let vocabulary: Vocabulary
        var initial: Tensor?
        if let embeddings {
            let vectors = try WordVectors(path: embeddings)
            vocabulary = Vocabulary(training: train, minCount: minCount, maxSize: maxSize)
            let (matrix, coverage) = vocabulary.embeddingMatrix(from: vectors, seed: seed)
            initial = matrix
            notes.append("vocabulary \(vocabulary.count) words, \(coverage.pretrained) with pretrained vectors (\(String(format: "%.1f", 100 * coverage.rate)) %)")
        } else {
            vocabulary = Vocabulary(training: train, minCount: minCount, maxSize: maxSize)
            notes.append("vocabulary \(vocabulary.count) words from the training pairs; embeddings start random")
        }
        let encoder = try PairEncoder(vocabulary: vocabulary, maxLength: maxLength)
        func dataset(_ examples: [ClaimEvidenceExample], _ path: String) throws -> ClassificationDataset {
            try encoder.dataset(examples, labels: try labels.ids(of: examples, path: path), classCount: labels.classCount)
        }
        let splits = try DatasetSplits(
            train: try dataset(train, names.0),
            validation: try validation.map { try dataset($0, names.1 ?? names.0) },
            test: try test.map { try dataset($0, names.2 ?? names.0) },
            description: "\(names.0): \(train.count) train, \(validation?.count ?? 0) validation, \(test?.count ?? 0) test pairs; labels \(labels)")
        notes.insert(splits.description, at: 0)
        let truncated = encoder.truncatedCount(train)
        if truncated > 0 { notes.append("\(truncated) training pairs truncated to max_length \(maxLength)") }
        return LoadedTrainingData(splits: splits, initialEmbedding: initial, vocabularySize: vocabulary.count, notes: notes)
    }
}
