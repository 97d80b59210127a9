import XCTest
@testable import ThresherStore

/// Thousands of seeded random sequences of uploads and trial endings, applying every decision to a
/// simulated held set and checking the policy's invariants after each step against an independent
/// reference ranking.
final class RetentionPropertyTests: XCTestCase {
    /// Reference comparator written separately from the policy's: metric (goal), step, trial, id.
    private func referenceBetter(_ a: HeldCheckpoint, _ b: HeldCheckpoint, goal: MetricGoal) -> Bool {
        let x = a.metric.flatMap { $0.isNaN ? nil : $0 }, y = b.metric.flatMap { $0.isNaN ? nil : $0 }
        if let x, let y, x != y { return goal == .minimize ? x < y : x > y }
        if (x == nil) != (y == nil) { return x != nil }
        return (a.step, a.trial, a.id) < (b.step, b.trial, b.id)
    }

    private func referenceTop(_ held: [HeldCheckpoint], _ policy: RetentionPolicy) -> Set<Int64> {
        var perTrial: [Int64: Int] = [:]
        var top = Set<Int64>()
        for c in held.sorted(by: { referenceBetter($0, $1, goal: policy.goal) }) where c.metric.map({ !$0.isNaN }) ?? false {
            if top.count >= policy.keepTopK { break }
            if perTrial[c.trial, default: 0] >= policy.keepTopKPerTrial { continue }
            perTrial[c.trial, default: 0] += 1
            top.insert(c.id)
        }
        return top
    }

    func testInvariantsHoldOverRandomSequences() {
        var rng = SplitMix64(seed: 20_261_123)
        var accepted = 0, refused = 0, evicted = 0
        for sequence in 0 ..< 3000 {
            let policy = RetentionPolicy(
                keepTopK: Int.random(in: 0 ... 4, using: &rng), keepTopKPerTrial: Int.random(in: 0 ... 3, using: &rng),
                keepLatestPerTrial: Bool.random(using: &rng),
                maxBytes: Bool.random(using: &rng) ? nil : Int64.random(in: 20 ... 150, using: &rng),
                goal: Bool.random(using: &rng) ? .minimize : .maximize)
            let trials = Int64.random(in: 1 ... 6, using: &rng)
            var running = Set(1 ... trials)
            var nextStep = [Int64: Int64]()
            var heldSet: [HeldCheckpoint] = []
            var nextID: Int64 = 1
            var bestAccepted: HeldCheckpoint?
            let context = "sequence \(sequence), policy \(policy)"

            for _ in 0 ..< 40 {
                if Int.random(in: 0 ..< 3, using: &rng) == 0, heldSet.contains(where: { !$0.isStored }) {
                    // Uploads in flight complete: resume copies they were backing up are released,
                    // and nothing else (they rank below every top-k and latest copy).
                    let topBefore = referenceTop(heldSet, policy)
                    for i in heldSet.indices { heldSet[i].isStored = true }
                    let out = policy.evictions(after: heldSet)
                    for e in heldSet where out.contains(e.id) {
                        XCTAssertFalse(topBefore.contains(e.id), "\(context): a stored upload evicted top-k \(e)")
                        XCTAssertFalse(e.isLatest, "\(context): a stored upload evicted a latest copy \(e)")
                    }
                    heldSet.removeAll { out.contains($0.id) }
                    evicted += out.count
                } else if Int.random(in: 0 ..< 10, using: &rng) == 0, let trial = running.randomElement(using: &rng) {
                    // A trial ends: its copies are no longer a running trial's, then apply the evictions.
                    running.remove(trial)
                    for i in heldSet.indices where heldSet[i].trial == trial { heldSet[i].trialRunning = false }
                    let out = policy.evictions(after: heldSet)
                    XCTAssertTrue(Set(out).isSubset(of: Set(heldSet.map(\.id))), context)
                    heldSet.removeAll { out.contains($0.id) }
                    evicted += out.count
                } else {
                    let trial = Int64.random(in: 1 ... trials, using: &rng)
                    let step = nextStep[trial, default: 0] + Int64.random(in: 1 ... 3, using: &rng)
                    nextStep[trial] = step
                    // Few distinct metric values so ties are common; some missing.
                    let metric: Double? = Int.random(in: 0 ..< 8, using: &rng) == 0 ? nil : Double(Int.random(in: 0 ... 6, using: &rng)) / 4
                    let isRunning = running.contains(trial)
                    let c = CandidateCheckpoint(trial: trial, step: step, metric: metric, bytes: Int64.random(in: 0 ... 60, using: &rng), isLatest: isRunning)
                    let before = heldSet
                    let topBefore = referenceTop(before, policy)
                    switch policy.decide(held: heldSet, candidate: c) {
                    case .refuse:
                        refused += 1
                    case .accept(let out):
                        accepted += 1
                        evicted += out.count
                        XCTAssertTrue(Set(out).isSubset(of: Set(before.map(\.id))), context)
                        let newcomer = HeldCheckpoint(id: nextID, trial: trial, step: step, metric: metric, bytes: c.bytes,
                                                      isLatest: c.isLatest, trialRunning: isRunning, isStored: false)
                        nextID += 1
                        // Never evicted for a worse one: a displaced top-k member ranks below the newcomer.
                        for e in before where out.contains(e.id) && topBefore.contains(e.id) {
                            XCTAssertTrue(referenceBetter(newcomer, e, goal: policy.goal), "\(context): evicted \(e) for \(newcomer)")
                        }
                        heldSet.removeAll { out.contains($0.id) }
                        if c.isLatest { for i in heldSet.indices where heldSet[i].trial == trial { heldSet[i].isLatest = false } }
                        heldSet.append(newcomer)
                        if newcomer.metric != nil, bestAccepted.map({ referenceBetter(newcomer, $0, goal: policy.goal) }) ?? true {
                            bestAccepted = newcomer
                        }
                    }
                }
                // As the store computes it: each trial's highest held step is its latest copy (a
                // resume copy becomes the latest again when the upload it backed up was evicted).
                for trial in Set(heldSet.map(\.trial)) {
                    let top = heldSet.filter { $0.trial == trial }.map(\.step).max()
                    for i in heldSet.indices where heldSet[i].trial == trial { heldSet[i].isLatest = heldSet[i].step == top }
                }
                // Budget never exceeded.
                if let limit = policy.maxBytes {
                    XCTAssertLessThanOrEqual(heldSet.reduce(0) { $0 + $1.bytes }, limit, context)
                }
                // The held set is exactly what the policy keeps: nothing more to evict.
                XCTAssertEqual(policy.evictions(after: heldSet), [], context)
                // Everything held is wanted for a reason the reference recognises.
                let top = referenceTop(heldSet, policy)
                for h in heldSet {
                    XCTAssertTrue(top.contains(h.id) || (policy.keepLatestPerTrial && h.isLatest && h.trialRunning)
                                  || (policy.keepLatestPerTrial && Self.isResumeCopy(h, in: heldSet)), "\(context): \(h) held but unwanted")
                }
                // The sweep-wide best accepted checkpoint is always retained.
                if policy.keepTopK > 0, policy.keepTopKPerTrial > 0, let best = bestAccepted {
                    XCTAssertTrue(heldSet.contains { $0.id == best.id }, "\(context): lost the best \(best)")
                }
                // At most one latest copy per trial.
                let latestTrials = heldSet.filter(\.isLatest).map(\.trial)
                XCTAssertEqual(latestTrials.count, Set(latestTrials).count, context)
            }
        }
        // The generator must exercise every branch, or the test proves little.
        XCTAssertGreaterThan(accepted, 10_000)
        XCTAssertGreaterThan(refused, 10_000)
        XCTAssertGreaterThan(evicted, 5000)
    }

