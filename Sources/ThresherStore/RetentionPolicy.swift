/// Which direction of the sweep's metric is better.
public enum MetricGoal: String, Codable, Sendable, Equatable {
    case minimize, maximize
}

/// A checkpoint the coordinator holds or has reserved budget for (its upload is in progress).
public struct HeldCheckpoint: Sendable, Equatable {
    public var id: Int64
    public var trial: Int64
    public var step: Int64
    /// The evaluation metric at this step; nil (or NaN) means it cannot be ranked.
    public var metric: Double?
    public var bytes: Int64
    /// Whether this is the newest checkpoint of its trial (the one a resume would start from).
    public var isLatest: Bool
    /// Whether its trial has not ended (pending for a retry, assigned or running): only then is a
    /// latest copy worth keeping, since a requeued trial resumes from it.
    public var trialRunning: Bool
    /// Whether its bytes are in the blob store (`stored`), rather than still on their way
    /// (`uploading`): only a stored copy can be resumed from.
    public var isStored: Bool

    public init(id: Int64, trial: Int64, step: Int64, metric: Double?, bytes: Int64, isLatest: Bool, trialRunning: Bool,
                isStored: Bool = true) {
        self.id = id; self.trial = trial; self.step = step; self.metric = metric
        self.bytes = bytes; self.isLatest = isLatest; self.trialRunning = trialRunning; self.isStored = isStored
    }
}

/// A checkpoint a worker has saved locally and that the coordinator may ask it to upload.
public struct CandidateCheckpoint: Sendable, Equatable {
    public var trial: Int64
    public var step: Int64
    public var metric: Double?
    public var bytes: Int64
    /// The candidate becomes its (running) trial's latest checkpoint; any held copy of the same
    /// trial stops being the latest. Ignored when a later step of the trial is already held.
    public var isLatest: Bool

    public init(trial: Int64, step: Int64, metric: Double?, bytes: Int64, isLatest: Bool) {
        self.trial = trial; self.step = step; self.metric = metric; self.bytes = bytes; self.isLatest = isLatest
    }
}

/// The answer to "should this checkpoint cross the network?".
public enum RetentionDecision: Sendable, Equatable {
    /// Upload it; once it is stored, evict these held checkpoints (by id). The budget must be
    /// reserved for the candidate before the upload starts, so evict first, then upload.
    case accept(evicting: [Int64])
    /// Do not upload; the held set is unchanged.
    case refuse(RefusalReason)
}

public enum RefusalReason: Sendable, Equatable {
    /// Neither among the sweep's top-k (after the per-trial cap) nor a running trial's latest copy.
    case notWanted
    /// Fitting it would require evicting something the policy ranks above it (or it exceeds the
    /// whole budget). `available` is what would be left after everything ranked above it.
    case overBudget(needed: Int64, available: Int64)
    /// The same trial and step is already held.
    case alreadyHeld
    /// Negative size.
    case invalid
}

/// The checkpoint retention policy of one sweep: a pure function of the held set, no I/O.
///
/// Ranking (best first): a rankable metric (non-nil, not NaN) beats none; then the better metric
/// for `goal`; ties by earlier step, then smaller trial id, then smaller checkpoint id (the
/// candidate counts as newer than every held id). Every comparison is total, so the order never
/// depends on input order.
///
/// Wanted set of a group of checkpoints:
/// - top-k: walk the ranked checkpoints best first, skipping any beyond the first
///   `keepTopKPerTrial` of their trial; the first `keepTopK` taken are wanted. So
///   `keepTopKPerTrial` is a cap inside the sweep-wide top-k (the default 3/1 keeps the best
///   checkpoint of each of the best three trials); 0 for either keeps nothing for its rank.
/// - latest: with `keepLatestPerTrial`, each running trial's latest checkpoint (at most one per trial).
/// - resume: with `keepLatestPerTrial`, while a running trial's latest copy is still uploading, its
///   newest *stored* copy — what a resume would start from if that upload never finished (the
///   worker dies mid-upload). Once the later copy is stored it is no longer wanted.
///
/// Priority for the byte budget: top-k members in rank order, then latest-only copies in rank
/// order, then resume copies in rank order (so a tight budget drops a resume copy first).
/// Checkpoints are admitted greedily in priority order while they fit under `maxBytes`.
///
/// Invariants (tested by a randomized property test): after applying any decision the held bytes
/// are ≤ `maxBytes`; a checkpoint is never evicted to make room for one of lower priority, so a
/// top-k checkpoint is never evicted for a worse one and the best accepted checkpoint is retained;
/// a refusal changes nothing; everything held after a decision is wanted.
public struct RetentionPolicy: Sendable, Equatable {
    public var keepTopK: Int
    public var keepTopKPerTrial: Int
    public var keepLatestPerTrial: Bool
    /// Hard byte budget; nil means unlimited.
    public var maxBytes: Int64?
    public var goal: MetricGoal

