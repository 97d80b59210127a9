import Foundation
import ThresherStore
import XCTest

/// What a deterministic trial program stores: how many steps a trial with given parameters runs,
/// and the exact value of the sweep metric at each step. The fault tests compare the store with it.
struct DeterministicTrialProgram: Sendable {
    var metric: String
    var goal: MetricGoal
    var steps: @Sendable ([String: Double]) -> Int
    var value: @Sendable ([String: Double], Int64) -> Double

    /// `Fixtures/fault_trial.py`: `loss(step) = (1 + rank) / step + rank / 10`, minimized; rank 0
    /// is the best trial at every step.
    static let faultTrial = DeterministicTrialProgram(
        metric: "loss", goal: .minimize,
        steps: { Int($0["steps"] ?? 0) },
        value: { params, step in
            let rank = params["rank"] ?? .nan
            return (1.0 + rank) / Double(step) + rank / 10.0
        })

    /// The fixture's path in the repository (not a bundle resource: tests copy it where they run).
    static let faultTrialPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fault_trial.py").path
}

/// The counts the invariant checker measured; `violations` lists every broken invariant, naming the
/// trial and step. `FaultInvariants.check` also turns each violation into an XCTest failure.
struct InvariantReport: CustomStringConvertible {
    var trials = 0
    var trialStates: [TrialState: Int] = [:]
    /// Points of the sweep metric stored (every copy), distinct (trial, step) among them, and the
    /// copies of a step stored again by a later attempt after a resume (identical value).
    var pointsStored = 0
    var distinctSteps = 0
    var redoneSteps = 0
    /// Copies of a step stored again under the same epoch (must be 0).
    var duplicates = 0
    /// Assignments (trial, epoch) in the event log, and attempts that did not start at step 1.
    var assignments = 0
    var checkpointsStored = 0
    var checkpointsVerified = 0
    var checkpointsUploadingAtEnd = 0
    /// Blob files no stored checkpoint refers to (left by a crash between commit and deletion).
    var orphanBlobs = 0
    var storedBytesAtEnd = 0
    var storage: StorageObserver.Summary?
    var bestTrialParams: [String: Double]?
    var violations: [String] = []

    var description: String {
        let states = TrialState.allCases.compactMap { s in trialStates[s].map { "\($0) \(s.rawValue)" } }.joined(separator: ", ")
        var text = "\(trials) trials (\(states)); \(pointsStored) points stored, \(distinctSteps) distinct steps, "
            + "\(redoneSteps) redone after a resume, \(duplicates) duplicates; \(assignments) assignments; \(checkpointsStored) checkpoints stored, "
            + "\(checkpointsVerified) verified, \(checkpointsUploadingAtEnd) still uploading, \(orphanBlobs) orphan blobs, "
            + "\(storedBytesAtEnd) bytes at the end"
        if let storage { text += "; peak \(storage.peakBytes) bytes over \(storage.observations) observations" }
        if let bestTrialParams { text += "; best trial \(bestTrialParams)" }
        return text + "; \(violations.count) violations"
    }
}

