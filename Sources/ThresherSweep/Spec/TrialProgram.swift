import ThresherWire

/// What a worker runs for one trial: the engine (`thresher train`, from the sweep's
/// `thresher.engine` block) or the sweep's own `command`, as an argv with no shell in between.
///
/// Engine trials: the block's `model` and `data` are required; `embeddings`, `epochs`,
/// `max_steps` and `cache_dir` become the flags of the same name; every other key of the block is
/// a fixed `--param` for all trials, and the trial's parameters follow as `--param name=JSON`
/// (so a trial's value overrides the block's). `--seed` is the sweep's seed plus the trial index,
/// so each trial's weights and batches are its own and replay from the sweep file; the data split
/// uses the same seed. Relative paths in the block are resolved against `baseDirectory` (the sweep
/// file's folder), because a worker's working directory is its trial folder.
///
/// Guarantees: pure (no file or environment access beyond the given values), and every problem
/// is a `TrialProgramError` naming the key.
public struct TrialProgram: Sendable, Equatable {
    public var argv: [String]
    /// For `${args_json_file}` commands: a file to write before starting `argv`.
    public var file: ExpandedCommand.File?

    public static let engineFlags = ["model", "data", "embeddings", "epochs", "max_steps", "cache_dir"]
    /// Engine keys whose values are paths: relative to the sweep file's folder when written in the
    /// file, to the current folder when given with `--set` (see `SweepOverrides`).
    public static let enginePathKeys = ["data", "embeddings", "cache_dir"]

    /// The program of trial `index` with `params`.
    /// - Parameters:
    ///   - thresherExecutable: the `thresher` binary that runs engine trials (the worker's own).
    ///   - environment: for `${envvar:NAME}` in commands.
    public static func resolve(spec: SweepSpec, params: ParamMap, trialIndex: Int, thresherExecutable: String,
                               baseDirectory: String, environment: [String: String] = [:],
                               argsJSONFilePath: String? = nil) throws(TrialProgramError) -> TrialProgram {
        if let engine = spec.thresher.engine {
            return try engineProgram(engine: engine, params: params, seed: spec.thresher.seed &+ UInt64(trialIndex),
                                     thresherExecutable: thresherExecutable, baseDirectory: baseDirectory)
        }
        guard spec.program != nil || spec.command != nil else {
            throw .noProgram
        }
        let template = CommandTemplate(elements: spec.command ?? CommandTemplate.defaultElements)
        do {
            let expanded = try template.expand(params: params, program: spec.program, environment: environment,
                                               argsJSONFilePath: argsJSONFilePath)
            return TrialProgram(argv: expanded.argv, file: expanded.argsJSONFile)
        } catch { throw .command(error) }
    }

    static func engineProgram(engine: ParamMap, params: ParamMap, seed: UInt64, thresherExecutable: String,
                              baseDirectory: String) throws(TrialProgramError) -> TrialProgram {
        func text(_ key: String) throws(TrialProgramError) -> String? {
            guard let value = engine[key] else { return nil }
            switch value {
            case .string(let s) where !s.isEmpty: return s
            case .int(let i) where key != "model" && key != "data" && key != "embeddings" && key != "cache_dir": return String(i)
            default: throw .engineKey(key, "must be \(["epochs", "max_steps"].contains(key) ? "a whole number" : "a non-empty string"), found \(PythonFormat.json(value))")
            }
        }
        func path(_ p: String) -> String { p.hasPrefix("/") ? p : baseDirectory + "/" + p }
        guard let model = try text("model") else { throw .engineKey("model", "is required (mlp, gru-classifier or pair-classifier)") }
        guard let data = try text("data") else { throw .engineKey("data", "is required: the data file or folder") }
        var argv = [thresherExecutable, "train", "--model", model, "--data", path(data), "--seed", String(seed)]
        if let embeddings = try text("embeddings") { argv += ["--embeddings", path(embeddings)] }
        for key in ["epochs", "max_steps"] {
            if let value = try text(key) {
                guard let n = Int(value), n >= 0 else { throw .engineKey(key, "must be a whole number ≥ 0, found \(value)") }
                argv += ["--" + key.replacingOccurrences(of: "_", with: "-"), String(n)]
            }
        }
        if let cache = try text("cache_dir") { argv += ["--cache-dir", path(cache)] }
        for (key, value) in engine.entries where !engineFlags.contains(key) {
            argv += ["--param", "\(key)=\(try paramText(key, value))"]
        }
        for (key, value) in params.entries {
            argv += ["--param", "\(key)=\(try paramText(key, value))"]
        }
        return TrialProgram(argv: argv, file: nil)
    }

    /// A value as `thresher train --param` parses it: JSON scalars and lists (nested maps have no
    /// meaning to the engine's recipe and are refused).
    static func paramText(_ key: String, _ value: ParamValue) throws(TrialProgramError) -> String {
        if case .map = value { throw .engineKey(key, "is a map; engine params are numbers, booleans, strings or lists") }
        if case .list(let items) = value, items.contains(where: { if case .map = $0 { true } else { false } }) {
            throw .engineKey(key, "holds a map; engine params are numbers, booleans, strings or lists")
        }
        return PythonFormat.json(value)
    }
}

/// Why a trial's program cannot be built.
public enum TrialProgramError: Error, Sendable, Equatable, CustomStringConvertible {
    case noProgram
    case engineKey(String, String)
    case command(CommandTemplateError)

    public var description: String {
        switch self {
        case .noProgram: "the sweep has neither thresher.engine nor program/command: nothing to run"
        case .engineKey(let key, let message): "thresher.engine.\(key) \(message)"
        case .command(let error): "command: \(error)"
        }
    }
}
