#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import ThresherWire

/// Why a blob store operation failed. Every case names what the caller needs to act on: the
/// offset to resume from, the digest that was expected, the file and `errno` of an I/O failure.
public enum BlobStoreError: Error, Equatable, Sendable {
    /// Not 64 lower-case hex digits: rejected before any path is built from it.
    case invalidDigest(String)
    /// Upload ids are 1–128 characters of `A–Z a–z 0–9 _ -` (no dots, slashes or NULs).
    case invalidUploadID(String)
    /// An append started past the end of what is already written; resume at `expected`.
    case wrongOffset(upload: String, offset: Int64, expected: Int64)
    /// A resent chunk overlaps bytes already written but differs from them.
    case conflictingChunk(upload: String, offset: Int64)
    /// No such upload in progress.
    case noSuchUpload(String)
    /// The assembled upload does not hash to the digest the sender announced; the upload is discarded.
    case digestMismatch(expected: String, actual: String)
    case notFound(digest: String)
    /// A chunk read with a negative offset or count.
    case invalidRange(offset: Int64, count: Int)
    /// A stored blob no longer hashes to its name (bit rot or tampering); it is left in place for inspection.
    case corrupt(digest: String, actual: String)
    case io(operation: String, path: String, errno: Int32)
}

extension BlobStoreError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidDigest(let d): "\(d.prefix(80)) is not a SHA-256 hex digest"
        case .invalidUploadID(let id): "\(id.prefix(80)) is not a valid upload id"
        case let .wrongOffset(upload, offset, expected): "upload \(upload): chunk at \(offset), expected \(expected)"
        case let .conflictingChunk(upload, offset): "upload \(upload): a resent chunk at \(offset) differs from the bytes stored"
        case .noSuchUpload(let id): "no upload \(id) in progress"
        case let .digestMismatch(expected, actual): "upload digest mismatch: announced \(expected), got \(actual)"
        case .notFound(let d): "no blob \(d)"
        case let .invalidRange(offset, count): "invalid range: offset \(offset), count \(count)"
        case let .corrupt(digest, actual): "blob \(digest) is corrupt on disk (its bytes hash to \(actual)); left in place for inspection"
        case let .io(operation, path, code): "\(operation) \(path): \(String(cString: strerror(code)))"
        }
    }
}

/// A content-addressed store of checkpoint blobs under a state directory.
///
/// Layout: `<state>/blobs/<first 2 hex>/<64 hex sha256>` for finished blobs and
/// `<state>/uploads/<upload id>.part` for uploads being assembled.
///
/// Guarantees:
/// - Every path is built only from a validated digest or upload id, so nothing received from the
///   network can name a file outside the state directory.
/// - A blob appears in `blobs/` only complete and verified: finalize checks the upload's SHA-256,
///   fsyncs the part file, renames it into place (atomic on one file system) and fsyncs the folder.
///   A failure at any step leaves `blobs/` as it was; the part file stays so the upload can be
///   retried or aborted.
/// - The digest is computed as the chunks are written (`UploadDigests`), so finalizing a large
///   upload does not read it back; an upload this process did not see whole from offset 0 (one
///   begun before a restart) is hashed from the file at finalize instead.
/// - Appends are offset-checked and idempotent: resending a chunk already written changes nothing.
/// - Reads verify the digest. Deleting a blob that is absent succeeds.
///
/// Appends to one upload id must not run concurrently (the coordinator handles one chunk per upload
/// at a time); different uploads and blobs are independent.
public final class BlobStore: Sendable {
    public let stateDirectory: String
    private let digests = UploadDigests()
    public var blobsDirectory: String { stateDirectory + "/blobs" }
    public var uploadsDirectory: String { stateDirectory + "/uploads" }

    /// Opens (creating if needed) the `blobs` and `uploads` folders under `stateDirectory`.
    public init(stateDirectory: String) throws {
        var dir = stateDirectory
        while dir.count > 1 && dir.hasSuffix("/") { dir.removeLast() }
        self.stateDirectory = dir
        try Self.makeDirectory(dir)
        try Self.makeDirectory(dir + "/blobs")
        try Self.makeDirectory(dir + "/uploads")
    }

    // MARK: Validation (the only way a name from the wire becomes a path)

    public static func isValidDigest(_ digest: String) -> Bool {
        digest.utf8.count == 64 && digest.utf8.allSatisfy { (0x30 ... 0x39).contains($0) || (0x61 ... 0x66).contains($0) }
    }

    public static func isValidUploadID(_ id: String) -> Bool {
        let bytes = id.utf8
        guard (1 ... 128).contains(bytes.count) else { return false }
        return bytes.allSatisfy { b in
            (0x30 ... 0x39).contains(b) || (0x41 ... 0x5a).contains(b) || (0x61 ... 0x7a).contains(b) || b == 0x5f || b == 0x2d
        }
    }

    /// The file of a finished blob (whether or not it exists).
    public func blobPath(_ digest: String) throws -> String {
        guard Self.isValidDigest(digest) else { throw BlobStoreError.invalidDigest(digest) }
        return "\(blobsDirectory)/\(digest.prefix(2))/\(digest)"
    }

