import XCTest
@testable import ThresherSweep

/// Hyperband decisions against W&B's rules (WANDB-SWEEPS.md, `wandb/sweeps` hyperband_stopping.py).
/// "Loss" below means the value after W&B's negation of `maximize` metrics.
final class HyperbandStoppingTests: XCTestCase {
    private func policy(maxIter: Int, s: Int, eta: Double, strict: Bool = true,
                        goal: MetricGoal = .minimize) -> HyperbandStopping {
        HyperbandStopping(spec: HyperbandSpec(maxIter: maxIter, s: s, eta: eta, strict: strict), goal: goal)
    }

    // MARK: Bands

    func testBandsFromMaxIter() {
        XCTAssertEqual(HyperbandStopping.bands(for: HyperbandSpec(maxIter: 81, s: 3)), [3, 9, 27])
        XCTAssertEqual(HyperbandStopping.bands(for: HyperbandSpec(maxIter: 18, s: 2)), [2, 6])
        XCTAssertEqual(HyperbandStopping.bands(for: HyperbandSpec(maxIter: 100, s: 3)), [3, 11, 33])
        // W&B's docstring example: 5 / 2 = 2.5 → 2, 1.25 → 1.
        XCTAssertEqual(HyperbandStopping.bands(for: HyperbandSpec(maxIter: 5, s: 2, eta: 2)), [1, 2])
        // W1: 500 / 3ᵏ = 166.7, 55.6, 18.5, 6.2, 2.06, then 0.69 < 1 ends the list.
        XCTAssertEqual(HyperbandStopping.bands(for: HyperbandSpec(maxIter: 500, s: 50)), [2, 6, 18, 55, 166])
        // Repeated division in doubles, as W&B: 363 / 1.1 = 330.0, / 1.1 = 300.0 (⌊363 / 1.1²⌋ would be 299).
        XCTAssertEqual(HyperbandStopping.bands(for: HyperbandSpec(maxIter: 363, s: 2, eta: 1.1)), [300, 330])
        // Small eta repeats bands: 6.67, 4.44, 2.96, 1.98, 1.32 → [1, 1, 2, 4, 6].
        XCTAssertEqual(HyperbandStopping.bands(for: HyperbandSpec(maxIter: 10, s: 5, eta: 1.5)), [1, 1, 2, 4, 6])
        XCTAssertEqual(HyperbandStopping.bands(for: HyperbandSpec(maxIter: 81, s: 3), limit: 2), [3, 9])
    }

    func testBandsFromMinIter() {
        let spec = HyperbandSpec(minIter: 3)
        XCTAssertEqual(Array(HyperbandStopping.bands(for: spec).prefix(4)), [3, 9, 27, 81])
        XCTAssertEqual(HyperbandStopping.bands(for: spec).count, 100, "W&B computes 100 bands")
        XCTAssertEqual(HyperbandStopping.bands(for: spec).last, Int.max, "3 · 3⁹⁹ saturates")
        XCTAssertEqual(HyperbandStopping.bands(for: HyperbandSpec(minIter: 1, eta: 2), limit: 5), [1, 2, 4, 8, 16])
        // max_iter with s wins over min_iter, as in W&B.
        XCTAssertEqual(HyperbandStopping.bands(for: HyperbandSpec(minIter: 1, maxIter: 81, s: 3)), [3, 9, 27])
    }

    func testInvalidSettingsHaveNoBands() {
        XCTAssertEqual(HyperbandStopping.bands(for: HyperbandSpec(minIter: 3, eta: 1)), [])
        XCTAssertEqual(HyperbandStopping.bands(for: HyperbandSpec(maxIter: 81)), [], "max_iter needs s")
        XCTAssertEqual(HyperbandStopping.bands(for: HyperbandSpec(maxIter: 2, s: 3)), [], "2 / 3 < 1")
        XCTAssertEqual(HyperbandStopping.bands(for: HyperbandSpec()), [])
        XCTAssertEqual(policy(maxIter: 81, s: 3, eta: .nan).bands, [])
    }

