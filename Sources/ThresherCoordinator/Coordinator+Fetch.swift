import Foundation
import ThresherStore
import ThresherSweep
import ThresherWire

/// A checkpoint written out by `fetchBest`: the safetensors file and its JSON sidecar.
public struct FetchedCheckpoint: Sendable, Equatable {
    public var rank: Int
    public var trialID: Int64
    public var step: Int64
    public var metric: Double?
    public var path: String
    public var sidecarPath: String
    public var digest: String
}

extension Coordinator {
    /// See `CheckpointExport.fetchBest`.
    public func fetchBest(sweep id: Int64, count: Int, into folder: String) throws -> [FetchedCheckpoint] {
        try CheckpointExport.fetchBest(store: store, blobs: blobs, sweep: id, count: count, into: folder)
    }
}

/// Writing stored checkpoints out as files; works beside a running coordinator on a read-only store.
public enum CheckpointExport {
    /// Writes the `count` best stored checkpoints of a sweep into `folder` as
    /// `rank-<r>-trial-<id>-step-<s>.safetensors` with a `.json` sidecar (sweep, trial, index,
    /// params, step, metric name and value, SHA-256). Each blob is verified against its digest
    /// before it is written (atomically: temporary file, then rename), so a corrupt blob is an
    /// error, never a silently bad file.
    public static func fetchBest(store: SweepStore, blobs: BlobStore, sweep id: Int64, count: Int,
                                 into folder: String) throws -> [FetchedCheckpoint] {
        let progress = try SweepProgress.read(from: store, sweep: id)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var fetched: [FetchedCheckpoint] = []
        for (offset, checkpoint) in try store.bestCheckpoints(sweep: id, goal: progress.goal, limit: count).enumerated() {
            guard let digest = checkpoint.digest else { continue }
            let bytes = try blobs.read(digest)  // verified against the digest
            let trial = try store.trial(checkpoint.trialId)
            let base = "rank-\(offset + 1)-trial-\(trial.id)-step-\(checkpoint.step)"
            let path = (folder as NSString).appendingPathComponent(base + ".safetensors")
            let sidecarPath = (folder as NSString).appendingPathComponent(base + ".json")
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
            var sidecar: [String: Any] = [
                "sweep": progress.name, "sweep_id": id, "trial": trial.id, "trial_index": trial.indexInSweep,
                "step": checkpoint.step, "metric": progress.metric, "sha256": digest, "bytes": bytes.count,
                "rank": offset + 1,
            ]
            if let value = checkpoint.metric, value.isFinite { sidecar["value"] = value }
            if let params = StoredTrialParams.decode(trial.params)?.paramMap,
               let json = try? JSONSerialization.jsonObject(with: Data(PythonFormat.json(.map(params)).utf8)) {
                sidecar["params"] = json
            }
            let data = try JSONSerialization.data(withJSONObject: sidecar, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            try data.write(to: URL(fileURLWithPath: sidecarPath), options: .atomic)
            fetched.append(FetchedCheckpoint(rank: offset + 1, trialID: trial.id, step: checkpoint.step, metric: checkpoint.metric,
                                             path: path, sidecarPath: sidecarPath, digest: digest))
        }
        return fetched
    }
}
