import ThresherWire

/// Bayesian search with a Tree-structured Parzen Estimator (Bergstra et al., "Algorithms for
/// Hyper-Parameter Optimization", NeurIPS 2011), the method of hyperopt and Optuna.
///
/// 1. While fewer than `startupTrials` trials have a usable result, trial *i* is exactly the
///    random-search trial *i* of the same seed.
/// 2. Then the trials with a result — completed, and stopped early by the policy (their last
///    reported metric) — are ranked by the goal (ties by index), and split into the best
///    ⌈`goodFraction`·n⌉ (at most `maxGood`) and the rest.
/// 3. A `ParzenEstimator` l(x) is fitted to the good ones and g(x) to the rest;
///    `candidates` points are drawn from l, and the one with the largest log l(x) − log g(x)
///    (the first on ties) becomes the trial.
///
/// Failed trials and trials without a finite metric are ignored. Pending trials (handed out,
/// not yet observed) join the "rest" side as a constant liar, so parallel workers are steered
/// away from points already being tried instead of all receiving the same suggestion.
/// Constants are not searched; numeric parameters work in their natural space (log for the
/// log-scale distributions), ints and q-forms are scored where they will be run, categorical
/// values (lists and maps included) are modelled by index, nested parameters are ordinary
/// dimensions. Trial *i* draws from `SeededGenerator(seed:, stream: i)`, so the same seed and
/// the same sequence of observations give the same trials on every machine.
public struct TPESearcher: Searcher {
    /// TPE's knobs. The defaults are Optuna's n_startup_trials and n_ei_candidates, with
    /// hyperopt's γ = 0.25.
    public struct Configuration: Sendable, Hashable {
        public var startupTrials: Int
        public var candidates: Int
        public var goodFraction: Double
        public var maxGood: Int
        public init(startupTrials: Int = 10, candidates: Int = 24, goodFraction: Double = 0.25, maxGood: Int = 25) {
            self.startupTrials = startupTrials; self.candidates = candidates
            self.goodFraction = goodFraction; self.maxGood = maxGood
        }
    }

    public let space: SearchSpace
    public let configuration: Configuration
    private let random: RandomSearcher
    private let seed: UInt64
    private let goal: MetricGoal
    private let runCap: Int?
    /// (leaf index, dimension) for every searched leaf.
    private let searched: [(leaf: Int, dimension: TPEDimension)]
    private var nextIndex = 0
    private var handedOutCount = 0
    private var coordinates: [Int: [Double]] = [:]
    private var pending = Set<Int>()
    /// Loss (lower is better, the goal applied) of every trial with a usable result.
    private var losses: [Int: Double] = [:]

    public init(spec: SweepSpec, configuration: Configuration = Configuration()) throws(SearcherError) {
        random = try RandomSearcher(spec: spec)
        space = random.space
        self.configuration = configuration
        seed = spec.thresher.seed
        goal = spec.metric?.goal ?? .minimize
        runCap = spec.runCap.map { Swift.max(0, $0) }
        searched = space.leaves.enumerated().compactMap { i, leaf in TPEDimension(leaf.kind).map { (i, $0) } }
    }

    public var totalCount: Int? { runCap }

    public mutating func next() -> SuggestedTrial? {
        if let runCap, handedOutCount >= runCap { return nil }
        let index = nextIndex
        let params: ParamMap
        let point: [Double]
        if losses.count < Swift.max(configuration.startupTrials, 1) || searched.isEmpty {
            params = random.params(at: index)
            point = coordinates(of: params) ?? []
        } else {
            var rng = SeededGenerator(seed: seed, stream: UInt64(truncatingIfNeeded: index))
            point = propose(using: &rng)
            params = assemble(point)
        }
        coordinates[index] = point
        pending.insert(index)
        nextIndex += 1
        handedOutCount += 1
        return SuggestedTrial(index: index, params: params)
    }

    public mutating func observe(index: Int, metric: Double?, outcome: TrialOutcome) {
        pending.remove(index)
        guard outcome != .failed, let metric, metric.isFinite, coordinates[index]?.isEmpty == false else {
            losses[index] = nil
            return
        }
        losses[index] = goal == .maximize ? -metric : metric
    }

    public mutating func resume(handedOut trials: [SuggestedTrial]) {
        for trial in trials where coordinates[trial.index] == nil {
            coordinates[trial.index] = coordinates(of: trial.params) ?? []
            pending.insert(trial.index)
            nextIndex = Swift.max(nextIndex, trial.index + 1)
            handedOutCount += 1
        }
    }

    // MARK: Proposal

    private func propose(using rng: inout SeededGenerator) -> [Double] {
        let ranked = losses.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
        let goodCount = Swift.min(Swift.max(1, Int((configuration.goodFraction * Double(ranked.count)).rounded(.up))),
                                  Swift.max(1, configuration.maxGood), ranked.count)
        let good = ranked.prefix(goodCount).compactMap { coordinates[$0.key] }
        let liars = pending.sorted().compactMap { coordinates[$0] }.filter { !$0.isEmpty }
        let bad = ranked.dropFirst(goodCount).compactMap { coordinates[$0.key] } + liars
        let dimensions = searched.map(\.dimension)
        let below = ParzenEstimator(dimensions: dimensions, observations: good)
        let above = ParzenEstimator(dimensions: dimensions, observations: bad)
        var best: [Double] = []
        var bestScore = -Double.infinity
        for _ in 0..<Swift.max(1, configuration.candidates) {
            let candidate = below.sample(using: &rng)
            let score = below.logDensity(candidate) - above.logDensity(candidate)
            if best.isEmpty || score > bestScore { best = candidate; bestScore = score }
        }
        return best
    }

    private func assemble(_ point: [Double]) -> ParamMap {
        var values = space.leaves.map { leaf -> ParamValue in
            if case let .constant(value) = leaf.kind { return value }
            return .null
        }
        for (k, entry) in searched.enumerated() { values[entry.leaf] = entry.dimension.value(point[k]) }
        return space.assemble(values)
    }

    /// The working-space point of a trial's parameters; nil when a searched value is missing
    /// or is not one the space can hold (such a trial is then not learned from).
    private func coordinates(of params: ParamMap) -> [Double]? {
        var point: [Double] = []
        for entry in searched {
            guard let value = Self.lookup(space.leaves[entry.leaf].path, in: params),
                  let x = entry.dimension.coordinate(of: value) else { return nil }
            point.append(x)
        }
        return point
    }

    private static func lookup(_ path: [String], in params: ParamMap) -> ParamValue? {
        var current: ParamValue = .map(params)
        for name in path {
            guard case let .map(map) = current, let child = map[name] else { return nil }
            current = child
        }
        return current
    }
}
