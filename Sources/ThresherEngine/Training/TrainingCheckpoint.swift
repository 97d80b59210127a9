import Foundation

/// A training checkpoint on disk: one safetensors file plus a JSON sidecar beside it.
///
/// The safetensors file holds the model's weights under their PyTorch names (so
/// `safetensors.torch.load_file` followed by `load_state_dict` works after dropping the optimizer
/// keys), AdamW's moments under `optimizer/<parameter>.<exp_avg|exp_avg_sq|step>`, and in its
/// metadata: `format` (`thresher-checkpoint/1`), `model` (the model kind), `position` (epoch, batch
/// in epoch, step, running epoch loss), `random` (every generator's seed, stream and counter, as
/// decimal strings), `recipe` and `params` (JSON). The sidecar `<name>.json` repeats the model,
/// step, epoch, params and the metrics at the time, for people and tools that do not read
/// safetensors.
///
/// Both files are written atomically (temporary file, fsync, rename), the safetensors file first,
/// so a crash leaves either the previous checkpoint or the new one, never a torn file.
public struct TrainingCheckpoint: Sendable, Equatable {
    public static let format = "thresher-checkpoint/1"
    public static let optimizerPrefix = "optimizer/"

    public var model: String
    public var state: TrainingState
    public var recipe: TrainingRecipe
    public var params: [String: HyperparameterValue]

    public init(model: String, state: TrainingState, recipe: TrainingRecipe, params: [String: HyperparameterValue]) {
        self.model = model
        self.state = state
        self.recipe = recipe
        self.params = params
    }

    /// Path of the JSON sidecar for a checkpoint at `path` (`x.safetensors` → `x.json`).
    public static func sidecarPath(for path: String) -> String {
        (path.hasSuffix(".safetensors") ? String(path.dropLast(".safetensors".count)) : path) + ".json"
    }

    /// Writes the checkpoint and its sidecar; `metrics` go into the sidecar only.
    public func write(to path: String, metrics: [(String, Double)] = []) throws(TrainingError) {
        var tensors = state.weights
        for (key, value) in state.optimizer { tensors[Self.optimizerPrefix + key] = value }
        let metadata: [String: String]
        do {
            metadata = [
                "format": Self.format,
                "model": model,
                "position": try Self.json(state.position),
                "random": try Self.json(state.random.map { [String($0.seed), String($0.stream), String($0.counter)] }),
                "recipe": try Self.json(recipe),
                "params": try Self.json(params),
            ]
        } catch { throw .checkpoint("cannot encode checkpoint metadata: \(error)") }
        do { try SafeTensorsFile(tensors: tensors, metadata: metadata).write(toFile: path) } catch {
            throw .checkpoint("cannot write \(path): \(error)")
        }
        var sidecar: [String: Any] = [
            "format": Self.format, "model": model, "step": state.position.step,
            "epoch": state.position.epoch, "weights": URL(fileURLWithPath: path).lastPathComponent,
            "params": params.mapValues(\.jsonObject),
        ]
        sidecar["metrics"] = Dictionary(metrics, uniquingKeysWith: { _, last in last })
        let sidecarPath = Self.sidecarPath(for: path)
        do {
            let data = try JSONSerialization.data(withJSONObject: sidecar, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            let bytes = [UInt8](data) + [0x0A]
            try AtomicFile.replace(sidecarPath) { (emit) throws(SafeTensorsError) in
                let outcome = bytes.withUnsafeBytes { raw in Result { () throws(SafeTensorsError) in try emit(raw) } }
                try outcome.get()
            }
        } catch { throw .checkpoint("cannot write \(sidecarPath): \(error)") }
    }

    /// Reads a checkpoint written by `write(to:)`; every missing or malformed field is named.
    public init(contentsOfFile path: String) throws(TrainingError) {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(contentsOfFile: path) } catch { throw .checkpoint("cannot read \(path): \(error)") }
        let meta = file.metadata
        guard meta["format"] == Self.format else {
            throw .checkpoint("\(path) is not a Thresher checkpoint (format \(meta["format"] ?? "missing"), expected \(Self.format)); to start from bare weights use --init")
        }
        guard let model = meta["model"] else { throw .checkpoint("\(path): metadata has no 'model'") }
        func decode<T: Decodable>(_ key: String, as type: T.Type) throws(TrainingError) -> T {
            guard let text = meta[key] else { throw .checkpoint("\(path): metadata has no '\(key)'") }
            do { return try JSONDecoder().decode(T.self, from: Data(text.utf8)) } catch {
                throw .checkpoint("\(path): metadata '\(key)' is malformed: \(error)")
            }
        }
        let position = try decode("position", as: TrainingPosition.self)
        let randomTriples = try decode("random", as: [[String]].self)
        var random: [EngineRandom] = []
        for triple in randomTriples {
            guard triple.count == 3, let seed = UInt64(triple[0]), let stream = UInt64(triple[1]), let counter = UInt64(triple[2]) else {
                throw .checkpoint("\(path): metadata 'random' entry \(triple) is not [seed, stream, counter]")
            }
            random.append(EngineRandom(seed: seed, stream: stream, counter: counter))
        }
        var weights: [String: Tensor] = [:], optimizer: [String: Tensor] = [:]
        for (name, tensor) in file.tensors {
            if name.hasPrefix(Self.optimizerPrefix) {
                optimizer[String(name.dropFirst(Self.optimizerPrefix.count))] = tensor
            } else {
                weights[name] = tensor
            }
        }
        self.model = model
        self.state = TrainingState(position: position, weights: weights, optimizer: optimizer, random: random)
        self.recipe = try decode("recipe", as: TrainingRecipe.self)
        self.params = try decode("params", as: [String: HyperparameterValue].self)
    }

    /// Checks that this checkpoint can continue a run of `model` with `recipe`: same model kind and
    /// the same batching, seed and optimizer settings (epochs and max steps may differ, to extend a run).
    public func checkCompatible(model kind: String, recipe other: TrainingRecipe) throws(TrainingError) {
        guard kind == model else { throw .checkpoint("the checkpoint is of model \(model), this run trains \(kind)") }
        var a = recipe, b = other
        a.epochs = 0; b.epochs = 0; a.maxSteps = nil; b.maxSteps = nil
        a.evaluationBatchSize = 0; b.evaluationBatchSize = 0
        guard a == b else { throw .checkpoint("the checkpoint was trained with a different recipe: \(recipe), this run has \(other)") }
    }

    private static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
