import ArgumentParser
import Foundation
import ThresherCoordinator
import ThresherStore
import ThresherWire

/// A coordinator's state folder opened read-only, beside a running coordinator or after it ended.
struct LocalState {
    let folder: String
    let store: SweepStore

    init(_ folder: String) throws {
        self.folder = folder
        do { store = try SweepStore(readingAt: (folder as NSString).appendingPathComponent("thresher.sqlite")) } catch {
            throw CLIError("--state \(folder): \(error)")
        }
    }

    /// A sweep by id or by name (the newest of that name).
    func sweep(_ reference: String) throws -> ThresherStore.Sweep {
        let all = try store.sweeps()
        if let id = Int64(reference), let sweep = all.first(where: { $0.id == id }) { return sweep }
        if let sweep = all.last(where: { $0.name == reference }) { return sweep }
        throw CLIError("no sweep \(reference) in \(folder); there are: \(all.map { "\($0.id) \($0.name)" }.joined(separator: ", "))")
    }
}

/// `thresher status`: sweeps and their trials, from a state folder.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show sweeps (or one sweep's trials, with every stop decision's explanation) from a state folder.",
        discussion: "Reads STATE/thresher.sqlite read-only, so it is safe beside a running coordinator."
    )

    @Argument(help: "A sweep id or name; without it, one line per sweep.")
    var sweep: String?

    @Option(help: "The coordinator's state folder.")
    var state: String

    @Flag(help: "One JSON object.")
    var json = false

    func run() throws {
        do {
            let local = try LocalState(state)
            if let sweep {
                try printTrials(local, try local.sweep(sweep))
            } else {
                try printSweeps(local)
            }
        } catch let error as CLIError {
            StandardError.write(["error: \(error)"])
            throw ExitCode(2)
        }
    }

    private func printSweeps(_ local: LocalState) throws {
        var rows: [[String: Any]] = []
        for sweep in try local.store.sweeps() {
            let p = try SweepProgress.read(from: local.store, sweep: sweep.id)
            if json {
                var row: [String: Any] = ["id": sweep.id, "name": sweep.name, "state": sweep.state.rawValue,
                                          "trials": Dictionary(uniqueKeysWithValues: p.counts.map { ($0.key.rawValue, $0.value) }),
                                          "metric": p.metric, "stored_checkpoints": p.storedCheckpoints, "stored_bytes": p.storedBytes]
                if let best = p.best { row["best"] = ["trial": best.trial, "step": best.step, "value": best.value] }
                rows.append(row)
            } else {
                let best = p.best.map { "best \(p.metric) \($0.value) (trial \($0.trial))" } ?? "no \(p.metric) yet"
                print("\(sweep.id)\t\(sweep.name)\t\(sweep.state.rawValue)\t\(ProgressDisplay.counts(p))\t\(best)")
            }
        }
        if json { try printJSON(["sweeps": rows]) }
    }

    private func printTrials(_ local: LocalState, _ sweep: ThresherStore.Sweep) throws {
        let p = try SweepProgress.read(from: local.store, sweep: sweep.id)
        var rows: [[String: Any]] = []
        if !json { print("sweep \(sweep.id) \(sweep.name) (\(sweep.state.rawValue)): \(ProgressDisplay.counts(p))") }
        for trial in try local.store.trials(sweep: sweep.id) {
            let values = try local.store.metrics(trial: trial.id, name: p.metric).filter { $0.value.isFinite }
            let best = p.goal == .maximize ? values.map(\.value).max() : values.map(\.value).min()
            let lastStep = values.last?.step
            if json {
                var row: [String: Any] = ["trial": trial.id, "index": trial.indexInSweep, "state": trial.state.rawValue,
                                          "params": TrialText.paramsJSON(trial.params)
                                              .flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } ?? trial.params,
                                          "reports": values.count, "attempts": trial.attempts]
                if let worker = trial.workerId { row["worker"] = worker }
                if let best { row["best"] = best }
                if let lastStep { row["last_step"] = lastStep }
                if let why = trial.stopExplanation {
                    row["stop_explanation"] = (try? JSONSerialization.jsonObject(with: Data(why.utf8))) ?? why
                }
                if let error = trial.lastError { row["last_error"] = error }
                rows.append(row)
            } else {
                var line = "\(trial.id)\t#\(trial.indexInSweep)\t\(trial.state.rawValue)\t\(values.count) values"
                if let best { line += "\tbest \(best)" }
                if let params = TrialText.paramsJSON(trial.params) { line += "\t\(params)" }
                if let why = trial.stopExplanation { line += "\t\(TrialText.stopMessage(why))" }
                if let error = trial.lastError { line += "\terror: \(error)" }
                print(line)
            }
        }
        if json { try printJSON(["sweep": sweep.id, "name": sweep.name, "state": sweep.state.rawValue, "trials": rows]) }
    }

    private func printJSON(_ object: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }
}

/// `thresher fetch`: the best checkpoints of a sweep as safetensors files with JSON sidecars.
struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Write a sweep's best stored checkpoints (digest-verified) with JSON sidecars.",
        discussion: "Reads the state folder read-only; each checkpoint is checked against its SHA-256 before it is written."
    )

    @Argument(help: "A sweep id or name.")
    var sweep: String

    @Option(help: "The coordinator's state folder.")
    var state: String

    @Option(help: "How many of the best checkpoints.")
    var best: Int = 1

    @Option(help: "Output folder.")
    var out: String

    func validate() throws { guard best >= 1 else { throw ValidationError("--best must be at least 1") } }

    func run() throws {
        do {
            let local = try LocalState(state)
            let sweep = try local.sweep(sweep)
            let blobs = try BlobStore(stateDirectory: state)
            let fetched = try CheckpointExport.fetchBest(store: local.store, blobs: blobs, sweep: sweep.id, count: best, into: out)
            if fetched.isEmpty { StandardError.write(["sweep \(sweep.name) holds no stored checkpoint"]) }
            for f in fetched { print("\(f.path)\ttrial \(f.trialID)\tstep \(f.step)\t\(f.metric.map { "\($0)" } ?? "-")\tsha256 \(f.digest)") }
        } catch let error as CLIError {
            StandardError.write(["error: \(error)"])
            throw ExitCode(2)
        } catch let error as BlobStoreError {
            StandardError.write(["error: \(error)"])
            throw ExitCode(2)
        }
    }
}
