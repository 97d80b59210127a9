#if canImport(Glibc)
import Glibc
#endif
import ThresherWire

/// A checkpoint opened for upload: its size and SHA-256 are taken from one open descriptor, and
/// every chunk is read from that same descriptor.
///
/// Guarantees: the bytes sent are the bytes digested even if the program renames a new file over
/// the name meanwhile (a rename gives a new inode; this descriptor keeps the old one). Only a
/// regular file inside the trial's own checkpoint folder is opened: no symlink is followed, neither
/// at the file nor at the folders (`TrialFolder.openCheckpointDirectory()`). The descriptor is
/// closed when the value goes away.
final class CheckpointFile: Sendable {
    let path: String
    let size: UInt64
    let digest: Digest32
    private let fd: Int32

    /// Opens `step-<step>.safetensors` of `folder`.
    init(folder: TrialFolder, step: Int) throws(TrialFolderError) {
        let path = folder.checkpointPath(step: step)
        guard let directory = folder.openCheckpointDirectory() else { throw .io(path: folder.checkpointDirectory, errno: ENOTDIR) }
        let fd = openat(directory, "step-\(step).safetensors", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        let openError = errno
        close(directory)
        guard fd >= 0 else { throw .io(path: path, errno: openError) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .io(path: path, errno: EINVAL)  // a FIFO or device named like a checkpoint (O_NONBLOCK: opening a FIFO must not hang)
        }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: UInt64 = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if count < 0, errno == EINTR { continue }
            if count < 0 {
                let code = errno
                close(fd)
                throw .io(path: path, errno: code)
            }
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            offset += UInt64(count)
        }
        guard let digest = Digest32(hasher.finalize()) else {
            close(fd)
            throw .io(path: path, errno: EIO)
        }
        self.path = path
        // The size is what was digested: a file still growing (a contract breach) is sent as digested.
        self.size = offset
        self.digest = digest
        self.fd = fd
    }

    /// Up to `count` bytes from `offset` (fewer at the end of the file, none past it).
    func read(at offset: UInt64, count: Int) throws(TrialFolderError) -> [UInt8] {
        guard offset < size else { return [] }
        let wanted = Int(min(UInt64(count), size - offset))
        var bytes = [UInt8](repeating: 0, count: wanted)
        var filled = 0
        while filled < wanted {
            let got = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return pread(fd, base + filled, wanted - filled, off_t(offset) + off_t(filled))
            }
            if got < 0, errno == EINTR { continue }
            if got < 0 { throw .io(path: path, errno: errno) }
            if got == 0 { throw .io(path: path, errno: EIO) }  // shrank under us
            filled += got
        }
        return bytes
    }

    deinit { close(fd) }
}
