import ThresherWire

/// W&B's grid search (`grid_search.py`), point for point.
///
/// - Order: leaves in `SearchSpace` order (names sorted at each level, nested flattened
///   parent then child); the grid is the Cartesian product of the non-constant leaves with
///   the first leaf varying slowest and the last fastest; each leaf's values in written order.
/// - Values: `values` minus later duplicates (`CanonicalParams`: `3e6` equals `3000000`);
///   int_uniform → min…max inclusive; q_uniform → numpy's `arange(min, max, q)` (max excluded,
///   `0.30000000000000004`). Constants are not in the product but are in every trial.
/// - `randomize_order: true` permutes the grid with `IndexPermutation` seeded from
///   `thresher.seed` (W&B uses Python's unseeded `random.shuffle`, so no order can match it;
///   Thresher's is reproducible). `run_cap` hands out at most that many points.
/// - A trial's `index` is its position in this order, so `expand` and a resumed sweep agree.
///   A point whose `CanonicalParams` was already handed out (see `resume`) is skipped.
///
/// Points are computed from their index (mixed-radix decoding), never materialised, so a
/// grid of any countable size costs O(parameters) memory plus the keys handed out.
public struct GridSearcher: Searcher {
    public let space: SearchSpace
    /// One axis per leaf of `space`.
    public let axes: [GridAxis]
    /// Points in the full grid, before `run_cap`.
    public let gridSize: Int
    private let runCap: Int?
    private let permutation: IndexPermutation?
    private var nextPosition = 0
    private var handedOutCount = 0
    private var handedOut = Set<CanonicalParams>()

    /// Stream of the seed reserved for the grid shuffle.
    static let shuffleStream: UInt64 = 0x6772_6964   // "grid"

    public init(spec: SweepSpec) throws(SearcherError) {
        space = SearchSpace(spec.parameters)
        var axes: [GridAxis] = []
        for leaf in space.leaves { axes.append(try GridAxis.make(for: leaf)) }
        self.axes = axes
        var size = 1
        for axis in axes where axis.count > 0 {
            let (product, overflow) = size.multipliedReportingOverflow(by: axis.count)
            if overflow { throw .gridTooLarge }
            size = product
        }
        gridSize = size
        runCap = spec.runCap.map { Swift.max(0, $0) }
        if spec.randomizeOrder {
            var rng = SeededGenerator(seed: spec.thresher.seed, stream: Self.shuffleStream)
            permutation = IndexPermutation(count: size, using: &rng)
        } else {
            permutation = nil
        }
    }

    public var totalCount: Int? { runCap.map { Swift.min($0, gridSize) } ?? gridSize }

    /// The parameters of the point at `index` in the sweep's order (shuffled when
    /// `randomize_order` is set); nil outside 0..<gridSize.
    public func params(at index: Int) -> ParamMap? {
        guard index >= 0, index < gridSize else { return nil }
        var rest = permutation?.apply(index) ?? index
        var values = [ParamValue](repeating: .null, count: axes.count)
        for (leaf, axis) in axes.enumerated().reversed() {
            if axis.count == 0 {
                values[leaf] = axis.value(at: 0)
            } else {
                values[leaf] = axis.value(at: rest % axis.count)
                rest /= axis.count
            }
        }
        return space.assemble(values)
    }

    public mutating func next() -> SuggestedTrial? {
        while handedOutCount < (totalCount ?? gridSize), nextPosition < gridSize {
            let index = nextPosition
            nextPosition += 1
            guard let params = params(at: index) else { return nil }
            if handedOut.insert(CanonicalParams(params)).inserted {
                handedOutCount += 1
                return SuggestedTrial(index: index, params: params)
            }
        }
        return nil
    }

    /// The grid does not learn from outcomes.
    public mutating func observe(index: Int, metric: Double?, outcome: TrialOutcome) {}

    public mutating func resume(handedOut trials: [SuggestedTrial]) {
        for trial in trials where handedOut.insert(trial.canonical).inserted {
            handedOutCount += 1
        }
    }
}