    func testSummaryAndWarnings() {
        let w1 = HyperbandSpec(maxIter: 500, s: 50)
        XCTAssertEqual(HyperbandStopping.summary(for: w1), "hyperband: bands 2, 6, 18, 55, 166 (eta 3, strict)")
        XCTAssertEqual(HyperbandStopping.warnings(for: w1), [
            "early_terminate.s is 50 but only 5 of the bands max_iter / etaᵏ (k = 1…s) are ≥ 1: bands 2, 6, 18, 55, 166; the other 45 are dropped",
        ])
        XCTAssertEqual(HyperbandStopping.warnings(for: HyperbandSpec(maxIter: 81, s: 3)), [])
        XCTAssertEqual(HyperbandStopping.warnings(for: HyperbandSpec(minIter: 3)), [])
        XCTAssertEqual(HyperbandStopping.summary(for: HyperbandSpec(minIter: 3, strict: false)),
                       "hyperband: bands 3, 9, 27, 81, 243, 729, 2187, 6561, 19683, 59049, 177147, 531441, … (eta 3, not strict)")
        XCTAssertTrue(HyperbandStopping.warnings(for: HyperbandSpec(maxIter: 10, s: 5, eta: 1.5))
            .contains { $0.hasPrefix("bands repeat (1)") })
        XCTAssertTrue(HyperbandStopping.warnings(for: HyperbandSpec(minIter: 3, eta: 1)) == [
            "early_terminate.eta must be > 1 (found 1): hyperband has no bands and stops nothing",
        ])
        XCTAssertTrue(HyperbandStopping.warnings(for: HyperbandSpec(minIter: 0))
            .contains { $0.hasPrefix("early_terminate.min_iter must be ≥ 1") })
        XCTAssertTrue(HyperbandStopping.warnings(for: HyperbandSpec(minIter: 1, eta: 1.1))
            .contains { $0.hasPrefix("W&B computes only 100 bands from min_iter; the last is 12527") })
        XCTAssertEqual(StoppingPolicyFactory.warnings(.hyperband(w1)).count, 1)
        XCTAssertEqual(StoppingPolicyFactory.summary(.hyperband(w1)), HyperbandStopping.summary(for: w1))
    }

    // MARK: Decisions

    /// W&B's own docstring example (max_iter 5, eta 2, s 2 → bands [1, 2]) replayed as events:
    /// a [10, 9] and e [10, 6, 6] finished; b [10, 10], c [10, 8, 8], d [10, 7, 7] running → only b stops.
    func testWandbDocstringExample() {
        var hb = policy(maxIter: 5, s: 2, eta: 2)
        for (trial, values) in [(0, [10.0, 9]), (4, [10.0, 6, 6])] {
            hb.trialStarted(trial)
            for value in values { XCTAssertEqual(hb.report(trial: trial, step: 0, value: value), []) }
            hb.trialEnded(trial, stopped: false)
        }
        for trial in 1...3 { hb.trialStarted(trial) }
        // Band 1 holds only 10s: threshold 10, and 10 > 10 is false.
        XCTAssertEqual(hb.report(trial: 1, step: 1, value: 10), [])
        XCTAssertEqual(hb.report(trial: 2, step: 1, value: 10), [])
        XCTAssertEqual(hb.report(trial: 3, step: 1, value: 10), [])
        // Band 2 = sorted [6, 9, 10], n 3, index ⌊3 / 2⌋ = 1 → threshold 9; b's 10 > 9 → stop, rank 3 of 3.
        let stopB = hb.report(trial: 1, step: 2, value: 10)
        XCTAssertEqual(stopB.map(\.trial), [1])
        XCTAssertEqual(stopB.first?.explanation.description, "stopped at band 2: 10.0 > threshold 9.0, rank 3 of 3")
        // [6, 8, 9, 10] → index 2 → 9: c's 8 passes; [6, 7, 8, 9, 10] → index 2 → 8: c's 8 > 8 is false.
        XCTAssertEqual(hb.report(trial: 2, step: 2, value: 8), [])
        XCTAssertEqual(hb.report(trial: 3, step: 2, value: 7), [])
        XCTAssertEqual(hb.report(trial: 2, step: 3, value: 8), [])
        XCTAssertEqual(hb.report(trial: 3, step: 3, value: 7), [])
        XCTAssertEqual(hb.thresholds, [1: 10, 2: 8])
    }