    /// The newest stored copy of a running trial whose latest copy is still uploading.
    static func isResumeCopy(_ h: HeldCheckpoint, in held: [HeldCheckpoint]) -> Bool {
        guard h.trialRunning, h.isStored, !h.isLatest else { return false }
        let mine = held.filter { $0.trial == h.trial }
        guard mine.contains(where: { $0.isLatest && !$0.isStored }) else { return false }
        return !mine.contains { $0.isStored && $0.step > h.step }
    }

    /// Refusals change nothing: deciding never mutates its input and a refusal carries no evictions,
    /// and deciding twice gives the same answer (pure).
    func testDecisionsArePureAndDeterministic() {
        var rng = SplitMix64(seed: 99)
        for _ in 0 ..< 2000 {
            let policy = RetentionPolicy(keepTopK: Int.random(in: 0 ... 3, using: &rng), maxBytes: Int64.random(in: 10 ... 100, using: &rng), goal: .maximize)
            let heldSet = (1 ... Int64.random(in: 1 ... 6, using: &rng)).map {
                held($0, trial: $0 % 3, step: $0, Double(Int.random(in: 0 ... 3, using: &rng)), bytes: Int64.random(in: 1 ... 20, using: &rng),
                     latest: Bool.random(using: &rng), running: Bool.random(using: &rng))
            }
            let c = candidate(trial: 1, step: 100, Double(Int.random(in: 0 ... 3, using: &rng)), bytes: Int64.random(in: 1 ... 40, using: &rng), latest: true)
            let first = policy.decide(held: heldSet, candidate: c)
            XCTAssertEqual(policy.decide(held: heldSet.reversed(), candidate: c), first, "input order does not matter")
            XCTAssertEqual(policy.evictions(after: heldSet), policy.evictions(after: heldSet.reversed()))
        }
    }
}
