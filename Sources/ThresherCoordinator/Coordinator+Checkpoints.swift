import Foundation
import ThresherStore
import ThresherSweep
import ThresherWire

/// Which checkpoints cross the network, and receiving them.
///
/// A checkpoint becomes a candidate once the trial has reported both its size (the
/// `thresher.checkpoint_bytes` record at step N) and the sweep metric at N. The retention policy
/// decides; an accepted candidate's evictions are applied and its bytes reserved (`uploading`)
/// before the `.upload(step)` verdict is returned. Chunks are then appended to
/// `<state>/uploads/`, verified against the worker's digest at the last byte, published into
/// `<state>/blobs/`, and only then is the checkpoint marked `stored`.
extension Coordinator {
    /// Until the first chunk names the real digest, an `uploading` row holds this placeholder (the
    /// store requires a digest for `uploading`). No blob is ever stored under it.
    static let placeholderDigest = String(repeating: "0", count: 64)

    func considerCheckpoints(trial: Trial, epoch: Int64, records: [ThresherWire.MetricRecord]) throws -> [TrialVerdict] {
        guard let runtime = sweeps[trial.sweepId], let metricName = runtime.metricName else { return [] }
        let steps = records.filter { $0.name == metricName || $0.name == ReservedMetric.checkpointBytes }.map(\.step)
        guard !steps.isEmpty else { return [] }
        // Announced sizes are few (one per saved checkpoint); the sweep metric can be thousands of
        // points per trial, so its value is looked up only at steps that have a size.
        let sizes = try store.checkpointSizes(trial: trial.id)
        guard !sizes.isEmpty else { return [] }
        // A step with a `local` row is judged again: this report is a later attempt saving it anew
        // (an earlier attempt's upload was abandoned when its lease ended, or it was not wanted then).
        let rows = try store.checkpoints(trial: trial.id)
        var known = Set(rows.filter { $0.state != .local }.map(\.step))
        let local = Dictionary(rows.filter { $0.state == .local }.map { ($0.step, $0) }, uniquingKeysWith: { first, _ in first })
        var verdicts: [TrialVerdict] = []
        var seen: Set<Int64> = []
        for step in steps where seen.insert(step).inserted && !known.contains(step) {
            guard let size = sizes[step], size.isFinite, size >= 0, size < 9.0e18,
                  let value = try store.lastMetricValue(trial: trial.id, name: metricName, step: step) else { continue }
            let checkpoint = if let row = local[step] {
                try store.reannounceCheckpoint(row.id, metric: value, bytes: Int64(size), now: now())
            } else {
                try store.recordCheckpoint(trial: trial.id, epoch: epoch, step: step, metric: value, bytes: Int64(size), now: now())
            }
            known.insert(step)
            let candidate = CandidateCheckpoint(trial: trial.id, step: step, metric: value.isNaN ? nil : value,
                                                bytes: checkpoint.bytes, isLatest: true)
            let held = try store.heldCheckpoints(sweep: trial.sweepId)
            guard case .accept(let evicting) = runtime.retention.decide(held: held, candidate: candidate) else { continue }
            // Evict first: the candidate's bytes are reserved from the moment the verdict leaves.
            try evict(evicting, reason: "displaced by trial \(trial.id) step \(step)")
            try store.setCheckpointState(checkpoint.id, to: .uploading, digest: Self.placeholderDigest,
                                         reason: "entered the retention set", now: now())
            counters.uploadsRequested += 1
            uploadActivity[checkpoint.id] = now()
            verdicts.append(TrialVerdict(trialID: UInt64(bitPattern: trial.id), verdict: .upload(step: step)))
        }
        return verdicts
    }

    /// Applies `RetentionPolicy.evictions(after:)` for the sweep (e.g. a trial ended and its
    /// latest-only copy is no longer wanted).
    func applyEvictions(sweep: Int64, reason: String) throws {
        guard let runtime = sweeps[sweep] else { return }
        let ids = runtime.retention.evictions(after: try store.heldCheckpoints(sweep: sweep))
        if !ids.isEmpty { try evict(ids, reason: reason) }
    }

    /// Gives up the uploads of a trial whose lease ended without finishing them (expiry, a
    /// reported failure, or a new assignment): no chunk of an ended lease is accepted again, so the
    /// reservation would hold budget for good and, if a later attempt redoes the step, block its
    /// upload. Each row goes back to `local` (a later attempt's report of the step makes it a
    /// candidate again) and its part file is discarded after the commit, as evictions are.
    func abandonUploads(trial: Int64, reason: String) throws {
        let rows = try store.checkpoints(trial: trial).filter { $0.state == .uploading }
        guard !rows.isEmpty else { return }
        for row in rows { try abandon(row, reason: reason) }
        if !store.isBatching { deleteEvictedFiles() }
    }

    /// One upload given up: the row back to `local`, its part file queued for deletion after the commit.
    private func abandon(_ row: Checkpoint, reason: String) throws {
        try store.setCheckpointState(row.id, to: .local, reason: reason, now: now())
        counters.uploadsAbandoned += 1
        uploadActivity[row.id] = nil
        for upload in blobs.pendingUploads() where upload.hasPrefix(Self.uploadPrefix(trial: row.trialId, step: row.step)) {
            uploadAbortsAfterCommit.append(upload)
        }
    }

