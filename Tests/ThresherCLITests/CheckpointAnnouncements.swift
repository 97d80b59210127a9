import Foundation
import ThresherStore

/// For trial programs that write a checkpoint at every step (`Fixtures/fault_trial.py`): every step
/// of the sweep metric a completed trial stored must also have its checkpoint announcement
/// (`thresher.checkpoint_bytes`, which the worker sends for each new checkpoint file). A missing
/// one is a checkpoint the coordinator never heard of, so it could never ask for it, whatever its
/// rank. Reads the store read-only.
enum CheckpointAnnouncements {
    /// "trial T step S" for each stored metric step of a completed trial without an announcement.
    static func missing(state: String, sweepName: String, metric: String = "loss") throws -> [String] {
        let store = try SweepStore(readingAt: state + "/thresher.sqlite")
        defer { try? store.close() }
        var missing: [String] = []
        for sweep in try store.sweeps() where sweep.name == sweepName {
            for trial in try store.trials(sweep: sweep.id) where trial.state == .completed {
                let records = try store.metrics(trial: trial.id)
                let announced = Set(records.filter { $0.name == SweepStore.checkpointSizeMetric }.map(\.step))
                let steps = Set(records.filter { $0.name == metric }.map(\.step))
                missing += steps.subtracting(announced).sorted().map { "trial \(trial.id) step \($0)" }
            }
        }
        return missing
    }
}