    /// Bands [2] (max_iter 4, s 1, eta 2); threshold = sorted band-2 values [⌊n / 2⌋].
    func testMovingThresholdStopsTrialsThatPassedEarlier() {
        var hb = policy(maxIter: 4, s: 1, eta: 2)
        XCTAssertEqual(hb.bands, [2])
        func run(_ trial: Int, _ values: [Double]) -> [StopDecision] {
            hb.trialStarted(trial)
            return values.flatMap { hb.report(trial: trial, step: 0, value: $0) }
        }
        XCTAssertEqual(run(0, [5, 5]), [])      // [5] → index 0 → 5; 5 > 5 is false
        XCTAssertEqual(run(1, [5, 3]), [])      // [3, 5] → index 1 → 5
        // [3, 4, 5] → index 1 → 4: trial 0 (5 > 4) stops although trial 2 reported.
        let first = run(2, [5, 4])
        XCTAssertEqual(first.map(\.trial), [0])
        XCTAssertEqual(first.first?.explanation.description, "stopped at band 2: 5.0 > threshold 4.0, rank 3 of 3")
        XCTAssertEqual(run(3, [5, 2]), [])      // [2, 3, 4, 5] → index 2 → 4; trial 2's 4 passes
        // [1, 2, 3, 4, 5] → index 2 → 3: trial 2, which passed band 2 before, is now above it.
        let second = run(4, [1, 1])
        XCTAssertEqual(second.map(\.trial), [2])
        XCTAssertEqual(second.first?.explanation, StopExplanation(
            policy: .hyperband, stage: .band(2), iteration: 2, value: 4, threshold: 3,
            goal: .minimize, rank: 4, comparedCount: 5))
        // Trial 0 keeps counting and is never stopped again: [1, 2, 3, 4, 5, 5] → index 3 → 4.
        XCTAssertEqual(hb.report(trial: 0, step: 3, value: 100), [])
        XCTAssertEqual(hb.thresholds, [2: 3])
    }

    /// Strict judges the value at the band, not strict the best so far. Bands [2], eta 2.
    func testStrictVersusNotStrict() {
        for strict in [true, false] {
            var hb = policy(maxIter: 4, s: 1, eta: 2, strict: strict)
            for trial in 0...2 { hb.trialStarted(trial) }
            var decisions: [StopDecision] = []
            for (trial, value) in [(0, 1.0), (0, 9), (1, 5), (1, 5), (2, 5), (2, 6)] {
                decisions += hb.report(trial: trial, step: 0, value: value)
            }
            // Band 2 = [5, 6, 9] → index 1 → 6. Trial 0: value 9 at band 2, best 1.
            if strict {
                XCTAssertEqual(decisions.map(\.trial), [0])
                XCTAssertEqual(decisions.first?.explanation.description, "stopped at band 2: 9.0 > threshold 6.0, rank 3 of 3")
            } else {
                XCTAssertEqual(decisions, [], "best so far 1 ≤ 6")
            }
        }
    }

