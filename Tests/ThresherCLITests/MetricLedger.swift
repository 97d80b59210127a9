import Foundation

/// What a sweep of `NetworkFaultCluster.program` trials stored, counted from `thresher export`
/// rows against what the program writes: per trial, which steps of `loss` are stored, how often,
/// and with which values.
///
/// Guarantees: `duplicates` counts every stored (trial, step, name) beyond its first copy in a
/// trial that ran once, and beyond one copy per attempt in a trial that ran again (a resumed
/// attempt redoes the steps after its checkpoint: those copies are `redone`, and must carry the
/// identical value, which `wrongValues` checks); `lost` counts every step 1…N of a completed trial
/// with no stored `loss`; `unannounced` every such step without its checkpoint announcement
/// (`thresher.checkpoint_bytes`: the program writes a checkpoint at every step); `wrongValues` counts
/// stored `loss` values that differ from the program's; nothing is inferred from logs.
struct MetricLedger {
    var storedValues = 0
    var completedTrials = 0
    var duplicates = 0
    var redone = 0
    var lost = 0
    var unannounced = 0
    var wrongValues = 0
    /// Human-readable lines naming each problem (trial, step, name), for failure messages.
    var problems: [String] = []
    /// The completed trial with the lowest final loss, by its `x`.
    var bestX: Double?

    /// `attempts`: each trial's failed-attempt count (`attempts` in `thresher status --json`: a lost
    /// lease or a failure adds one), so the trial ran `attempts + 1` times; a trial not listed ran once.
    init(rows: [[String: Any]], steps: Int, attempts: [Int: Int] = [:]) {
        var copies: [String: Int] = [:]
        var lossSteps: [Int: Set<Int>] = [:]
        var announcedSteps: [Int: Set<Int>] = [:]
        var trialX: [Int: Double] = [:]
        var trialState: [Int: String] = [:]
        for row in rows {
            guard let trial = row["trial"] as? Int, let name = row["name"] as? String, let step = row["step"] as? Int else { continue }
            storedValues += 1
            trialState[trial] = row["state"] as? String
            let params = row["params"] as? [String: Any]
            guard let x = params?["x"] as? Double ?? (params?["x"] as? Int).map(Double.init) else {
                problems.append("trial \(trial): no x in its params")
                continue
            }
            trialX[trial] = x
            copies["\(trial)/\(step)/\(name)", default: 0] += 1
            if name == "thresher.checkpoint_bytes" { announcedSteps[trial, default: []].insert(step) }
            if name == "loss" {
                lossSteps[trial, default: []].insert(step)
                let value = row["value"] as? Double ?? .nan
                if abs(value - NetworkFaultCluster.expectedLoss(x: x, step: step)) > 1e-9 {
                    wrongValues += 1
                    problems.append("trial \(trial) step \(step): loss \(value), the program wrote \(NetworkFaultCluster.expectedLoss(x: x, step: step))")
                }
            }
        }
        for (key, count) in copies where count > 1 {
            let trial = Int(key.split(separator: "/")[0]) ?? -1
            let allowed = (attempts[trial] ?? 0) + 1
            redone += min(count, allowed) - 1
            if count > allowed {
                duplicates += count - allowed
                problems.append("\(key) (trial/step/name) stored \(count) times in \(allowed) attempt(s)")
            }
        }
        var best: (x: Double, loss: Double)?
        for (trial, state) in trialState where state == "completed" {
            completedTrials += 1
            let missing = Set(1...steps).subtracting(lossSteps[trial] ?? [])
            lost += missing.count
            if !missing.isEmpty { problems.append("trial \(trial) completed without loss at steps \(missing.sorted())") }
            let silent = Set(1...steps).subtracting(announcedSteps[trial] ?? [])
            unannounced += silent.count
            if !silent.isEmpty { problems.append("trial \(trial) completed without checkpoint announcements at steps \(silent.sorted())") }
            if let x = trialX[trial] {
                let loss = NetworkFaultCluster.expectedLoss(x: x, step: steps)
                if best == nil || loss < best!.loss { best = (x, loss) }
            }
        }
        bestX = best?.x
        problems.sort()
    }

    /// One line for logs and docs.
    var summary: String {
        "\(completedTrials) trials completed, \(storedValues) values stored, duplicates \(duplicates), redone after a resume \(redone), lost \(lost), unannounced checkpoints \(unannounced), wrong values \(wrongValues)"
    }
}