    /// Defaults are those of the sweep file's `retention` block.
    public init(keepTopK: Int = 3, keepTopKPerTrial: Int = 1, keepLatestPerTrial: Bool = true, maxBytes: Int64? = nil, goal: MetricGoal) {
        self.keepTopK = max(0, keepTopK); self.keepTopKPerTrial = max(0, keepTopKPerTrial)
        self.keepLatestPerTrial = keepLatestPerTrial; self.maxBytes = maxBytes; self.goal = goal
    }

    /// Decides whether `candidate` should be uploaded given what is held, and what it displaces.
    public func decide(held: [HeldCheckpoint], candidate: CandidateCheckpoint) -> RetentionDecision {
        guard candidate.bytes >= 0 else { return .refuse(.invalid) }
        if held.contains(where: { $0.trial == candidate.trial && $0.step == candidate.step }) {
            return .refuse(.alreadyHeld)
        }
        var entries = held.map { Entry(held: $0) }
        var newcomer = Entry(candidate: candidate)
        if candidate.isLatest {
            if held.contains(where: { $0.trial == candidate.trial && $0.step > candidate.step }) {
                // A late report of an older step cannot be the latest: something newer is held.
                newcomer.isLatest = false
                newcomer.trialRunning = false
            } else {
                // The candidate supersedes the trial's previous latest copy.
                for i in entries.indices where entries[i].trial == candidate.trial { entries[i].isLatest = false }
            }
        }
        entries.append(newcomer)
        let ordered = prioritized(entries)
        guard let position = ordered.firstIndex(where: { $0.isCandidate }) else { return .refuse(.notWanted) }
        let plan = admit(ordered)
        let ahead = ordered[..<position].reduce(Int64(0)) { $0 + $1.bytes }
        // All of `ahead` must survive: dropping any of them would evict a better checkpoint for this one.
        guard plan.kept.contains(Entry.candidateID), !ordered[..<position].contains(where: { !plan.kept.contains($0.id) }) else {
            let available = maxBytes.map { max(0, $0 - ahead) } ?? Int64.max
            return .refuse(.overBudget(needed: candidate.bytes, available: available))
        }
        let evict = held.map(\.id).filter { !plan.kept.contains($0) }.sorted()
        return .accept(evicting: evict)
    }

    /// Held checkpoints the policy no longer keeps: out of the top-k, latest copies of trials that
    /// ended or advanced, or over the budget (lowest priority first). Applying it is idempotent.
    public func evictions(after held: [HeldCheckpoint]) -> [Int64] {
        let plan = admit(prioritized(held.map { Entry(held: $0) }))
        return held.map(\.id).filter { !plan.kept.contains($0) }.sorted()
    }

    /// The held checkpoints the policy wants, best priority first, before the budget is applied.
    public func wanted(_ held: [HeldCheckpoint]) -> [Int64] {
        prioritized(held.map { Entry(held: $0) }).map(\.id)
    }

    /// Whether `a` ranks strictly above `b` under the rules in the type's documentation.
    public func ranksAbove(_ a: HeldCheckpoint, _ b: HeldCheckpoint) -> Bool {
        better(Entry(held: a), Entry(held: b))
    }

