import Foundation

/// Everything a sweep report shows, as plain values: what `SweepReportReader` reads from a store and
/// `ReportPage` renders. Holds no store handle, so rendering is a pure function of this value.
///
/// Guarantees nothing about the values themselves (they come from user programs): curves may hold
/// NaN or ±inf, names may hold markup. The renderer skips non-finite numbers and escapes all text.
public struct SweepReport: Sendable, Equatable {
    public var sweepID: Int64
    public var name: String
    /// The search method as the sweep file names it (`grid`, `random`, `bayes`).
    public var method: String
    public var state: String
    /// The sweep metric; empty when the sweep file names none.
    public var metric: String
    public var goal: ReportGoal
    public var createdAt: Date
    /// When the report was made (the command's clock; the renderer reads none).
    public var generatedAt: Date
    /// Trials by state, in the order to show them (states with none may be absent).
    public var counts: [StateCount]
    /// Parameter names whose sweep distribution is log-scaled (log-uniform and kin).
    public var logScaledParameters: Set<String>
    public var trials: [ReportTrial]
    /// The early-termination schedule; nil when the sweep has none.
    public var schedule: ReportSchedule?
    public var storage: ReportStorage

    public init(sweepID: Int64, name: String, method: String, state: String, metric: String, goal: ReportGoal,
                createdAt: Date, generatedAt: Date, counts: [StateCount], logScaledParameters: Set<String> = [],
                trials: [ReportTrial], schedule: ReportSchedule? = nil, storage: ReportStorage = ReportStorage()) {
        self.sweepID = sweepID; self.name = name; self.method = method; self.state = state; self.metric = metric
        self.goal = goal; self.createdAt = createdAt; self.generatedAt = generatedAt; self.counts = counts
        self.logScaledParameters = logScaledParameters; self.trials = trials; self.schedule = schedule; self.storage = storage
    }

    /// The trial with the best finite value of the metric (ties: the lower index), if any.
    public var bestTrial: ReportTrial? {
        trials.filter { $0.best(goal) != nil }.min { a, b in
            let x = a.best(goal) ?? 0, y = b.best(goal) ?? 0
            return x == y ? a.index < b.index : goal.isBetter(x, than: y)
        }
    }
}

/// Which way the metric improves.
public enum ReportGoal: String, Sendable, Equatable {
    case minimize, maximize

    /// Whether `a` is strictly better than `b` in this direction.
    public func isBetter(_ a: Double, than b: Double) -> Bool { self == .minimize ? a < b : a > b }
}

/// How many trials are in one state.
public struct StateCount: Sendable, Equatable {
    public var state: String
    public var count: Int
    public init(state: String, count: Int) { self.state = state; self.count = count }
}

/// A parameter value as the report shows it: numbers can sit on a numeric axis, anything else
/// (strings, booleans, lists, maps) is a category with its text.
public enum ReportValue: Sendable, Hashable {
    case number(Double)
    case text(String)

    public var text: String {
        switch self {
        case .number(let v): ReportNumber.text(v)
        case .text(let t): t
        }
    }
}

/// The stopping policy's rungs, as the coordinator judges at them (see `TrialStage.Schedule`).
public struct ReportSchedule: Sendable, Equatable {
    /// `hyperband`, `asha` or `median`.
    public var policy: String
    /// One ascending list of rung iterations per bracket (hyperband: one; median: none).
    public var brackets: [[Int]]
    public init(policy: String, brackets: [[Int]]) { self.policy = policy; self.brackets = brackets }
}

/// Checkpoint storage over the sweep's life: each change to the bytes held in the blob store.
public struct ReportStorage: Sendable, Equatable {
    /// The sweep's retention budget (`thresher.retention.max_bytes`); nil when it has none.
    public var maxBytes: Int64?
    /// Stored and evicted checkpoints, in the order the store logged them.
    public var changes: [StorageChange]
    public init(maxBytes: Int64? = nil, changes: [StorageChange] = []) { self.maxBytes = maxBytes; self.changes = changes }
}

/// One checkpoint entering (`stored`) or leaving (`evicted`) the blob store.
public struct StorageChange: Sendable, Equatable {
    /// Entering or leaving the blob store.
    public enum Kind: String, Sendable, Equatable { case stored, evicted }
    public var time: Date
    public var checkpoint: Int64
    public var bytes: Int64
    public var kind: Kind
    public init(time: Date, checkpoint: Int64, bytes: Int64, kind: Kind) {
        self.time = time; self.checkpoint = checkpoint; self.bytes = bytes; self.kind = kind
    }
}
