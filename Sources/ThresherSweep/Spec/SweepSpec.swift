import ThresherWire

/// A validated sweep file: everything the coordinator needs to generate and judge trials.
///
/// Built only by `SweepFileParser`, which reports every problem of a file at once; a value of
/// this type is therefore always internally consistent (bounds ordered, probabilities summing to
/// one, grid-compatible parameters for `method: grid`, a metric when a policy needs one).
public struct SweepSpec: Sendable, Hashable {
    public var name: String?
    public var description: String?
    public var program: String?
    /// The `command:` list with its macros unexpanded (`${env}`, `${args}`, ...); nil → W&B's
    /// default `${env} ${interpreter} ${program} ${args}`.
    public var command: [String]?
    public var method: SearchMethod
    public var metric: MetricSpec?
    /// The top-level parameters, in the order the file wrote them.
    public var parameters: [ParameterSpec]
    public var earlyTerminate: EarlyTerminateSpec?
    /// `run_cap`: at most this many trials; nil → grid size for grid, unbounded otherwise.
    public var runCap: Int?
    /// `randomize_order` (grid only): shuffle the grid with the sweep's seed.
    public var randomizeOrder: Bool
    /// Thresher's own settings, under the top-level `thresher:` key.
    public var thresher: ThresherSettings

    public init(name: String? = nil, description: String? = nil, program: String? = nil, command: [String]? = nil,
                method: SearchMethod, metric: MetricSpec? = nil, parameters: [ParameterSpec],
                earlyTerminate: EarlyTerminateSpec? = nil, runCap: Int? = nil, randomizeOrder: Bool = false,
                thresher: ThresherSettings = ThresherSettings()) {
        self.name = name; self.description = description; self.program = program; self.command = command
        self.method = method; self.metric = metric; self.parameters = parameters
        self.earlyTerminate = earlyTerminate; self.runCap = runCap; self.randomizeOrder = randomizeOrder
        self.thresher = thresher
    }
}

public enum SearchMethod: String, Sendable, Hashable, CaseIterable {
    case grid, random, bayes
}

public enum MetricGoal: String, Sendable, Hashable, CaseIterable {
    case minimize, maximize
}

/// `metric:` — what the sweep optimises.
public struct MetricSpec: Sendable, Hashable {
    public var name: String
    /// Default `minimize`, as in W&B.
    public var goal: MetricGoal
    /// Stop the sweep once a trial reaches this value (W&B's `target`).
    public var target: Double?
    public init(name: String, goal: MetricGoal = .minimize, target: Double? = nil) {
        self.name = name; self.goal = goal; self.target = target
    }
}

/// One entry of `parameters:`. `name` is the key as written (not the dotted path).
public struct ParameterSpec: Sendable, Hashable {
    public var name: String
    public var kind: ParameterKind
    public init(name: String, kind: ParameterKind) { self.name = name; self.kind = kind }
}

/// What a parameter's block says.
public indirect enum ParameterKind: Sendable, Hashable {
    /// `value: v` (or `distribution: constant`).
    case constant(ParamValue)
    /// `values: [...]`, optionally with `probabilities` (same length, summing to 1).
    /// An element may itself be a list or a map: it is one value.
    case categorical(values: [ParamValue], probabilities: [Double]?)
    /// A numeric distribution.
    case distribution(Distribution)
    /// A nested `parameters:` block; the trial gets a map under this name.
    case nested([ParameterSpec])
}

/// Every numeric W&B distribution, with its parameters already defaulted
/// (q = 1, mu = 0, sigma = 1, a = b = 1). Bounds are ordered (min < max) after validation.
public enum Distribution: Sendable, Hashable {
    case intUniform(min: Int64, max: Int64)
    case uniform(min: Double, max: Double)
    case qUniform(min: Double, max: Double, q: Double)
    /// Deprecated W&B form: `min`/`max` are natural-log exponents; value = exp(uniform(min, max)).
    case logUniform(min: Double, max: Double)
    /// value = exp(uniform(ln min, ln max)); min > 0.
    case logUniformValues(min: Double, max: Double)
    case qLogUniform(min: Double, max: Double, q: Double)
    case qLogUniformValues(min: Double, max: Double, q: Double)
    /// Deprecated: value = 1 / exp(uniform(min, max)) with min/max natural-log exponents.
    case invLogUniform(min: Double, max: Double)
    /// value = 1 / exp(uniform(ln(1/max), ln(1/min))); min > 0.
    case invLogUniformValues(min: Double, max: Double)
    case normal(mu: Double, sigma: Double)
    case qNormal(mu: Double, sigma: Double, q: Double)
    case logNormal(mu: Double, sigma: Double)
    case qLogNormal(mu: Double, sigma: Double, q: Double)
    case beta(a: Double, b: Double)
    case qBeta(a: Double, b: Double, q: Double)
}