    // MARK: Internals

    struct Entry {
        static let candidateID = Int64.max
        var id: Int64
        var trial: Int64
        var step: Int64
        var metric: Double?
        var bytes: Int64
        var isLatest: Bool
        var trialRunning: Bool
        var isStored: Bool
        var isCandidate: Bool { id == Self.candidateID }

        init(held: HeldCheckpoint) {
            id = held.id; trial = held.trial; step = held.step; bytes = held.bytes
            metric = held.metric.flatMap { $0.isNaN ? nil : $0 }
            isLatest = held.isLatest; trialRunning = held.trialRunning; isStored = held.isStored
        }

        init(candidate: CandidateCheckpoint) {
            id = Self.candidateID; trial = candidate.trial; step = candidate.step; bytes = candidate.bytes
            metric = candidate.metric.flatMap { $0.isNaN ? nil : $0 }
            isLatest = candidate.isLatest; trialRunning = candidate.isLatest; isStored = false
        }
    }

    /// Total order: rankable first, better metric, earlier step, smaller trial, smaller id.
    func better(_ a: Entry, _ b: Entry) -> Bool {
        switch (a.metric, b.metric) {
        case (.some, .none): return true
        case (.none, .some): return false
        case let (.some(x), .some(y)) where x != y: return goal == .minimize ? x < y : x > y
        default: break
        }
        if a.step != b.step { return a.step < b.step }
        if a.trial != b.trial { return a.trial < b.trial }
        return a.id < b.id
    }

    /// The wanted entries in budget priority order (top-k by rank, then latest-only copies by rank).
    func prioritized(_ entries: [Entry]) -> [Entry] {
        let ranked = entries.sorted(by: better)
        var top: [Entry] = []
        var perTrial: [Int64: Int] = [:]
        if keepTopK > 0 && keepTopKPerTrial > 0 {
            for entry in ranked where entry.metric != nil {
                guard top.count < keepTopK else { break }
                let count = perTrial[entry.trial, default: 0]
                guard count < keepTopKPerTrial else { continue }
                perTrial[entry.trial] = count + 1
                top.append(entry)
            }
        }
        let inTop = Set(top.map(\.id))
        var latest: [Entry] = []
        var resume: [Entry] = []
        if keepLatestPerTrial {
            var latestOf: [Int64: Entry] = [:]
            // If a caller marks two copies of one trial as latest, only the better-ranked counts.
            for entry in ranked where entry.isLatest && entry.trialRunning && latestOf[entry.trial] == nil {
                latestOf[entry.trial] = entry
                if !inTop.contains(entry.id) { latest.append(entry) }
            }
            // Each running trial whose latest copy is not stored yet keeps its newest stored one.
            var newestStored: [Int64: Entry] = [:]
            for entry in entries where entry.isStored && entry.trialRunning {
                if let other = newestStored[entry.trial], other.step > entry.step || (other.step == entry.step && other.id < entry.id) { continue }
                newestStored[entry.trial] = entry
            }
            for entry in ranked {
                guard let chosen = latestOf[entry.trial], !chosen.isStored, newestStored[entry.trial]?.id == entry.id,
                      entry.id != chosen.id, !inTop.contains(entry.id) else { continue }
                resume.append(entry)
            }
        }
        return top + latest + resume
    }

    /// Greedy admission in priority order; an entry that does not fit is skipped and smaller,
    /// lower-priority ones may still be admitted.
    func admit(_ ordered: [Entry]) -> (kept: Set<Int64>, bytes: Int64) {
        var kept = Set<Int64>()
        var total: Int64 = 0
        for entry in ordered {
            if let limit = maxBytes {
                let (sum, overflow) = total.addingReportingOverflow(entry.bytes)
                guard !overflow, sum <= limit else { continue }
                total = sum
            } else {
                total = total &+ entry.bytes
            }
            kept.insert(entry.id)
        }
        return (kept, total)
    }
}
