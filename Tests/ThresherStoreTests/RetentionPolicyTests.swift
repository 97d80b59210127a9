import XCTest
@testable import ThresherStore

/// A held checkpoint in one line: id, trial, step, metric, bytes, latest?, trial running?
func held(_ id: Int64, trial: Int64, step: Int64, _ metric: Double?, bytes: Int64 = 10, latest: Bool = false, running: Bool = false) -> HeldCheckpoint {
    HeldCheckpoint(id: id, trial: trial, step: step, metric: metric, bytes: bytes, isLatest: latest, trialRunning: running)
}

func candidate(trial: Int64, step: Int64, _ metric: Double?, bytes: Int64 = 10, latest: Bool = false) -> CandidateCheckpoint {
    CandidateCheckpoint(trial: trial, step: step, metric: metric, bytes: bytes, isLatest: latest)
}

final class RetentionPolicyTests: XCTestCase {
    let topOnly = RetentionPolicy(keepTopK: 2, keepTopKPerTrial: 1, keepLatestPerTrial: false, goal: .minimize)

    // MARK: Ranking

    func testRankingPrefersTheBetterMetricForTheGoal() {
        let a = held(1, trial: 1, step: 10, 0.2), b = held(2, trial: 2, step: 10, 0.3)
        XCTAssertTrue(RetentionPolicy(goal: .minimize).ranksAbove(a, b))
        XCTAssertTrue(RetentionPolicy(goal: .maximize).ranksAbove(b, a))
    }

    func testTiesBreakByEarlierStepThenTrialThenId() {
        let policy = RetentionPolicy(goal: .maximize)
        XCTAssertTrue(policy.ranksAbove(held(9, trial: 5, step: 10, 0.5), held(1, trial: 1, step: 20, 0.5)))
        XCTAssertTrue(policy.ranksAbove(held(9, trial: 1, step: 10, 0.5), held(1, trial: 2, step: 10, 0.5)))
        XCTAssertTrue(policy.ranksAbove(held(1, trial: 1, step: 10, 0.5), held(2, trial: 1, step: 10, 0.5)))
        XCTAssertFalse(policy.ranksAbove(held(1, trial: 1, step: 10, 0.5), held(1, trial: 1, step: 10, 0.5)), "strict")
    }

    func testMissingAndNaNMetricsRankBelowEveryValue() {
        let policy = RetentionPolicy(goal: .minimize)
        XCTAssertTrue(policy.ranksAbove(held(1, trial: 1, step: 1, 1e300), held(2, trial: 1, step: 0, nil)))
        XCTAssertTrue(policy.ranksAbove(held(1, trial: 1, step: 1, 1e300), held(2, trial: 1, step: 0, .nan)))
        XCTAssertEqual(policy.decide(held: [], candidate: candidate(trial: 1, step: 1, .nan)), .refuse(.notWanted),
                       "a NaN metric never enters the top-k and this candidate is not a latest copy")
    }

    // MARK: Top-k

    func testCandidateEnteringTheTopKEvictsTheOneItDisplaces() {
        let current = [held(1, trial: 1, step: 5, 0.5), held(2, trial: 2, step: 5, 0.4)]
        XCTAssertEqual(topOnly.decide(held: current, candidate: candidate(trial: 3, step: 5, 0.3)), .accept(evicting: [1]))
    }

    func testCandidateOutsideTheTopKIsRefusedAndChangesNothing() {
        let current = [held(1, trial: 1, step: 5, 0.5), held(2, trial: 2, step: 5, 0.4)]
        XCTAssertEqual(topOnly.decide(held: current, candidate: candidate(trial: 3, step: 5, 0.6)), .refuse(.notWanted))
        XCTAssertEqual(topOnly.decide(held: current, candidate: candidate(trial: 3, step: 5, 0.5)), .refuse(.notWanted),
                       "equal metric at the same step loses on trial id")
        XCTAssertEqual(topOnly.decide(held: current, candidate: candidate(trial: 3, step: 4, 0.5)), .accept(evicting: [1]),
                       "equal metric at an earlier step wins")
    }

    func testPerTrialCapKeepsOnlyTheTrialsBest() {
        let current = [held(1, trial: 1, step: 5, 0.2), held(2, trial: 2, step: 5, 0.4)]
        XCTAssertEqual(topOnly.decide(held: current, candidate: candidate(trial: 1, step: 9, 0.1)), .accept(evicting: [1]))
        XCTAssertEqual(topOnly.decide(held: current, candidate: candidate(trial: 1, step: 9, 0.3)), .refuse(.notWanted),
                       "better than trial 2 but trial 1 already has its one slot")
        let two = RetentionPolicy(keepTopK: 3, keepTopKPerTrial: 2, keepLatestPerTrial: false, goal: .minimize)
        XCTAssertEqual(two.decide(held: current, candidate: candidate(trial: 1, step: 9, 0.3)), .accept(evicting: []))
    }

