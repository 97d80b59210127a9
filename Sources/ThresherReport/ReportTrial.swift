import Foundation

/// One trial as the report shows it: identity, parameters, curve, outcome and checkpoints.
public struct ReportTrial: Sendable, Equatable {
    public var id: Int64
    public var index: Int
    /// `pending`, `assigned`, `running`, `completed`, `stopped`, `failed` or `cancelled`.
    public var state: String
    /// Flattened parameters (nested maps as `outer.inner`), in the sweep file's order.
    public var params: [(name: String, value: ReportValue)]
    /// Every value of the sweep metric in the order it was stored, non-finite ones included.
    public var curve: [CurvePoint]
    /// The ASHA bracket; nil for other policies.
    public var bracket: Int?
    public var stop: ReportStop?
    public var lastError: String?
    /// Checkpoints whose bytes are in the blob store now (what `thresher fetch` can give).
    public var storedCheckpoints: [ReportCheckpoint]
    /// When the trial reached its terminal state; nil while it is open.
    public var endedAt: Date?

    public init(id: Int64, index: Int, state: String, params: [(name: String, value: ReportValue)], curve: [CurvePoint],
                bracket: Int? = nil, stop: ReportStop? = nil, lastError: String? = nil, storedCheckpoints: [ReportCheckpoint] = [],
                endedAt: Date? = nil) {
        self.id = id; self.index = index; self.state = state; self.params = params; self.curve = curve
        self.bracket = bracket; self.stop = stop; self.lastError = lastError; self.storedCheckpoints = storedCheckpoints
        self.endedAt = endedAt
    }

    public static func == (a: ReportTrial, b: ReportTrial) -> Bool {
        a.id == b.id && a.index == b.index && a.state == b.state && a.curve == b.curve && a.bracket == b.bracket
            && a.stop == b.stop && a.lastError == b.lastError && a.storedCheckpoints == b.storedCheckpoints && a.endedAt == b.endedAt
            && a.params.map(\.name) == b.params.map(\.name) && a.params.map(\.value) == b.params.map(\.value)
    }

    /// The finite points of the curve, in stored order.
    public var finiteCurve: [CurvePoint] { curve.filter { $0.value.isFinite } }

    /// Finite values reported: the iteration count every stopping policy judges by.
    public var iterations: Int { curve.reduce(0) { $0 + ($1.value.isFinite ? 1 : 0) } }

    /// The best finite value in the goal's direction, nil when there is none.
    public func best(_ goal: ReportGoal) -> Double? {
        finiteCurve.map(\.value).reduce(nil) { best, v in best.map { goal.isBetter(v, than: $0) ? v : $0 } ?? v }
    }

    /// The last finite value: the trial's final metric.
    public var final: Double? { finiteCurve.last?.value }

    /// The highest step reported, nil before the first value.
    public var lastStep: Int64? { curve.map(\.step).max() }

    public var isStopped: Bool { state == "stopped" }
    public var isFailed: Bool { state == "failed" }
}

/// One value of the sweep metric: its step, and when the coordinator stored it (orders values
/// across trials for the compute axis).
public struct CurvePoint: Sendable, Equatable {
    public var step: Int64
    public var value: Double
    public var storedAt: Date
    public init(step: Int64, value: Double, storedAt: Date) { self.step = step; self.value = value; self.storedAt = storedAt }

    public static func == (a: CurvePoint, b: CurvePoint) -> Bool {
        a.step == b.step && a.storedAt == b.storedAt && (a.value == b.value || (a.value.isNaN && b.value.isNaN))
    }
}

/// Why a trial was stopped early, as stored with the decision.
public struct ReportStop: Sendable, Equatable {
    /// `hyperband`, `asha`, `median` or `user`.
    public var rule: String
    /// The rung (iteration count) the decision was taken at; nil for the median rule and the user.
    public var rungIteration: Int?
    public var threshold: Double?
    public var value: Double?
    public var message: String
    public init(rule: String, rungIteration: Int? = nil, threshold: Double? = nil, value: Double? = nil, message: String) {
        self.rule = rule; self.rungIteration = rungIteration; self.threshold = threshold; self.value = value; self.message = message
    }
}

/// A stored checkpoint: what `thresher fetch` would write for it.
public struct ReportCheckpoint: Sendable, Equatable {
    public var step: Int64
    public var bytes: Int64
    /// SHA-256 hex of the blob.
    public var digest: String
    /// The sweep metric at the checkpoint's step, when announced.
    public var metric: Double?
    public init(step: Int64, bytes: Int64, digest: String, metric: Double?) {
        self.step = step; self.bytes = bytes; self.digest = digest; self.metric = metric
    }
}