/// Checks a coordinator's state folder after a fault against the invariants of issue 6 (see
/// docs/reliability.md). It reads the store through its read-only public API and the blob store,
/// and never writes either.
///
/// Invariants, each reported with the trial and step that breaks it:
/// 1. **Every metric point stored, none lost, none duplicated.** For each trial the steps of the
///    sweep metric are exactly 1…N for a completed trial (N from the program), 1…k (contiguous) for
///    any other; each value is the program's value at that step. A step may be stored more than
///    once only under *different* lease epochs — work since the last checkpoint redone by a later
///    attempt — and then with the identical value. Any (step, name) stored twice under one epoch is
///    a duplicate. This holds for every metric name, the checkpoint announcements included.
/// 2. **No trial ran under one lease epoch on two workers.** Each (trial, epoch) is assigned once
///    in the event log, to one worker; every stored report carries an epoch that was assigned to
///    its trial, and epochs never go backwards in report (seq) order.
/// 3. **Every checkpoint in the retention set is present and matches its digest** (`stored` rows:
///    the blob exists and hashes to its name).
/// 4. **Storage ≤ max_bytes**: at every observation of the `StorageObserver` and at the end.
/// 5. **Best trial**: the trial with the best stored value of the metric has the expected params.
enum FaultInvariants {
    @discardableResult
    static func check(state: String, sweepName: String? = nil, program: DeterministicTrialProgram = .faultTrial,
                      budget: Int? = nil, storage: StorageObserver.Summary? = nil,
                      expectedBest: [String: Double]? = nil, requireFinished: Bool = true, recordFailures: Bool = true,
                      file: StaticString = #filePath, line: UInt = #line) throws -> InvariantReport {
        var report = InvariantReport()
        report.storage = storage
        let store = try SweepStore(readingAt: state + "/thresher.sqlite")
        defer { try? store.close() }
        let blobs = try BlobStore(stateDirectory: state)
        let sweeps = try store.sweeps().filter { sweepName == nil || $0.name == sweepName }
        guard let sweep = sweeps.first, sweeps.count == 1 else {
            XCTFail("expected one sweep\(sweepName.map { " named \($0)" } ?? ""), found \(sweeps.map(\.name))", file: file, line: line)
            return report
        }
        if requireFinished && sweep.state != .finished {
            report.violations.append("sweep \(sweep.name) is \(sweep.state.rawValue), not finished")
        }
        let trials = try store.trials(sweep: sweep.id)
        report.trials = trials.count
        for trial in trials { report.trialStates[trial.state, default: 0] += 1 }
        let assigned = try assignments(store: store, sweep: sweep.id, report: &report)

        var bestValue: Double?
        var heldDigests = Set<String>()
        for trial in trials {
            let params = decodeParams(trial.params)
            let epochs = try store.reportEpochs(trial: trial.id)
            let records = try store.metrics(trial: trial.id)
            checkEpochs(trial: trial, epochs: epochs, assigned: assigned[trial.id] ?? [:], report: &report)
            let curve = checkPoints(trial: trial, params: params, records: records, epochs: epochs,
                                    program: program, report: &report)
            if let best = curve.values.filter(\.isFinite).min(by: { program.goal == .minimize ? $0 < $1 : $0 > $1 }),
               bestValue.map({ program.goal == .minimize ? best < $0 : best > $0 }) ?? true {
                bestValue = best
                report.bestTrialParams = params
            }
            for checkpoint in try store.checkpoints(trial: trial.id) {
                switch checkpoint.state {
                case .stored:
                    report.checkpointsStored += 1
                    guard let digest = checkpoint.digest else {
                        report.violations.append("trial \(trial.id) step \(checkpoint.step): stored checkpoint without a digest")
                        continue
                    }
                    heldDigests.insert(digest)
                    do {
                        try blobs.verify(digest)
                        report.checkpointsVerified += 1
                    } catch {
                        report.violations.append("trial \(trial.id) step \(checkpoint.step): stored checkpoint \(digest) is not intact: \(error)")
                    }
                case .uploading:
                    report.checkpointsUploadingAtEnd += 1
                case .local, .evicted:
                    break
                }
            }
        }
        report.orphanBlobs = blobs.allDigests().filter { !heldDigests.contains($0) }.count
        report.storedBytesAtEnd = StorageObserver.files(under: blobs.blobsDirectory).reduce(0) { $0 + $1.bytes }
        if let budget {
            if report.storedBytesAtEnd > budget {
                report.violations.append("\(report.storedBytesAtEnd) bytes of blobs at the end, over the \(budget)-byte budget")
            }
            if let storage, storage.overBudgetCount > 0 {
                let first = storage.overBudget.first.map { "\($0.bytes) bytes: \($0.files.map { "\($0.path) \($0.bytes)" })" } ?? ""
                report.violations.append("\(storage.overBudgetCount) of \(storage.observations) observations over the \(budget)-byte budget, first \(first)")
            }
        }
        if let expectedBest {
            let got = report.bestTrialParams ?? [:]
            if expectedBest.contains(where: { got[$0.key] != $0.value }) {
                report.violations.append("best trial has params \(got), expected \(expectedBest)")
            }
        }
        guard recordFailures else { return report }
        for violation in report.violations.prefix(30) { XCTFail("invariant: \(violation)", file: file, line: line) }
        if report.violations.count > 30 { XCTFail("… and \(report.violations.count - 30) more violations", file: file, line: line) }
        return report
    }

    /// (trial → epoch → worker) from the `trial.assigned` events; an epoch assigned twice is a violation.
    private static func assignments(store: SweepStore, sweep: Int64, report: inout InvariantReport) throws -> [Int64: [Int64: String]] {
        var assigned: [Int64: [Int64: String]] = [:]
        var after: Int64 = 0
        while true {
            let events = try store.events(sweep: sweep, after: after, limit: 1000)
            guard let last = events.last else { break }
            after = last.id
            for event in events where event.kind == "trial.assigned" {
                guard let trial = event.trialId,
                      let detail = try? JSONSerialization.jsonObject(with: Data(event.detail.utf8)) as? [String: Any],
                      let epoch = (detail["epoch"] as? NSNumber)?.int64Value, let worker = detail["worker"] as? String else {
                    report.violations.append("unreadable trial.assigned event \(event.id): \(event.detail)")
                    continue
                }
                report.assignments += 1
                if let earlier = assigned[trial]?[epoch] {
                    report.violations.append("trial \(trial) epoch \(epoch) assigned twice: to \(earlier) and to \(worker)")
                }
                assigned[trial, default: [:]][epoch] = worker
            }
        }
        return assigned
    }