    /// Not strict uses the best of the whole history, including values after the band.
    func testNotStrictUsesBestOfWholeHistory() {
        var hb = policy(maxIter: 4, s: 1, eta: 2, strict: false)
        // Trial 0: [9, 9] then 1 (count 3; b* stays 2). Trial 1: [1, 1]. Band 2 = [1, 9] → index 1 → 9.
        for (trial, value) in [(0, 9.0), (0, 9), (1, 1), (1, 1), (0, 1)] {
            XCTAssertEqual(hb.report(trial: trial, step: 0, value: value), [])
        }
        // Trial 2 [3, 3]: band 2 = [1, 3, 9] → index 1 → 3. Trial 0's best is 1: it continues.
        XCTAssertEqual(hb.report(trial: 2, step: 0, value: 3), [])
        XCTAssertEqual(hb.report(trial: 2, step: 1, value: 3), [])
    }

    /// `maximize` negates: band 2 losses [-0.7, -0.6, -0.5] → index 1 → -0.6, i.e. accuracy 0.6.
    func testMaximize() {
        var hb = policy(maxIter: 4, s: 1, eta: 2, goal: .maximize)
        var decisions: [StopDecision] = []
        for (trial, value) in [(0, 0.5), (0, 0.5), (1, 0.5), (1, 0.7), (2, 0.5), (2, 0.6)] {
            decisions += hb.report(trial: trial, step: 0, value: value)
        }
        XCTAssertEqual(decisions.map(\.trial), [0])
        XCTAssertEqual(decisions.first?.explanation.description, "stopped at band 2: 0.5 < threshold 0.6, rank 3 of 3")
        XCTAssertEqual(hb.thresholds, [2: 0.6])
    }

    /// A finished trial is counted but never stopped. Bands [2] (max_iter 6, s 1, eta 3): index ⌊n / 3⌋.
    func testEndedTrialsCountButAreNeverStopped() {
        var hb = policy(maxIter: 6, s: 1, eta: 3)
        hb.trialStarted(0)
        XCTAssertEqual(hb.report(trial: 0, step: 1, value: 9), [])
        XCTAssertEqual(hb.report(trial: 0, step: 2, value: 9), [])
        hb.trialEnded(0, stopped: false)
        // [1, 9] → index 0 → 1: trial 0 would be stopped were it running.
        XCTAssertEqual(hb.report(trial: 1, step: 1, value: 1), [])
        XCTAssertEqual(hb.report(trial: 1, step: 2, value: 1), [])
        // Trial 2 at 5: [1, 5, 9] → index 1 → 5: 5 > 5 is false; without trial 0's 9 it would be [1, 5] → 1.
        XCTAssertEqual(hb.report(trial: 2, step: 1, value: 5), [])
        XCTAssertEqual(hb.report(trial: 2, step: 2, value: 5), [])
        XCTAssertEqual(hb.thresholds, [2: 5])
    }

    /// NaN and ±inf are not iterations. Bands [2], eta 3.
    func testNonFiniteValuesAreIgnored() {
        var hb = policy(maxIter: 6, s: 1, eta: 3)
        XCTAssertEqual(hb.report(trial: 1, step: 1, value: 1), [])
        XCTAssertEqual(hb.report(trial: 1, step: 2, value: 1), [])
        XCTAssertEqual(hb.report(trial: 0, step: 1, value: 9), [])
        XCTAssertEqual(hb.report(trial: 0, step: 2, value: .nan), [], "still one value: no band reached")
        XCTAssertEqual(hb.report(trial: 0, step: 3, value: -.infinity), [])
        // Second finite value: band 2 = [1, 9] → index 0 → 1; 9 > 1.
        let decisions = hb.report(trial: 0, step: 4, value: 9)
        XCTAssertEqual(decisions.map(\.trial), [0])
        XCTAssertEqual(decisions.first?.explanation.iteration, 2)
    }

