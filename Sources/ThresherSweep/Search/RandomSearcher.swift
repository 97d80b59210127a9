import ThresherWire

/// W&B's random search: every trial draws each parameter independently from its
/// distribution (`Distribution.sample`, categorical uniform or by `probabilities`).
///
/// Trial *i* uses its own generator stream, `SeededGenerator(seed: thresher.seed, stream: i)`,
/// drawing the leaves in `SearchSpace` order; so trial *i* is a function of the seed and *i*
/// alone, identical on every machine and after a resume. `run_cap` bounds the sweep;
/// without it the searcher never runs out.
public struct RandomSearcher: Searcher {
    public let space: SearchSpace
    private let seed: UInt64
    private let runCap: Int?
    private var nextIndex = 0
    private var handedOutCount = 0

    public init(spec: SweepSpec) throws(SearcherError) {
        space = SearchSpace(spec.parameters)
        for leaf in space.leaves {
            if case let .categorical(values, _) = leaf.kind, values.isEmpty { throw .emptyValues(path: leaf.dottedPath) }
        }
        seed = spec.thresher.seed
        runCap = spec.runCap.map { Swift.max(0, $0) }
    }

    public var totalCount: Int? { runCap }

    /// The parameters of trial `index`, without handing it out.
    public func params(at index: Int) -> ParamMap {
        var rng = SeededGenerator(seed: seed, stream: UInt64(truncatingIfNeeded: index))
        return space.sample(using: &rng)
    }

    public mutating func next() -> SuggestedTrial? {
        if let runCap, handedOutCount >= runCap { return nil }
        let trial = SuggestedTrial(index: nextIndex, params: params(at: nextIndex))
        nextIndex += 1
        handedOutCount += 1
        return trial
    }

    /// Random search does not learn from outcomes.
    public mutating func observe(index: Int, metric: Double?, outcome: TrialOutcome) {}

    public mutating func resume(handedOut trials: [SuggestedTrial]) {
        for trial in trials { nextIndex = Swift.max(nextIndex, trial.index + 1) }
        handedOutCount += Set(trials.map(\.index)).count
    }
}

extension SearchSpace {
    /// One independent draw of every leaf, in leaf order, assembled into nested parameters.
    public func sample(using rng: inout SeededGenerator) -> ParamMap {
        assemble(leaves.map { $0.kind.sampleLeaf(using: &rng) ?? .null })
    }
}
