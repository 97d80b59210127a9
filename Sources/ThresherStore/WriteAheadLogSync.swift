import Foundation
import Synchronization

/// Makes the store's write-ahead log durable on demand: `fdatasync` on the `-wal` file.
///
/// Why: group commit with a pipeline. A batch committed with `synchronous = NORMAL` is in the WAL
/// (and visible to every later transaction) but not yet on disk; one `sync()` afterwards makes it,
/// and every commit before it, durable — Linux's fsync covers all data written to the file before
/// the call, whichever descriptor wrote it. The coordinator decides the next batch while this
/// runs, and acknowledges a batch only after a `sync()` that began after its commit.
///
/// Guarantees: `sync()` returns only when everything committed to the WAL before it was called is
/// on disk, or throws. Safe to call from any thread, concurrently with the writer. A WAL file that
/// was replaced (a new inode at the same path) is reopened, so the sync never goes to a stale file.
final class WriteAheadLogSync: Sendable {
    private struct OpenFile {
        var descriptor: Int32
        var inode: UInt64
    }

    let path: String
    private let file = Mutex<OpenFile?>(nil)

    init(databasePath: String) {
        path = databasePath + "-wal"
    }

    func sync() throws {
        try file.withLock { open in
            var current = stat()
            guard stat(path, &current) == 0 else { throw Self.error("find", path) }
            if let file = open, file.inode != UInt64(current.st_ino) {
                close(file.descriptor)
                open = nil
            }
            if open == nil {
                let descriptor = Glibc.open(path, O_RDWR | O_CLOEXEC)
                guard descriptor >= 0 else { throw Self.error("open", path) }
                open = OpenFile(descriptor: descriptor, inode: UInt64(current.st_ino))
            }
            guard let descriptor = open?.descriptor, fdatasync(descriptor) == 0 else { throw Self.error("fdatasync", path) }
        }
    }

    deinit {
        if let descriptor = file.withLock({ $0?.descriptor }) { close(descriptor) }
    }

    private static func error(_ operation: String, _ path: String) -> StoreError {
        let code = errno
        return .storageFailed("could not \(operation) the write-ahead log \(path): \(String(cString: strerror(code))) (errno \(code))")
    }
}