    /// Gives up uploads of ended trials that have not moved for a lease timeout. Such an upload may
    /// legitimately finish after `Done` (a trial's best checkpoint is often its last), so ending
    /// the lease does not abandon it; but if its worker is gone, nothing else would, and its
    /// reservation and part file would stay for good. Run from `tick`.
    func abandonStalledUploads() throws {
        let stalled = try store.uploadingCheckpointsOfEndedTrials()
        for row in stalled {
            guard let last = uploadActivity[row.id] else {
                uploadActivity[row.id] = now()   // first seen (e.g. after a restart): a fresh timeout
                continue
            }
            guard now().timeIntervalSince(last) >= options.leaseTimeout else { continue }
            try abandon(row, reason: "upload stalled after the trial ended")
        }
        if !store.isBatching { deleteEvictedFiles() }
    }

    /// Marks checkpoints evicted, then deletes the blobs nothing else holds and any upload in
    /// progress for them. Database first, committed: inside a group-commit batch the files go only
    /// after the batch's commit (`deleteEvictedFiles()`), so a crash or a failed commit leaves at
    /// worst an orphan blob (reclaimable), never a stored row whose file is gone.
    func evict(_ ids: [Int64], reason: String) throws {
        guard !ids.isEmpty else { return }
        let rows = try ids.map { try store.checkpoint($0) }
        for id in ids { uploadActivity[id] = nil }
        for digest in try store.evict(ids, reason: reason, now: now()) where digest != Self.placeholderDigest {
            blobDeletionsAfterCommit.append(digest)
        }
        for row in rows where row.state == .uploading {
            for upload in blobs.pendingUploads() where upload.hasPrefix(Self.uploadPrefix(trial: row.trialId, step: row.step)) {
                uploadAbortsAfterCommit.append(upload)
            }
        }
        if !store.isBatching { deleteEvictedFiles() }
    }

    /// Deletes the files of evictions that are now committed — unless a checkpoint stored later in
    /// the same batch has the same content (and so the same blob).
    func deleteEvictedFiles() {
        for digest in blobDeletionsAfterCommit where (try? store.blobIsHeld(digest: digest)) == false {
            try? blobs.delete(digest)
        }
        for upload in uploadAbortsAfterCommit { try? blobs.abortUpload(upload) }
        blobDeletionsAfterCommit.removeAll()
        uploadAbortsAfterCommit.removeAll()
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0f)]] }, as: UTF8.self)
    }

    static func uploadPrefix(trial: Int64, step: Int64) -> String { "t\(trial)_s\(step)_" }

    // MARK: CheckpointChunk

    func handleChunk(_ chunk: CheckpointChunk) throws -> Message {
        let (trialID, epoch) = try ids(chunk.trialID, chunk.leaseEpoch)
        func reply(_ status: ChunkStatus, _ next: UInt64) -> Message {
            .chunkAck(ChunkAck(trialID: chunk.trialID, step: chunk.step, nextOffset: next, status: status))
        }
        let trial = try store.trial(trialID)
        guard let checkpoint = try store.checkpoints(trial: trialID).first(where: { $0.step == chunk.step }) else {
            counters.rejected["chunkNotWanted", default: 0] += 1
            return reply(.refused, 0)
        }
        let digest = Self.hex(chunk.digest.bytes)
        if checkpoint.state == .stored, checkpoint.digest == digest {
            return reply(.complete, chunk.totalBytes)   // a resend of the last chunk
        }
        // The upload may finish after Done or a stop (the trial's best checkpoint is often its
        // last), so an ended lease is fine; a newer lease, or a lease lost to expiry, is not.
        let leaseLive = trial.state.isLeased && (trial.leaseExpiry.map { now() < $0 } ?? false)
        let endedHere = trial.state == .completed || trial.state == .stopped
        guard checkpoint.state == .uploading, epoch == trial.leaseEpoch, leaseLive || endedHere else {
            counters.rejected["chunkNotWanted", default: 0] += 1
            return reply(.refused, 0)
        }
        guard let total = Int64(exactly: chunk.totalBytes), total <= checkpoint.bytes,
              let offset = Int64(exactly: chunk.offset), offset <= total, Int64(chunk.data.count) <= total - offset else {
            // Larger than the size the reservation was made for: the budget never covered it.
            counters.rejected["chunkOutOfBounds", default: 0] += 1
            return reply(.refused, 0)
        }
        let upload = Self.uploadPrefix(trial: trialID, step: chunk.step) + String(digest.prefix(16))
        uploadActivity[checkpoint.id] = now()
        let size: Int64
        do {
            size = try blobs.append(upload: upload, offset: offset, bytes: chunk.data)
        } catch BlobStoreError.wrongOffset(_, _, let expected) {
            return reply(.accepted, UInt64(max(0, expected)))
        } catch BlobStoreError.conflictingChunk {
            // Different bytes at the same place: the file changed under the worker. Start over.
            try? blobs.abortUpload(upload)
            return reply(.digestMismatch, 0)
        }
        guard size == total else { return reply(.accepted, UInt64(size)) }
        do {
            try blobs.finalize(upload: upload, expectedDigest: digest)
        } catch BlobStoreError.digestMismatch {
            counters.rejected["digestMismatch", default: 0] += 1
            return reply(.digestMismatch, 0)
        }
        try store.setCheckpointState(checkpoint.id, to: .stored, digest: digest, reason: "upload complete", now: now())
        uploadActivity[checkpoint.id] = nil
        // The trial's previous stored copy was kept as its resume point while this one uploaded.
        try applyEvictions(sweep: trial.sweepId, reason: "superseded by trial \(trialID) step \(chunk.step), now stored")
        return reply(.complete, chunk.totalBytes)
    }
}
