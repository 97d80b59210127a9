import Foundation
import ThresherStore
import ThresherSweep
import ThresherWire

/// The in-memory half of one sweep: its parsed spec, searcher and stopping policy. Everything in
/// it can be rebuilt from the store (`Coordinator.rebuild`), so losing it loses nothing.
struct SweepRuntime {
    let id: Int64
    let name: String
    let spec: SweepSpec
    let baseDirectory: String
    var searcher: any Searcher
    var policy: any StoppingPolicy
    /// How many suggestions the searcher has handed out (enqueued trials).
    var handedOut: Int
    /// The searcher said no more (or `totalCount` is reached).
    var exhausted: Bool
    /// Searcher index → trial id, and back.
    var trialByIndex: [Int: Int64] = [:]
    var indexByTrial: [Int64: Int] = [:]
    /// The last step each trial reported (for the stored stop explanation).
    var lastStep: [Int64: Int64] = [:]
    /// Parameters of trials enqueued by this process and not yet assigned, so the assignment that
    /// normally follows at once need not decode the JSON it just stored. A cache: after a restart
    /// it is empty and the stored JSON is decoded instead.
    var unassignedParams: [Int64: ParamMap] = [:]

    init(sweep: Sweep) throws {
        let (text, base) = StoredSpec.split(sweep.spec)
        let spec: SweepSpec
        do { spec = try SweepFileParser.parse(text, fileName: sweep.name).spec } catch {
            throw CoordinatorError.invalidSweepFile(error.description)
        }
        do { searcher = try SearcherFactory.make(for: spec) } catch { throw CoordinatorError.unsearchable(error.description) }
        self.id = sweep.id
        self.name = sweep.name
        self.spec = spec
        self.baseDirectory = base
        policy = spec.earlyTerminate.map { StoppingPolicyFactory.make($0, metric: spec.metric ?? MetricSpec(name: "")) } ?? NoStopping()
        handedOut = 0
        exhausted = false
    }

    var metricName: String? { spec.metric?.name }

    var retention: RetentionPolicy {
        let r = spec.thresher.retention
        let goal: ThresherStore.MetricGoal = spec.metric?.goal == .maximize ? .maximize : .minimize
        return RetentionPolicy(keepTopK: r.keepTopK, keepTopKPerTrial: r.keepTopKPerTrial,
                               keepLatestPerTrial: r.keepLatestPerTrial, maxBytes: r.maxBytes, goal: goal)
    }

    mutating func remember(trial: Int64, index: Int) {
        trialByIndex[index] = trial
        indexByTrial[trial] = index
    }

    /// The next suggestion, or nil (and `exhausted`) when the searcher has no more.
    mutating func nextSuggestion() -> SuggestedTrial? {
        if exhausted { return nil }
        if let total = searcher.totalCount, handedOut >= total { exhausted = true; return nil }
        guard let next = searcher.next() else { exhausted = true; return nil }
        handedOut += 1
        return next
    }

    /// The store's stop record for a policy decision: the policy's own text is the message, so
    /// `status`, the event log and the worker's stop verdict all say the same thing.
    static func storeExplanation(_ e: ThresherSweep.StopExplanation, step: Int64?) -> ThresherStore.StopExplanation {
        var band: Int?, rung: Int?
        switch e.stage {
        case .band(let b): band = b
        case .rung(let index, _): rung = index
        case .iteration: break
        }
        return ThresherStore.StopExplanation(rule: e.policy.rawValue, band: band, rung: rung, step: step,
                                             threshold: e.threshold, value: e.value, rank: e.rank, of: e.comparedCount,
                                             message: e.description)
    }
}
