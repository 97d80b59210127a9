#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ThresherNet
import ThresherWire

/// Why the coordinator's copy of a resume checkpoint could not be brought into the trial folder.
public enum ResumeDownloadError: Error, Sendable, CustomStringConvertible {
    case coordinator(String)
    case transport(String)
    case badReply(String)
    case digestMismatch(expected: String, actual: String)
    case io(String)

    public var description: String {
        switch self {
        case .coordinator(let detail): "the coordinator refused: \(detail)"
        case .transport(let detail): "no answer from the coordinator: \(detail)"
        case .badReply(let detail): "unexpected reply: \(detail)"
        case let .digestMismatch(expected, actual): "the downloaded file hashes to \(actual), not \(expected)"
        case .io(let detail): detail
        }
    }
}

/// Downloads the checkpoint a reassigned trial resumes from (`Assign.resumeFrom`) with `BlobRead`,
/// when the trial folder does not hold it (the trial ran on another host before).
///
/// Guarantees: the file appears as `step-<S>.safetensors` in the trial's checkpoint folder only
/// complete and with the SHA-256 and size the coordinator announced: pieces go to a hidden
/// temporary file (ignored by checkpoint lookups and pruning), which is fsynced and renamed into
/// place after the digest matched. On any failure the temporary file is removed and an error
/// thrown; nothing partial or wrong is ever left where a program would resume from it.
struct ResumeDownload {
    /// Bytes asked for per BlobRead: large enough to keep round trips few, far below frame limits.
    static let pieceBytes: UInt32 = 1 << 20
    /// Attempts per piece before giving up (a coordinator restart in the middle is survivable).
    static let attemptsPerPiece = 3

    /// Heartbeats naming the trial while it downloads, so its lease does not expire before the
    /// program starts; their Acks' verdicts go to `verdicts` (they may name other trials).
    struct KeepAlive: Sendable {
        var trial: HeldTrial
        var every: Duration
        var verdicts: @Sendable ([TrialVerdict]) async -> Void
    }

    let client: ClusterClient
    let timeout: Duration
    var keepAlive: KeepAlive?

    /// Downloads `point` into `folder` and returns the checkpoint's path.
    func fetch(_ point: ResumePoint, into folder: TrialFolder) async throws(ResumeDownloadError) -> String {
        let beating = keepAlive.map { keepAlive in Task { [client, timeout] in await Self.beat(keepAlive, client: client, timeout: timeout) } }
        defer { beating?.cancel() }
        guard point.step >= 0, point.step <= Int64(MetricLineParser.maxStep) else {
            throw .badReply("resume step \(point.step) is out of range")
        }
        do {
            // The worker's base folder may not exist yet either (it is made when the first trial starts).
            try FileManager.default.createDirectory(atPath: folder.checkpointDirectory, withIntermediateDirectories: true)
        } catch {
            throw .io("\(folder.checkpointDirectory): \(error.localizedDescription)")
        }
        // Everything below is relative to the folder opened without following symlinks, so a
        // program that left `checkpoints` (or its trial folder) a symlink cannot steer the write.
        guard let directory = folder.openCheckpointDirectory() else {
            throw .io("\(folder.checkpointDirectory): a symlink or not a folder; refusing to write a checkpoint through it")
        }
        defer { close(directory) }
        let final = folder.checkpointPath(step: Int(point.step))
        let finalName = "step-\(point.step).safetensors"
        let temporaryName = ".resume-step-\(point.step)-\(UInt32.random(in: 0 ... .max)).part"
        let temporary = folder.checkpointDirectory + "/" + temporaryName
        let fd = openat(directory, temporaryName, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw .io("\(temporary): \(String(cString: strerror(errno)))") }
        var renamed = false
        defer {
            close(fd)
            if !renamed { unlinkat(directory, temporaryName, 0) }
        }
        var hasher = SHA256()
        var offset: UInt64 = 0
        while offset < point.byteCount {
            let piece = try await readPiece(point, offset: offset)
            try Self.write(piece, to: fd, at: offset, path: temporary)
            hasher.update(piece)
            offset += UInt64(piece.count)
        }
        let actual = hasher.finalize()
        guard actual == point.digest.bytes else {
            throw .digestMismatch(expected: point.digest.hex, actual: Digest32(actual)?.hex ?? "?")
        }
        guard fsync(fd) == 0 else { throw .io("fsync \(temporary): \(String(cString: strerror(errno)))") }
        guard renameat(directory, temporaryName, directory, finalName) == 0 else {
            throw .io("rename to \(final): \(String(cString: strerror(errno)))")
        }
        renamed = true
        _ = fsync(directory)
        return final
    }

    /// One non-empty piece at `offset`, retried on transport failures.
    private func readPiece(_ point: ResumePoint, offset: UInt64) async throws(ResumeDownloadError) -> [UInt8] {
        var lastError = ResumeDownloadError.transport("no attempt made")
        for _ in 0..<Self.attemptsPerPiece {
            let reply: Message
            do {
                reply = try await client.send(.blobRead(BlobRead(digest: point.digest, offset: offset, maxBytes: Self.pieceBytes)),
                                              timeout: timeout)
            } catch {
                lastError = .transport("\(error)")
                continue
            }
            switch reply {
            case .blobData(let data):
                guard data.digest == point.digest, data.offset == offset, data.totalBytes == point.byteCount else {
                    throw .badReply("BlobData for \(data.offset)/\(data.totalBytes) bytes, asked \(offset)/\(point.byteCount)")
                }
                guard !data.data.isEmpty, UInt64(data.data.count) <= point.byteCount - offset else {
                    throw .badReply("BlobData with \(data.data.count) bytes at \(offset) of \(point.byteCount)")
                }
                return data.data
            case .error(let error):
                throw .coordinator("\(error.code): \(error.detail)")
            default:
                throw .badReply("\(reply.type) in answer to BlobRead")
            }
        }
        throw lastError
    }

    /// Sends `keepAlive`'s heartbeat every `keepAlive.every` until cancelled (also used while a
    /// local resume checkpoint is hashed).
    static func beat(_ keepAlive: KeepAlive, client: ClusterClient, timeout: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: keepAlive.every)
            if Task.isCancelled { return }
            // A failed beat is retried by the next one, as in the agent's own heartbeat loop.
            if case .ack(let ack) = try? await client.send(.heartbeat(Heartbeat(trials: [keepAlive.trial])), timeout: timeout) {
                await keepAlive.verdicts(ack.verdicts)
            }
        }
    }

    private static func write(_ bytes: [UInt8], to fd: Int32, at offset: UInt64, path: String) throws(ResumeDownloadError) {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return pwrite(fd, base + written, raw.count - written, off_t(offset) + off_t(written))
            }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw .io("write \(path): \(String(cString: strerror(errno)))") }
            written += count
        }
    }
}
