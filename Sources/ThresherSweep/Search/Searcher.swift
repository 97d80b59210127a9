import ThresherWire

/// One trial a searcher hands out.
public struct SuggestedTrial: Sendable, Hashable {
    /// The trial's index: for grid sweeps its position in the grid order (so `expand` and a
    /// resumed sweep agree on it); for random and bayes sweeps the order of suggestion, 0, 1, 2…
    public let index: Int
    /// The parameters, nested as the file nests them, every map's keys in W&B's sorted order;
    /// constants included.
    public let params: ParamMap

    public init(index: Int, params: ParamMap) { self.index = index; self.params = params }

    /// The trial's identity: equal for equal parameters whatever their key order.
    public var canonical: CanonicalParams { CanonicalParams(params) }
}

/// How a trial ended, as far as a searcher cares.
public enum TrialOutcome: Sendable, Hashable {
    /// Ran to the end.
    case completed
    /// Stopped early by the sweep's policy; its last reported metric still counts.
    case stopped
    /// Crashed or was abandoned; its metric, if any, is not used.
    case failed
}

/// Suggests trials for a sweep. The coordinator drives it: `next()` whenever a slot is free,
/// `observe` whenever a trial ends.
///
/// Every conforming type is a value type, deterministic from the sweep's seed: the same spec,
/// seed and sequence of calls give the same trials on every machine.
public protocol Searcher: Sendable {
    /// How many trials the sweep has in all: the grid size (capped by `run_cap`) for grid,
    /// `run_cap` otherwise; nil when unbounded.
    var totalCount: Int? { get }

    /// The next trial to run, or nil once `totalCount` trials have been handed out.
    mutating func next() -> SuggestedTrial?

    /// A trial ended. `metric` is its last reported value of the sweep's metric as logged
    /// (the searcher applies the goal); nil when it never reported one.
    mutating func observe(index: Int, metric: Double?, outcome: TrialOutcome)

    /// Trials an earlier run of this sweep already handed out (from the coordinator's
    /// journal): they count towards `totalCount` and are never handed out again. Call it on a
    /// fresh searcher before `next()`, then replay the ended ones through `observe`. Running
    /// again a trial that was lost to a crash is the coordinator's job, with the same index
    /// and parameters.
    mutating func resume(handedOut: [SuggestedTrial])
}

/// Why a spec cannot be searched. `SweepFileParser` reports these as validation errors first;
/// the searchers check again so that a hand-built spec fails cleanly instead of trapping.
public enum SearcherError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A grid parameter W&B cannot enumerate (anything but value, values without
    /// probabilities, int_uniform and q_uniform). `path` is dotted, e.g. `optimizer.lr`.
    case notEnumerable(path: String, kind: String)
    /// A parameter with an empty `values` list.
    case emptyValues(path: String)
    /// The grid has more points than an `Int` can count.
    case gridTooLarge

    public var description: String {
        switch self {
        case let .notEnumerable(path, kind):
            return "parameters.\(path): a grid sweep cannot enumerate \(kind); use value, values, int_uniform or q_uniform"
        case let .emptyValues(path):
            return "parameters.\(path).values is empty"
        case .gridTooLarge:
            return "the grid has more points than can be counted (over \(Int.max))"
        }
    }
}

/// Builds the searcher a spec's `method` asks for, seeded from `spec.thresher.seed`.
public enum SearcherFactory {
    public static func make(for spec: SweepSpec) throws(SearcherError) -> any Searcher {
        switch spec.method {
        case .grid: return try GridSearcher(spec: spec)
        case .random: return try RandomSearcher(spec: spec)
        case .bayes: return try TPESearcher(spec: spec)
        }
    }
}
