import ArgumentParser
import Foundation
import ThresherEngine
import ThresherSweep

/// `thresher train`: one trial on this machine with the shared engine, printing one JSON line per
/// evaluation and a final line with the test split's metrics.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train one model locally with the engine and print its metrics as JSON lines.",
        discussion: """
        Prints one JSON object per evaluation (after each epoch, and where --max-steps stops): \
        {"epoch", "step", "train_loss", "val_loss", "val_accuracy", "val_balanced_accuracy", "val_f1", \
        "val_precision", "val_recall", …}; then, when a test split exists, one line with "test_…" metrics \
        and the confusion matrix. Progress notes go to stderr. Errors (missing file, bad --param, wrong \
        shape in --init, bad JSONL line) exit with status 2.

        Models: mlp (CSV table or safetensors x [N, F]), gru-classifier (BoolQ JSONL with --embeddings, \
        or safetensors x [N, T, D]), pair-classifier (claim/evidence JSONL). docs/engine.md lists every \
        --param each model and the training recipe read.
        """
    )

    @Option(help: "The model: \(ModelCatalog.kinds.joined(separator: ", ")).")
    var model: String

    @Option(help: "Training data: a file, or a folder holding train.jsonl, validation.jsonl and test.jsonl.")
    var data: String

    @Option(help: "Word vectors in GloVe text format (plain or .gz).")
    var embeddings: String?

    @Option(name: .customLong("param"), help: "A hyperparameter as key=value (repeatable), e.g. --param lr=1e-3 --param label_weight='[2,1.2,1]'.")
    var params: [String] = []

    @Option(help: "Epochs (overrides an epochs param).")
    var epochs: Int?

    @Option(help: "Stop after this many optimizer steps, even mid-epoch.")
    var maxSteps: Int?

    @Flag(help: "Keep the data order (no shuffling), to replay a run step for step elsewhere.")
    var noShuffle = false

    @Option(help: "Seed of the weights, dropout, shuffling and the data split.")
    var seed: UInt64 = 0

    @Option(name: .customLong("init"), help: "Initial weights: a safetensors file with the model's PyTorch parameter names.")
    var initFile: String?

    @Option(help: "Continue from a Thresher checkpoint (weights, optimizer, position and random state).")
    var resume: String?

    @Option(help: "Write latest.safetensors after every evaluation and final.safetensors at the end (each with a .json sidecar).")
    var checkpointDir: String?

    @Option(help: "Folder of the text-preprocessing cache (default: $THRESHER_CACHE_DIR or ~/.cache/thresher).")
    var cacheDir: String?

    @Option(help: "OpenBLAS threads for this process.")
    var threads: Int?

    static func helpDefaultValue(for _: String) -> String? { nil }

    mutating func validate() throws {
        if let epochs, epochs < 0 { throw ValidationError("--epochs must be 0 or more, got \(epochs)") }
        if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be at least 1, got \(maxSteps)") }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be 1...256, got \(threads)") }
        if initFile != nil && resume != nil { throw ValidationError("--init and --resume exclude each other: a checkpoint already holds weights") }
    }

    func run() throws {
        do {
            try train()
        } catch let error as TrainingError {
            StandardError.write(["error: \(error)"])
            throw ExitCode(2)
        } catch let error as DatasetError {
            StandardError.write(["error: \(error)"])
            throw ExitCode(2)
        }
    }

    private func train() throws {
        // Checked here rather than in validate(): the issue's contract is exit 2 for bad params and models.
        guard ModelCatalog.kinds.contains(model) else {
            throw TrainingError.parameter("--model", "'\(model)' is not a model; choose one of \(ModelCatalog.kinds.joined(separator: ", "))")
        }
        for p in params where !p.contains("=") || p.hasPrefix("=") {
            throw TrainingError.parameter("'\(p)'", "must be key=value")
        }
        if let threads { BLAS.threads = threads }
        var values: [String: HyperparameterValue] = [:]
        for p in params {
            let parts = p.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            values[String(parts[0])] = HyperparameterValue(parsing: String(parts[1]))
        }
        var hyper = Hyperparameters(values)
        var defaults = TrainingRecipe(seed: seed)
        defaults.shuffle = !noShuffle
        var recipe = try TrainingRecipe(reading: &hyper, defaults: defaults)
        if let epochs { recipe.epochs = epochs }
        recipe.maxSteps = maxSteps
        recipe.seed = seed
        if noShuffle { recipe.shuffle = false }

        let loaded = try TrainingData.load(model: model, data: data, embeddings: embeddings, parameters: &hyper,
                                           seed: seed, cacheFolder: cacheFolder)
        for note in loaded.notes { StandardError.write(["\(note)"]) }
        let network = try ModelCatalog.make(kind: model, parameters: &hyper, data: loaded.splits,
                                            initialEmbedding: loaded.initialEmbedding,
                                            vocabularySize: loaded.vocabularySize, seed: seed)
        guard hyper.unusedKeys.isEmpty else {
            for key in hyper.unusedKeys {
                if let near = KeySuggestion.nearMiss(of: key, among: knownKeys) { StandardError.write(["did you mean \(near) for \(key)?"]) }
            }
            throw TrainingError.unknownParameters(hyper.unusedKeys, known: knownKeys)
        }
        if let initFile { try loadInitialWeights(initFile, into: network) }
        let trainer = try Trainer(model: network, splits: loaded.splits, recipe: recipe)
        // Run by a worker (docs/trial-programs.md): the environment names the metrics file, the
        // checkpoint folder (one step-<N>.safetensors per evaluation) and the checkpoint to resume from.
        let trial = TrialEnvironment(ProcessInfo.processInfo.environment)
        let checkpointDir = self.checkpointDir ?? trial.checkpointDir
        if let resume = self.resume ?? trial.resumeFrom {
            let checkpoint = try TrainingCheckpoint(contentsOfFile: resume)
            try checkpoint.checkCompatible(model: network.kind, recipe: recipe)
            try trainer.restore(checkpoint.state)
            StandardError.write(["resumed from \(resume) at epoch \(checkpoint.state.position.epoch), step \(checkpoint.state.position.step)"])
        }
        StandardError.write(["\(network.kind): \(network.parameterCount) weights; \(trainer.totalSteps) steps of batch \(recipe.batchSize)"])
        if let checkpointDir {
            do { try FileManager.default.createDirectory(atPath: checkpointDir, withIntermediateDirectories: true) } catch {
                throw TrainingError.checkpoint("cannot create --checkpoint-dir \(checkpointDir): \(error.localizedDescription)")
            }
        }
        let metricsFile = try trial.metricsFile.map { (path) throws(TrainingError) in try MetricsFile(path: path) }
        var lastMetrics: [(String, Double)] = []
        let checkpoint = { (name: String, metrics: [(String, Double)]) throws(TrainingError) in
            guard let dir = checkpointDir else { return }
            try TrainingCheckpoint(model: network.kind, state: trainer.state, recipe: recipe, params: values)
                .write(to: (dir as NSString).appendingPathComponent(name), metrics: metrics)
        }
        // The checkpoint is complete on disk before its metrics line appears, so whoever reads the
        // line can ask for that step's checkpoint.
        try trainer.run { (record) throws(TrainingError) in
            try checkpoint(self.checkpointDir == nil && trial.checkpointDir != nil ? "step-\(record.step).safetensors" : "latest.safetensors",
                           record.metrics)
            let line = JSONLine.evaluation(record)
            JSONLine.emit(line)
            try metricsFile?.append(line)
            lastMetrics = record.metrics
            return true
        }
        if self.checkpointDir != nil { try checkpoint("final.safetensors", lastMetrics) }
        if let test = loaded.splits.test, test.count > 0 {
            let (loss, report) = try trainer.evaluate(test)
            JSONLine.emit(JSONLine.test(loss: loss, report: report, step: trainer.position.step))
            try metricsFile?.append(JSONLine.test(loss: loss, report: report, step: trainer.position.step, withMatrix: false))
        }
    }

    /// What a worker passes to a trial program (docs/trial-programs.md).
    struct TrialEnvironment {
        var metricsFile: String?
        var checkpointDir: String?
        var resumeFrom: String?

        init(_ environment: [String: String]) {
            func value(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
            metricsFile = value("THRESHER_METRICS_FILE")
            checkpointDir = value("THRESHER_CHECKPOINT_DIR")
            resumeFrom = value("THRESHER_RESUME_FROM")
        }
    }

    private var knownKeys: [String] {
        let recipe = ["epochs", "n_epochs", "batch_size", "lr", "learning_rate", "weight_decay", "warmup", "warmup_start_factor",
                      "lr_decay", "max_grad_norm", "label_smoothing", "label_weight", "class_weights", "shuffle"]
        let model: [String] = switch self.model {
        case "mlp": ["hidden_sizes", "dropout"]
        case "gru-classifier": ["hidden_size", "num_layers", "dropout"]
        default: ["hidden_size", "num_layers", "dropout", "embedding_dim", "freeze_embeddings", "freeze_encoder",
                  "max_length", "min_count", "vocab_size"]
        }
        return recipe + model
    }

    private var cacheFolder: String {
        if let cacheDir { return cacheDir }
        if let env = ProcessInfo.processInfo.environment["THRESHER_CACHE_DIR"], !env.isEmpty { return env }
        return (NSHomeDirectory() as NSString).appendingPathComponent(".cache/thresher")
    }

    private func loadInitialWeights(_ path: String, into network: any ClassifierModel) throws {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(contentsOfFile: path) } catch {
            throw TrainingError.checkpoint("--init \(path): \(error)")
        }
        // A Thresher checkpoint may be given too: its optimizer state is not weights.
        let weights = file.tensors.filter { !$0.key.hasPrefix(TrainingCheckpoint.optimizerPrefix) }
        do { try network.load(weights: weights) } catch { throw TrainingError.checkpoint("--init \(path): \(error)") }
    }
}