    func partPath(_ upload: String) throws -> String {
        guard Self.isValidUploadID(upload) else { throw BlobStoreError.invalidUploadID(upload) }
        return "\(uploadsDirectory)/\(upload).part"
    }

    // MARK: Uploads

    /// Bytes of `upload` written so far (0 if it never started): where a resuming sender continues.
    public func uploadedSize(_ upload: String) throws -> Int64 {
        let path = try partPath(upload)
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return 0 }
            throw BlobStoreError.io(operation: "stat", path: path, errno: errno)
        }
        return Int64(info.st_size)
    }

    /// Writes `bytes` at `offset` of the upload and returns the upload's size afterwards.
    ///
    /// `offset` beyond the current size is rejected with the size to resume from. Bytes that overlap
    /// what is already written must equal it (a resent chunk is then a no-op); any remainder past the
    /// end is appended. The data is not fsynced here: finalize syncs the whole file once.
    @discardableResult
    public func append(upload: String, offset: Int64, bytes: [UInt8]) throws -> Int64 {
        let path = try partPath(upload)
        var fd = open(path, O_RDWR | O_CLOEXEC)
        if fd < 0 && errno == ENOENT {
            // Only a chunk at offset 0 starts an upload, so a bad offset leaves no empty part file.
            guard offset == 0 else { throw BlobStoreError.wrongOffset(upload: upload, offset: offset, expected: 0) }
            fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        }
        guard fd >= 0 else { throw BlobStoreError.io(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw BlobStoreError.io(operation: "fstat", path: path, errno: errno) }
        let size = Int64(info.st_size)
        guard offset >= 0, offset <= size else {
            throw BlobStoreError.wrongOffset(upload: upload, offset: offset, expected: size)
        }
        // Compare the overlap with what is on disk so a resend is recognised, not blindly rewritten.
        let overlap = Int(min(Int64(bytes.count), size - offset))
        if overlap > 0 {
            var existing = [UInt8](repeating: 0, count: overlap)
            let got = try readFully(fd: fd, into: &existing, at: offset, path: path)
            guard got == overlap, existing[...] == bytes[0 ..< overlap] else {
                throw BlobStoreError.conflictingChunk(upload: upload, offset: offset)
            }
        }
        if overlap < bytes.count {
            let appended = bytes[overlap...]
            try appended.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                var done = 0
                while done < raw.count {
                    let n = pwrite(fd, base + done, raw.count - done, off_t(size + Int64(done)))
                    if n < 0 {
                        if errno == EINTR { continue }
                        let code = errno
                        // Leave no torn tail: the part file must stay a prefix of the real upload.
                        _ = ftruncate(fd, off_t(size))
                        throw BlobStoreError.io(operation: "write", path: path, errno: code)
                    }
                    done += n
                }
            }
            digests.appended(appended, to: upload, at: size)
        } else if size == 0 {
            digests.appended([], to: upload, at: 0)  // an empty first chunk still starts the digest
        }
        return max(size, offset + Int64(bytes.count))
    }

    /// Verifies the whole upload against `expectedDigest` and moves it into `blobs/`.
    ///
    /// On a digest mismatch the part file is deleted (its bytes are wrong, resuming cannot help). On an
    /// I/O failure nothing is published and the part file is kept. Finalizing content that is already
    /// stored just drops the part file (deduplication).
    @discardableResult
    public func finalize(upload: String, expectedDigest: String) throws -> String {
        let part = try partPath(upload)
        let target = try blobPath(expectedDigest)
        let fd = open(part, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw BlobStoreError.noSuchUpload(upload) }
            throw BlobStoreError.io(operation: "open", path: part, errno: errno)
        }
        let actual: String
        do {
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw BlobStoreError.io(operation: "fstat", path: part, errno: errno) }
            actual = try digests.take(upload, size: Int64(info.st_size)) ?? hashFile(fd: fd, path: part)
            guard actual == expectedDigest else {
                unlink(part)
                throw BlobStoreError.digestMismatch(expected: expectedDigest, actual: actual)
            }
            guard fsync(fd) == 0 else { throw BlobStoreError.io(operation: "fsync", path: part, errno: errno) }
        }
        if access(target, F_OK) == 0 {
            unlink(part)
            return actual
        }
        let folder = "\(blobsDirectory)/\(expectedDigest.prefix(2))"
        if try Self.makeDirectory(folder) { try Self.syncDirectory(blobsDirectory) }
        guard rename(part, target) == 0 else { throw BlobStoreError.io(operation: "rename", path: target, errno: errno) }
        // The rename is durable only once both folders' entries are on disk.
        try Self.syncDirectory(folder)
        try Self.syncDirectory(uploadsDirectory)
        return actual
    }

    /// Discards an upload in progress; absent uploads are fine.
    public func abortUpload(_ upload: String) throws {
        let path = try partPath(upload)
        digests.forget(upload)
        guard unlink(path) == 0 || errno == ENOENT else { throw BlobStoreError.io(operation: "unlink", path: path, errno: errno) }
    }

    // MARK: Blobs

    public func contains(_ digest: String) throws -> Bool { access(try blobPath(digest), F_OK) == 0 }

    /// The blob's bytes, verified against its name. Loads the whole blob: for large checkpoints use
    /// `readChunk` and `verify`.
    public func read(_ digest: String) throws -> [UInt8] {
        let path = try blobPath(digest)
        let fd = try openBlob(path, digest: digest)
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw BlobStoreError.io(operation: "fstat", path: path, errno: errno) }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let got = try readFully(fd: fd, into: &bytes, at: 0, path: path)
        bytes.removeSubrange(got...)
        let actual = SHA256.hex(of: bytes)
        guard actual == digest else { throw BlobStoreError.corrupt(digest: digest, actual: actual) }
        return bytes
    }

    /// Up to `count` bytes of a blob from `offset` (fewer at the end), for sending a resume checkpoint
    /// in chunks without loading it whole. Chunks are not verified one by one: the receiver checks the
    /// whole-file digest, and `verify` checks the file here.
    public func readChunk(_ digest: String, offset: Int64, count: Int) throws -> [UInt8] {
        let path = try blobPath(digest)
        guard offset >= 0, count >= 0 else { throw BlobStoreError.invalidRange(offset: offset, count: count) }
        let fd = try openBlob(path, digest: digest)
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        let got = try readFully(fd: fd, into: &bytes, at: offset, path: path)
        bytes.removeSubrange(got...)
        return bytes
    }

    /// A read-only descriptor of the blob at `path`; `notFound` when it does not exist.
    private func openBlob(_ path: String, digest: String) throws -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw BlobStoreError.notFound(digest: digest) }
            throw BlobStoreError.io(operation: "open", path: path, errno: errno)
        }
        return fd
    }

    /// Size in bytes of a stored blob.
    public func size(_ digest: String) throws -> Int64 {
        let path = try blobPath(digest)
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { throw BlobStoreError.notFound(digest: digest) }
            throw BlobStoreError.io(operation: "stat", path: path, errno: errno)
        }
        return Int64(info.st_size)
    }

    /// Re-hashes a stored blob in 1 MiB pieces (constant memory) and throws `corrupt` if it no longer
    /// matches its name.
    public func verify(_ digest: String) throws {
        let path = try blobPath(digest)
        let fd = try openBlob(path, digest: digest)
        defer { close(fd) }
        let actual = try hashFile(fd: fd, path: path)
        guard actual == digest else { throw BlobStoreError.corrupt(digest: digest, actual: actual) }
    }

    /// Removes a blob; removing an absent blob succeeds (eviction may be retried after a crash).
    public func delete(_ digest: String) throws {
        let path = try blobPath(digest)
        guard unlink(path) == 0 || errno == ENOENT else { throw BlobStoreError.io(operation: "unlink", path: path, errno: errno) }
    }

    /// Every well-named blob on disk (for reconciling with the database after a crash).
    public func allDigests() -> [String] {
        let fm = FileManager.default
        var out: [String] = []
        for folder in (try? fm.contentsOfDirectory(atPath: blobsDirectory)) ?? [] {
            for name in (try? fm.contentsOfDirectory(atPath: "\(blobsDirectory)/\(folder)")) ?? []
            where Self.isValidDigest(name) && name.hasPrefix(folder) {
                out.append(name)
            }
        }
        return out.sorted()
    }

    /// Upload ids with a part file (for cleaning up abandoned uploads).
    public func pendingUploads() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: uploadsDirectory)) ?? []
        return names.filter { $0.hasSuffix(".part") }.map { String($0.dropLast(5)) }.filter(Self.isValidUploadID).sorted()
    }

    // MARK: Helpers

    private func readFully(fd: Int32, into buffer: inout [UInt8], at offset: Int64, path: String) throws -> Int {
        try buffer.withUnsafeMutableBytes { raw -> Int in
            guard let base = raw.baseAddress else { return 0 }
            var done = 0
            while done < raw.count {
                let n = pread(fd, base + done, raw.count - done, off_t(offset + Int64(done)))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw BlobStoreError.io(operation: "read", path: path, errno: errno)
                }
                if n == 0 { break }
                done += n
            }
            return done
        }
    }

    private func hashFile(fd: Int32, path: String) throws -> String {
        var hasher = SHA256()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var offset: Int64 = 0
        while true {
            let n = try readFully(fd: fd, into: &chunk, at: offset, path: path)
            if n == 0 { break }
            chunk.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0 ..< n])) }
            offset += Int64(n)
            if n < chunk.count { break }
        }
        return hasher.hexDigest()
    }

    /// Creates a folder; returns whether it was newly created.
    @discardableResult
    static func makeDirectory(_ path: String) throws -> Bool {
        if mkdir(path, 0o700) == 0 { return true }
        if errno == EEXIST { return false }
        throw BlobStoreError.io(operation: "mkdir", path: path, errno: errno)
    }

    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw BlobStoreError.io(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw BlobStoreError.io(operation: "fsync", path: path, errno: errno) }
    }
}