    /// Every report's epoch was assigned to the trial, and epochs never decrease in seq order.
    private static func checkEpochs(trial: Trial, epochs: [Int64: Int64], assigned: [Int64: String], report: inout InvariantReport) {
        var previous: Int64 = 0
        for (seq, epoch) in epochs.sorted(by: { $0.key < $1.key }) {
            if assigned[epoch] == nil {
                report.violations.append("trial \(trial.id) report seq \(seq) stored under epoch \(epoch), which was never assigned to it")
            }
            if epoch < previous {
                report.violations.append("trial \(trial.id) report seq \(seq) has epoch \(epoch) after a report of epoch \(previous)")
            }
            previous = max(previous, epoch)
        }
    }

    /// Checks invariant 1 for one trial; returns its curve of the sweep metric (one value per step).
    private static func checkPoints(trial: Trial, params: [String: Double], records: [MetricRecord], epochs: [Int64: Int64],
                                    program: DeterministicTrialProgram, report: inout InvariantReport) -> [Int64: Double] {
        struct Copy { var epoch: Int64; var value: Double }
        var copies: [String: [Int64: [Copy]]] = [:]
        for record in records {
            copies[record.name, default: [:]][record.step, default: []].append(Copy(epoch: epochs[record.seq] ?? -1, value: record.value))
        }
        for (name, steps) in copies {
            for (step, stored) in steps where stored.count > 1 {
                let byEpoch = Dictionary(grouping: stored, by: \.epoch)
                for (epoch, same) in byEpoch where same.count > 1 {
                    report.violations.append("trial \(trial.id) step \(step) \(name): stored \(same.count) times under epoch \(epoch)")
                }
                if Set(stored.map(\.value.bitPattern)).count > 1 {
                    report.violations.append("trial \(trial.id) step \(step) \(name): redone with a different value \(stored.map(\.value))")
                }
            }
        }
        let metric = copies[program.metric] ?? [:]
        report.pointsStored += metric.values.reduce(0) { $0 + $1.count }
        report.distinctSteps += metric.count
        report.redoneSteps += metric.values.reduce(0) { $0 + Set($1.map(\.epoch)).count - 1 }
        report.duplicates += metric.values.reduce(0) { $0 + $1.count - Set($1.map(\.epoch)).count }
        let steps = metric.keys.sorted()
        let expectedCount = trial.state == .completed ? program.steps(params) : (steps.last.map(Int.init) ?? 0)
        let missing = expectedCount < 1 ? [] : (1...expectedCount).filter { metric[Int64($0)] == nil }
        if !missing.isEmpty {
            report.violations.append("trial \(trial.id) (\(trial.state.rawValue)) lost steps \(missing) of \(program.metric)")
        }
        if let last = steps.last, trial.state == .completed, last > Int64(program.steps(params)) {
            report.violations.append("trial \(trial.id) stored step \(last), beyond its \(program.steps(params)) steps")
        }
        var curve: [Int64: Double] = [:]
        for (step, stored) in metric {
            let value = stored[0].value
            curve[step] = value
            let expected = program.value(params, step)
            if !(abs(value - expected) <= 1e-12 * max(1, abs(expected))) {
                report.violations.append("trial \(trial.id) step \(step): \(program.metric) \(value), the program wrote \(expected)")
            }
        }
        return curve
    }

    /// The numeric parameters of a stored trial (`{"index":…,"params":{"m":[{"k":…,"v":…}]}}`, doubles
    /// as `{"f":"…"}`); non-numeric ones are left out.
    static func decodeParams(_ json: String) -> [String: Double] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let map = (object["params"] as? [String: Any])?["m"] as? [[String: Any]] else { return [:] }
        var params: [String: Double] = [:]
        for entry in map {
            guard let key = entry["k"] as? String else { continue }
            if let number = entry["v"] as? NSNumber {
                params[key] = number.doubleValue
            } else if let text = (entry["v"] as? [String: Any])?["f"] as? String, let value = Double(text) {
                params[key] = value
            }
        }
        return params
    }
}