/// Appends whole lines to `THRESHER_METRICS_FILE`: one `write` per line with O_APPEND, so a reader
/// polling the file never sees half a line followed by another writer's bytes.
final class MetricsFile {
    private let handle: FileHandle
    private let path: String

    init(path: String) throws(TrainingError) {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw TrainingError.checkpoint("cannot create THRESHER_METRICS_FILE \(path)")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw TrainingError.checkpoint("cannot open THRESHER_METRICS_FILE \(path) for writing")
        }
        self.handle = handle
        self.path = path
    }

    func append(_ line: String) throws(TrainingError) {
        do {
            try handle.seekToEnd()
            try handle.write(contentsOf: Data((line + "\n").utf8))
        } catch { throw TrainingError.checkpoint("cannot append to \(path): \(error.localizedDescription)") }
    }
}

/// The JSON lines `thresher train` prints: keys in a fixed order, numbers in shortest round-trip
/// form, non-finite values as null.
enum JSONLine {
    static func evaluation(_ r: EvaluationRecord) -> String {
        object([("epoch", "\(r.epoch)"), ("step", "\(r.step)"), ("lr", number(r.learningRate))]
               + r.metrics.map { ($0.0, number($0.1)) })
    }

    /// The test line; `withMatrix: false` gives the numbers-only form the metrics file carries
    /// (the trial-program contract allows only numbers besides step and epoch).
    static func test(loss: Double, report: ClassificationReport, step: Int, withMatrix: Bool = true) -> String {
        var fields = [("step", "\(step)"), ("test_loss", number(loss))]
        fields += EvaluationRecord.flatten(report, prefix: "test_").map { ($0.0, number($0.1)) }
        fields.append(("test_examples", "\(report.sampleCount)"))
        if withMatrix {
            let matrix = "[" + report.confusionMatrix.counts.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }
                .joined(separator: ",") + "]"
            fields.append(("test_confusion_matrix", matrix))
        }
        return object(fields)
    }

    /// Prints one line and flushes it: a worker or a pipe reads each evaluation as it happens.
    static func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func number(_ d: Double) -> String { d.isFinite ? "\(d)" : "null" }

    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }
}
