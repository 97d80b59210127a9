import Foundation

/// The models `thresher train --model` and the sweep workers can build, each from a trial's
/// hyperparameters and the shape of its data.
///
/// Model hyperparameters (all optional):
/// - `mlp`: `hidden_sizes` (a number or a list; default [128]), `dropout` (0).
/// - `gru-classifier`: `hidden_size` (128), `num_layers` (2), `dropout` (0, between GRU layers).
/// - `pair-classifier`: `hidden_size` (128), `num_layers` (1), `dropout` (0.1),
///   `freeze_embeddings` (false), `freeze_encoder` (false); the embedding width comes from
///   `--embeddings` or `embedding_dim` (100).
///
/// Every model draws its initial weights from the run's seed, so a trial replays from its seed.
public enum ModelCatalog {
    public static let kinds = ["mlp", "gru-classifier", "pair-classifier"]

    /// The input form each model reads, for error messages.
    public static func inputDescription(_ kind: String) -> String {
        switch kind {
        case "mlp": "feature rows: a numeric CSV table (.csv, .csv.gz) or a safetensors file with x [N, F]"
        case "gru-classifier": "embedded sequences: BoolQ JSONL with --embeddings, or a safetensors file with x [N, T, D]"
        case "pair-classifier": "claim/evidence JSONL (claim, evidence, label), optionally with --embeddings"
        default: "unknown model"
        }
    }

    /// Builds `kind` for `data`, reading its keys from `parameters`. `initialEmbedding` is the
    /// pair-classifier's starting embedding matrix [V, D] when the data came with word vectors.
    public static func make(kind: String, parameters: inout Hyperparameters, data: DatasetSplits,
                            initialEmbedding: Tensor? = nil, vocabularySize: Int? = nil,
                            seed: UInt64) throws(TrainingError) -> any ClassifierModel {
        let classes = data.train.classCount
        switch (kind, data.train.inputs) {
        case ("mlp", .features(let x)):
            let hidden = try parameters.numbers("hidden_sizes", "hidden_size") ?? [128]
            guard hidden.allSatisfy({ $0 >= 1 && $0 <= 1_000_000 && $0.rounded() == $0 }) else {
                throw .parameter("hidden_sizes", "must be whole numbers ≥ 1, got \(hidden)")
            }
            let dropout = try parameters.double("dropout", default: 0, in: 0...0.999)
            guard let model = MLPClassifier(inputSize: x.shape[1], hiddenSizes: hidden.map { Int($0) }, classCount: classes,
                                            dropout: Float(dropout), seed: seed) else {
                throw .parameter("hidden_sizes", "cannot build an mlp with \(hidden)")
            }
            return model
        case ("gru-classifier", .sequences(let x, _)):
            guard classes == 2 else { throw .data("gru-classifier predicts yes/no; the data has \(classes) classes") }
            let hidden = try parameters.int("hidden_size", default: 128, in: 1...65_536)
            let layers = try parameters.int("num_layers", default: 2, in: 1...16)
            let dropout = try parameters.double("dropout", default: 0, in: 0...0.999)
            do {
                return try GRUClassifier(inputSize: x.shape[2], hiddenSize: hidden, numLayers: layers,
                                         dropout: Float(dropout), seed: seed)
            } catch { throw .model(error) }
        case ("pair-classifier", .tokens):
            return try makePairClassifier(parameters: &parameters, classes: classes, initialEmbedding: initialEmbedding,
                                          vocabularySize: vocabularySize, seed: seed)
        case (_, _) where !kinds.contains(kind):
            throw .parameter("--model", "'\(kind)' is not a model; choose one of \(kinds.joined(separator: ", "))")
        default:
            throw .data("\(kind) reads \(inputDescription(kind)); the data given is \(DatasetSplits.width(data.train.inputs))")
        }
    }
}

extension ModelCatalog {
    static func makePairClassifier(parameters: inout Hyperparameters, classes: Int, initialEmbedding: Tensor?,
                                   vocabularySize: Int?, seed: UInt64) throws(TrainingError) -> any ClassifierModel {
        guard let vocabularySize else { throw .data("pair-classifier needs the vocabulary built from its JSONL data") }
        let embeddingDim = try parameters.int("embedding_dim", default: initialEmbedding?.shape.last ?? 100, in: 1...65_536)
        if let initialEmbedding, initialEmbedding.shape.last != embeddingDim {
            throw .parameter("embedding_dim", "is \(embeddingDim) but the word vectors have \(initialEmbedding.shape.last ?? 0) dimensions")
        }
        let options = PairClassifier.Options(
            vocabularySize: vocabularySize,
            embeddingDim: embeddingDim,
            hiddenSize: try parameters.int("hidden_size", default: 128, in: 1...65_536),
            classCount: classes,
            numLayers: try parameters.int("num_layers", default: 1, in: 1...16),
            dropout: Float(try parameters.double("dropout", default: 0.1, in: 0...0.999)),
            freezeEmbeddings: try parameters.bool("freeze_embeddings", default: false),
            freezeEncoder: try parameters.bool("freeze_encoder", "freeze_bert", default: false),
            seed: seed)
        do { return try PairClassifier(options, initialEmbedding: initialEmbedding) } catch { throw .model(error) }
    }
}
