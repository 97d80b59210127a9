import Foundation
import ThresherStore
import ThresherSweep
import ThresherWire

/// One sweep's standing, for `thresher run`'s progress line and `thresher status`.
public struct SweepProgress: Sendable, Equatable {
    public var sweepID: Int64
    public var name: String
    public var state: SweepState
    /// Trials created so far by state, and the grid size (nil for unbounded searches).
    public var counts: [TrialState: Int]
    public var totalTrials: Int?
    public var metric: String
    public var goal: ThresherStore.MetricGoal
    /// The best value of the sweep's metric any trial reported, with its trial and step.
    public var best: (trial: Int64, step: Int64, value: Double)?
    /// Checkpoints held (stored) and their bytes, against the budget.
    public var storedCheckpoints: Int
    public var storedBytes: Int64
    public var maxBytes: Int64?
    /// The early-termination rungs (nil without hyperband/ASHA), and the iterations a trial runs
    /// at most when the policy says (hyperband `max_iter`, ASHA `max_t`): what the live table's
    /// stage column and its estimates use.
    public var schedule: TrialStage.Schedule? = nil
    public var maxIterations: Int? = nil
    /// The sweep file's top-level parameter names, in its order (how the live view lists params).
    public var parameterOrder: [String] = []

    public var finished: Bool { state == .finished || state == .stopped }

    public static func == (a: SweepProgress, b: SweepProgress) -> Bool {
        a.sweepID == b.sweepID && a.state == b.state && a.counts == b.counts && a.best?.trial == b.best?.trial
            && a.best?.value == b.best?.value && a.storedBytes == b.storedBytes
    }
}

extension Coordinator {
    /// The id of a sweep with this name whose stored file text is `text`, if one exists: submitting
    /// the same file again continues it instead of starting a copy.
    public func existingSweep(named name: String, text: String) throws -> Int64? {
        try store.sweeps().first { $0.name == name && StoredSpec.split($0.spec).text == text }?.id
    }

    /// Progress of one sweep, from the store (so it is what a restart would see).
    public func progress(sweep id: Int64) throws -> SweepProgress {
        try SweepProgress.read(from: store, sweep: id)
    }

    /// Stored checkpoints of a sweep, best first by the sweep's metric (ties: earlier step).
    public func bestStoredCheckpoints(sweep id: Int64, limit: Int) throws -> [Checkpoint] {
        let progress = try progress(sweep: id)
        return try store.bestCheckpoints(sweep: id, goal: progress.goal, limit: limit)
    }
}

extension SweepProgress {
    /// Progress of one sweep as `store` holds it; works on a read-only store. One whole look
    /// (`LiveBoard` is the one place that derives progress; a kept board reads only what changed).
    public static func read(from store: SweepStore, sweep id: Int64) throws -> SweepProgress {
        try LiveBoard(sweep: id).refresh(from: store).progress
    }

    static func maxIterations(_ policy: EarlyTerminateSpec?) -> Int? {
        switch policy {
        case .hyperband(let hyperband)?: hyperband.maxIter
        case .asha(let asha)?: asha.maxT
        case .median?, nil: nil
        }
    }
}

/// The sweep file a sweep was submitted with, as the store keeps it.
public enum StoredSweepSpec {
    /// The parsed sweep file of `sweep` (the stored text without its base-directory line).
    public static func parse(_ sweep: Sweep) throws -> SweepSpec {
        try SweepFileParser.parse(StoredSpec.split(sweep.spec).text, fileName: sweep.name).spec
    }
}

/// Readable forms of what the store keeps for a trial, for `thresher status` and exports.
public enum TrialText {
    /// The trial's parameters as JSON (`{"lr": 0.01, …}`, the file's order), from the stored form.
    public static func paramsJSON(_ stored: String) -> String? {
        StoredTrialParams.decode(stored)?.paramMap.map { PythonFormat.json(.map($0)) }
    }

    /// The trial's typed parameters (the file's order), from the stored form; nil if unreadable.
    public static func params(_ stored: String) -> ParamMap? {
        StoredTrialParams.decode(stored)?.paramMap
    }

    /// The human sentence of a stored stop explanation (its `message`), or the text as stored.
    public static func stopMessage(_ stored: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(stored.utf8)) as? [String: Any],
              let message = object["message"] as? String else { return stored }
        return message
    }
}
