import ArgumentParser
import Foundation
import ThresherCoordinator
import ThresherStore
import ThresherWire

/// `thresher fetch`: the best checkpoints of a sweep as safetensors files with JSON sidecars.
struct FetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Write a sweep's best stored checkpoints (digest-verified) with JSON sidecars.",
        discussion: """
        With --state, reads the state folder read-only; with --coordinator, downloads the checkpoints \
        in pieces (BlobRead). Either way each file is checked against its SHA-256 before it is written \
        (atomically), and the files and sidecars are the same.
        """
    )

    @Argument(help: "A sweep id or name.")
    var sweep: String

    @OptionGroup var source: StateOrCoordinator

    @Option(help: "How many of the best checkpoints.")
    var best: Int = 1

    @Option(help: "Output folder.")
    var out: String

    func validate() throws { guard (1...1000).contains(best) else { throw ValidationError("--best must be 1...1000") } }

    func run() async throws {
        do {
            let source = try self.source.checked()
            let fetched: [FetchedCheckpoint]
            if let url = source.coordinator {
                fetched = try await RemoteFetch(connection: try source.access.connect(url))
                    .fetchBest(sweep: sweep, count: best, into: out)
            } else {
                let folder = source.state ?? "."
                let local = try LocalState(folder)
                let sweep = try local.sweep(sweep)
                let blobs = try BlobStore(stateDirectory: folder)
                fetched = try CheckpointExport.fetchBest(store: local.store, blobs: blobs, sweep: sweep.id, count: best, into: out)
            }
            if fetched.isEmpty { StandardError.write(["sweep \(sweep) holds no stored checkpoint"]) }
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

/// Fetching the best checkpoints from a coordinator: `BestRequest`, then each file by `BlobRead`
/// in pieces, verified against its SHA-256 before `CheckpointExport.write` puts it on disk.
struct RemoteFetch {
    let connection: CoordinatorConnection
    static let pieceBytes: UInt32 = 4 << 20

    func fetchBest(sweep: String, count: Int, into folder: String) async throws -> [FetchedCheckpoint] {
        defer { connection.close() }
        guard case .bestCheckpoints(let best) = try await connection.request(.bestRequest(BestRequest(sweep: sweep, count: UInt32(count)))) else {
            throw CLIError("the coordinator at \(connection.url) answered BestRequest with something else")
        }
        var fetched: [FetchedCheckpoint] = []
        for (offset, checkpoint) in best.checkpoints.enumerated() {
            let bytes = try await download(checkpoint)
            fetched.append(try CheckpointExport.write(
                bytes, rank: offset + 1, sweepName: best.sweepName, sweepID: Int64(bitPattern: best.sweepID),
                trialID: Int64(bitPattern: checkpoint.trialID), trialIndex: Int(checkpoint.trialIndex), step: checkpoint.step,
                metric: best.metric, value: checkpoint.value, params: checkpoint.params,
                digest: checkpoint.digest.hex, into: folder))
        }
        return fetched
    }

    /// The whole file, every piece checked to continue where the last ended, then the digest.
    private func download(_ checkpoint: BestCheckpoint) async throws -> [UInt8] {
        let hex = checkpoint.digest.hex
        var bytes: [UInt8] = []
        var hasher = SHA256()
        while UInt64(bytes.count) < checkpoint.byteCount {
            let read = BlobRead(digest: checkpoint.digest, offset: UInt64(bytes.count), maxBytes: Self.pieceBytes)
            guard case .blobData(let piece) = try await connection.request(.blobRead(read)),
                  piece.offset == UInt64(bytes.count), piece.totalBytes == checkpoint.byteCount, !piece.data.isEmpty,
                  UInt64(bytes.count + piece.data.count) <= checkpoint.byteCount else {
                throw CLIError("the coordinator at \(connection.url) sent a piece of \(hex) that does not continue the file")
            }
            hasher.update(piece.data)
            bytes += piece.data
        }
        let actual = hasher.hexDigest()
        guard actual == hex else {
            throw CLIError("checkpoint of trial \(checkpoint.trialID) step \(checkpoint.step) arrived corrupt: its SHA-256 is \(actual), not \(hex); nothing written")
        }
        return bytes
    }
}
