import Foundation
import ThresherStore
import ThresherSweep
import ThresherWire

/// A checkpoint written out by `fetchBest`: the safetensors file and its JSON sidecar.
public struct FetchedCheckpoint: Sendable, Equatable {
    public init(rank: Int, trialID: Int64, step: Int64, metric: Double?, path: String, sidecarPath: String, digest: String) {
        self.rank = rank; self.trialID = trialID; self.step = step; self.metric = metric
        self.path = path; self.sidecarPath = sidecarPath; self.digest = digest
    }

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
            fetched.append(try write(bytes, rank: offset + 1, sweepName: progress.name, sweepID: id, trialID: trial.id,
                                     trialIndex: trial.indexInSweep, step: checkpoint.step, metric: progress.metric,
                                     value: checkpoint.metric, params: StoredTrialParams.decode(trial.params)?.paramMap,
                                     digest: digest, into: folder))
        }
        return fetched
    }

    /// Writes one checkpoint whose bytes the caller verified against `digest` as
    /// `rank-<r>-trial-<id>-step-<s>.safetensors` with its `.json` sidecar, each atomically
    /// (temporary file, then rename). Used by local and remote `thresher fetch` alike, so both
    /// write the same files.
    public static func write(_ bytes: [UInt8], rank: Int, sweepName: String, sweepID: Int64, trialID: Int64, trialIndex: Int,
                             step: Int64, metric: String, value: Double?, params: ParamMap?, digest: String,
                             into folder: String) throws -> FetchedCheckpoint {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let base = "rank-\(rank)-trial-\(trialID)-step-\(step)"
        let path = (folder as NSString).appendingPathComponent(base + ".safetensors")
        let sidecarPath = (folder as NSString).appendingPathComponent(base + ".json")
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        var sidecar: [String: Any] = [
            "sweep": sweepName, "sweep_id": sweepID, "trial": trialID, "trial_index": trialIndex,
            "step": step, "metric": metric, "sha256": digest, "bytes": bytes.count, "rank": rank,
        ]
        if let value, value.isFinite { sidecar["value"] = value }
        if let params, let json = try? JSONSerialization.jsonObject(with: Data(PythonFormat.json(.map(params)).utf8)) {
            sidecar["params"] = json
        }
        let data = try JSONSerialization.data(withJSONObject: sidecar, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        try data.write(to: URL(fileURLWithPath: sidecarPath), options: .atomic)
        return FetchedCheckpoint(rank: rank, trialID: trialID, step: step, metric: value, path: path, sidecarPath: sidecarPath,
                                 digest: digest)
    }
}