    func testStoppedTrialIsNeverStoppedAgainEvenIfRestarted() {
        var hb = policy(maxIter: 6, s: 1, eta: 3)
        for value in [1.0, 1, 9] { _ = hb.report(trial: value == 9 ? 0 : 1, step: 0, value: value) }
        XCTAssertEqual(hb.report(trial: 0, step: 1, value: 9).map(\.trial), [0])
        hb.trialEnded(0, stopped: true)
        hb.trialStarted(0)
        XCTAssertEqual(hb.report(trial: 0, step: 2, value: 9), [])
    }

    /// W&B's index is Int((1 / eta) · n): for eta 1.1 and n 33 that is 30 (⌊33 / 1.1⌋ in doubles is 29).
    func testThresholdIndexUsesWandbArithmetic() {
        var hb = HyperbandStopping(spec: HyperbandSpec(minIter: 1, eta: 1.1), goal: .minimize)
        for trial in 0..<33 { _ = hb.report(trial: trial, step: 0, value: Double(trial + 1)) }
        // Values 1…33 at band 1 → sorted[30] = 31.
        XCTAssertEqual(hb.thresholds[1], 31)
    }

    /// The incremental policy gives, after every report, exactly the stops a from-scratch
    /// evaluation of W&B's rule over all histories gives.
    func testAgreesWithFromScratchEvaluation() {
        let specs = [HyperbandSpec(maxIter: 27, s: 3), HyperbandSpec(maxIter: 20, s: 4, eta: 2, strict: false),
                     HyperbandSpec(minIter: 1, eta: 1.5), HyperbandSpec(minIter: 2, eta: 2, strict: false)]
        for (specIndex, spec) in specs.enumerated() {
            for goal in MetricGoal.allCases {
                var generator = SplitMix(seed: UInt64(specIndex * 2 + (goal == .maximize ? 1 : 0)))
                var hb = HyperbandStopping(spec: spec, goal: goal)
                var reference = WandbReference(spec: spec, goal: goal)
                for _ in 0..<600 {
                    let trial = Int(generator.next() % 12)
                    if generator.next() % 29 == 0 {
                        hb.trialEnded(trial, stopped: false); reference.end(trial); continue
                    }
                    let value = generator.next() % 17 == 0 ? Double.nan : Double(generator.next() % 50) / 10
                    hb.trialStarted(trial); reference.start(trial)
                    let got = hb.report(trial: trial, step: 0, value: value).map(\.trial)
                    XCTAssertEqual(got, reference.report(trial: trial, value: value), "spec \(specIndex) \(goal)")
                }
            }
        }
    }
}

/// W&B's rule evaluated from scratch over all histories, as `hyperband_stop_runs` does.
private struct WandbReference {
    let spec: HyperbandSpec
    let goal: MetricGoal
    var histories: [Int: [Double]] = [:]
    var running: Set<Int> = []
    var stopped: Set<Int> = []

    init(spec: HyperbandSpec, goal: MetricGoal) { self.spec = spec; self.goal = goal }

    mutating func start(_ trial: Int) { if !stopped.contains(trial) { running.insert(trial) } }
    mutating func end(_ trial: Int) { running.remove(trial) }

    mutating func report(trial: Int, value: Double) -> [Int] {
        if value.isFinite { histories[trial, default: []].append(goal == .maximize ? -value : value) }
        let bands = HyperbandStopping.bands(for: spec)
        let thresholds = bands.map { band -> Double in
            let values = histories.values.filter { $0.count >= band }.map { $0[band - 1] }.sorted()
            return values.isEmpty ? .infinity : values[Int((1 / spec.eta) * Double(values.count))]
        }
        var stops: [Int] = []
        for trial in running.sorted() {
            let history = histories[trial, default: []]
            guard let last = bands.indices.last(where: { bands[$0] <= history.count }) else { continue }
            let value = spec.strict ? history[bands[last] - 1] : (history.min() ?? .infinity)
            if value > thresholds[last] { stops.append(trial) }
        }
        for trial in stops { running.remove(trial); stopped.insert(trial) }
        return stops
    }
}

/// A tiny deterministic generator for test event streams.
private struct SplitMix {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