/// `early_terminate:` — the stopping policy.
public enum EarlyTerminateSpec: Sendable, Hashable {
    case hyperband(HyperbandSpec)
    case asha(ASHASpec)
    case median(MedianStoppingSpec)
}

/// W&B's hyperband: one set of bands, from `min_iter`, or from `max_iter` and `s`.
public struct HyperbandSpec: Sendable, Hashable {
    public var minIter: Int?
    public var maxIter: Int?
    public var s: Int?
    public var eta: Double
    public var strict: Bool
    public init(minIter: Int? = nil, maxIter: Int? = nil, s: Int? = nil, eta: Double = 3, strict: Bool = true) {
        self.minIter = minIter; self.maxIter = maxIter; self.s = s; self.eta = eta; self.strict = strict
    }
}

/// Asynchronous successive halving (Li et al., MLSys 2020). Thresher's own key
/// (`type: asha`); W&B does not know it.
public struct ASHASpec: Sendable, Hashable {
    /// Minimum iterations before the first rung (r in the paper).
    public var gracePeriod: Int
    /// Promotion keeps the top 1/reductionFactor (eta in the paper).
    public var reductionFactor: Double
    /// Maximum iterations (R); no rung beyond it.
    public var maxT: Int
    /// Number of brackets (s from 0 to brackets-1 shifts the first rung by rf^s).
    public var brackets: Int
    public init(gracePeriod: Int = 1, reductionFactor: Double = 3, maxT: Int, brackets: Int = 1) {
        self.gracePeriod = gracePeriod; self.reductionFactor = reductionFactor; self.maxT = maxT; self.brackets = brackets
    }
}

/// Median stopping rule (Golovin et al., "Google Vizier", 2017). Thresher's own key (`type: median`).
public struct MedianStoppingSpec: Sendable, Hashable {
    /// Iterations a trial may run before it can be stopped.
    public var warmupSteps: Int
    /// Trials that must have reported at an iteration before the median there is used.
    public var minTrials: Int
    public init(warmupSteps: Int = 0, minTrials: Int = 3) { self.warmupSteps = warmupSteps; self.minTrials = minTrials }
}

/// The `thresher:` block: settings W&B ignores.
public struct ThresherSettings: Sendable, Hashable {
    /// Seed of every random choice of the sweep (searchers, grid shuffle, engine). Default 0.
    public var seed: UInt64
    public var retention: RetentionSettings
    /// `engine:` block as typed values (model, data, epochs, ...), interpreted by the engine.
    public var engine: ParamMap?
    /// Trial slots per worker; nil → the worker's core count.
    public var slots: Int?
    public init(seed: UInt64 = 0, retention: RetentionSettings = RetentionSettings(), engine: ParamMap? = nil, slots: Int? = nil) {
        self.seed = seed; self.retention = retention; self.engine = engine; self.slots = slots
    }
}

/// Checkpoint retention (see ARCHITECTURE.md, "Checkpoints and retention").
public struct RetentionSettings: Sendable, Hashable {
    public var keepTopK: Int
    public var keepTopKPerTrial: Int
    public var keepLatestPerTrial: Bool
    /// Hard budget in bytes; nil → no budget.
    public var maxBytes: Int64?
    public init(keepTopK: Int = 3, keepTopKPerTrial: Int = 1, keepLatestPerTrial: Bool = true, maxBytes: Int64? = nil) {
        self.keepTopK = keepTopK; self.keepTopKPerTrial = keepTopKPerTrial
        self.keepLatestPerTrial = keepLatestPerTrial; self.maxBytes = maxBytes
    }
}