    func testZeroTopKOrZeroPerTrialKeepsNothingForItsRank() {
        for policy in [RetentionPolicy(keepTopK: 0, keepLatestPerTrial: false, goal: .minimize),
                       RetentionPolicy(keepTopKPerTrial: 0, keepLatestPerTrial: false, goal: .minimize)] {
            XCTAssertEqual(policy.decide(held: [], candidate: candidate(trial: 1, step: 1, 0.1)), .refuse(.notWanted))
        }
    }

    // MARK: Latest copies

    func testLatestCopyReplacesTheTrialsPreviousOne() {
        let policy = RetentionPolicy(keepTopK: 0, goal: .minimize)
        let current = [held(1, trial: 1, step: 5, 0.2, latest: true, running: true), held(2, trial: 2, step: 5, 0.4, latest: true, running: true)]
        // The previous copy stays while the new one uploads (it is what a resume would use if the
        // upload never finished) and goes once the new one is stored.
        XCTAssertEqual(policy.decide(held: current, candidate: candidate(trial: 1, step: 6, 0.9, latest: true)), .accept(evicting: []))
        var uploading = current
        uploading[0].isLatest = false
        uploading.append(HeldCheckpoint(id: 3, trial: 1, step: 6, metric: 0.9, bytes: 10, isLatest: true, trialRunning: true, isStored: false))
        XCTAssertEqual(policy.evictions(after: uploading), [], "the resume copy is kept while step 6 uploads")
        uploading[2].isStored = true
        XCTAssertEqual(policy.evictions(after: uploading), [1], "stored: the previous copy is superseded")
        XCTAssertEqual(policy.decide(held: current, candidate: candidate(trial: 3, step: 1, nil, latest: true)), .accept(evicting: []),
                       "a latest copy needs no metric")
    }

    /// The resume copy has the lowest budget priority: when both copies do not fit, the previous one
    /// goes at once, as before resume copies existed.
    func testResumeCopyIsTheFirstToGoWhenTheBudgetIsTight() {
        let policy = RetentionPolicy(keepTopK: 0, maxBytes: 25, goal: .minimize)
        let current = [held(1, trial: 1, step: 5, 0.2, latest: true, running: true), held(2, trial: 2, step: 5, 0.4, latest: true, running: true)]
        XCTAssertEqual(policy.decide(held: current, candidate: candidate(trial: 1, step: 6, 0.9, latest: true)), .accept(evicting: [1]))
        let ended = [held(1, trial: 1, step: 5, 0.2, running: false),
                     HeldCheckpoint(id: 3, trial: 1, step: 6, metric: 0.9, bytes: 10, isLatest: true, trialRunning: false, isStored: false)]
        XCTAssertEqual(policy.evictions(after: ended), [1, 3], "an ended trial keeps neither copy")
    }

    func testLatestCopyThatIsAlsoTopKCountsOnceAndSurvivesItsTrialEnding() {
        let policy = RetentionPolicy(keepTopK: 1, goal: .minimize)
        let running = [held(1, trial: 1, step: 5, 0.2, latest: true, running: true)]
        XCTAssertEqual(policy.wanted(running), [1])
        let ended = [held(1, trial: 1, step: 5, 0.2, latest: true, running: false), held(2, trial: 2, step: 5, 0.5, latest: true, running: false)]
        XCTAssertEqual(policy.evictions(after: ended), [2], "trial 2's copy was only kept for resume")
    }

    func testALateOlderStepDoesNotSupersedeTheHeldLatestCopy() {
        let policy = RetentionPolicy(keepTopK: 0, goal: .minimize)
        let current = [held(1, trial: 1, step: 50, nil, latest: true, running: true)]
        XCTAssertEqual(policy.decide(held: current, candidate: candidate(trial: 1, step: 40, nil, latest: true)), .refuse(.notWanted))
    }

    func testLatestCopiesOfFinishedTrialsAreReleased() {
        let policy = RetentionPolicy(keepTopK: 0, goal: .maximize)
        let current = [held(1, trial: 1, step: 5, 0.2, latest: true, running: false), held(2, trial: 2, step: 5, nil, latest: true, running: true),
                       held(3, trial: 2, step: 3, nil, latest: false, running: true)]
        XCTAssertEqual(policy.evictions(after: current), [1, 3])
        XCTAssertEqual(policy.evictions(after: [current[1]]), [], "idempotent once applied")
    }

    // MARK: Budget

    func testBudgetIsMadeByEvictingWorseCheckpoints() {
        let policy = RetentionPolicy(keepTopK: 3, keepLatestPerTrial: false, maxBytes: 100, goal: .minimize)
        let current = [held(1, trial: 1, step: 1, 0.1, bytes: 60), held(2, trial: 2, step: 1, 0.5, bytes: 40)]
        XCTAssertEqual(policy.decide(held: current, candidate: candidate(trial: 3, step: 1, 0.3, bytes: 40)), .accept(evicting: [2]))
    }

    func testUploadThatWouldEvictABetterCheckpointIsRefused() {
        let policy = RetentionPolicy(keepTopK: 3, keepLatestPerTrial: false, maxBytes: 100, goal: .minimize)
        let current = [held(1, trial: 1, step: 1, 0.1, bytes: 60), held(2, trial: 2, step: 1, 0.2, bytes: 30)]
        XCTAssertEqual(policy.decide(held: current, candidate: candidate(trial: 3, step: 1, 0.3, bytes: 20)),
                       .refuse(.overBudget(needed: 20, available: 10)))
        XCTAssertEqual(policy.decide(held: current, candidate: candidate(trial: 3, step: 1, 0.3, bytes: 10)), .accept(evicting: []),
                       "exactly filling the budget is allowed")
    }

    func testCandidateLargerThanTheWholeBudgetIsRefused() {
        let policy = RetentionPolicy(maxBytes: 100, goal: .minimize)
        XCTAssertEqual(policy.decide(held: [], candidate: candidate(trial: 1, step: 1, 0.0, bytes: 101)),
                       .refuse(.overBudget(needed: 101, available: 100)))
    }

    func testTopKDisplacesLatestCopiesButNotTheOtherWayRound() {
        let policy = RetentionPolicy(keepTopK: 2, maxBytes: 50, goal: .minimize)
        let copies = [held(1, trial: 1, step: 5, nil, bytes: 20, latest: true, running: true),
                      held(2, trial: 2, step: 5, nil, bytes: 20, latest: true, running: true)]
        XCTAssertEqual(policy.decide(held: copies, candidate: candidate(trial: 3, step: 1, 0.4, bytes: 20)), .accept(evicting: [2]),
                       "the lower-ranked copy (higher trial id) goes")
        let ranked = [held(1, trial: 1, step: 5, 0.1, bytes: 25), held(2, trial: 2, step: 5, 0.2, bytes: 25)]
        XCTAssertEqual(policy.decide(held: ranked, candidate: candidate(trial: 3, step: 1, nil, bytes: 1, latest: true)),
                       .refuse(.overBudget(needed: 1, available: 0)))
    }

    func testLoweredBudgetEvictsLowestPriorityFirstAndKeepsSmallerOnesThatFit() {
        let policy = RetentionPolicy(keepTopK: 3, keepLatestPerTrial: false, maxBytes: 50, goal: .minimize)
        let current = [held(1, trial: 1, step: 1, 0.1, bytes: 30), held(2, trial: 2, step: 1, 0.2, bytes: 30), held(3, trial: 3, step: 1, 0.3, bytes: 20)]
        XCTAssertEqual(policy.evictions(after: current), [2])
    }

    func testUnlimitedBudgetNeverRefusesForSize() {
        let policy = RetentionPolicy(keepTopK: 1, goal: .minimize)
        XCTAssertEqual(policy.decide(held: [], candidate: candidate(trial: 1, step: 1, 0.0, bytes: Int64.max)), .accept(evicting: []))
    }

    func testDuplicateAndInvalidCandidatesAreRefused() {
        let policy = RetentionPolicy(goal: .minimize)
        XCTAssertEqual(policy.decide(held: [held(1, trial: 1, step: 5, 0.2)], candidate: candidate(trial: 1, step: 5, 0.1)), .refuse(.alreadyHeld))
        XCTAssertEqual(policy.decide(held: [], candidate: candidate(trial: 1, step: 5, 0.1, bytes: -1)), .refuse(.invalid))
    }

    func testDefaultsMatchTheSweepFile() {
        let policy = RetentionPolicy(goal: .minimize)
        XCTAssertEqual(policy.keepTopK, 3)
        XCTAssertEqual(policy.keepTopKPerTrial, 1)
        XCTAssertTrue(policy.keepLatestPerTrial)
        XCTAssertNil(policy.maxBytes)
    }
}
