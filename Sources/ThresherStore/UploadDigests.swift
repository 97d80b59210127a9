import Synchronization
import ThresherWire

/// The SHA-256 of each upload in progress, fed with the bytes as `BlobStore.append` writes them,
/// so that finalizing an upload of any size costs no read of the file (the coordinator finalizes
/// on its actor, where reading back a large checkpoint held every other request).
///
/// Guarantees: `take` returns a digest only when the state covers exactly the bytes written from
/// offset 0 up to the file's current size (`size`); anything else — a process restarted mid-upload,
/// an out-of-order write, a part file changed underneath — gives nil and the caller hashes the file.
/// The state of an upload is dropped by `take` and `forget`, so one kept per upload at most.
final class UploadDigests: Sendable {
    private struct Running {
        var hasher = SHA256()
        var hashed: Int64 = 0
    }

    private let running = Mutex<[String: Running]>([:])

    /// `bytes` were written at `offset` of `upload` (the part file's end before the write). A write
    /// at offset 0 starts the digest afresh; one that does not continue it exactly drops it.
    func appended(_ bytes: ArraySlice<UInt8>, to upload: String, at offset: Int64) {
        running.withLock { all in
            let current = all.removeValue(forKey: upload)
            var state: Running
            if offset == 0 {
                state = Running()
            } else if let current, current.hashed == offset {
                state = current
            } else {
                return
            }
            bytes.withUnsafeBytes { state.hasher.update($0) }
            state.hashed += Int64(bytes.count)
            all[upload] = state
        }
    }

    /// The finished digest of `upload` if it covers exactly its `size` bytes, and forgets it.
    func take(_ upload: String, size: Int64) -> String? {
        running.withLock { all in
            guard let state = all.removeValue(forKey: upload), state.hashed == size else { return nil }
            return state.hasher.hexDigest()
        }
    }

    func forget(_ upload: String) {
        running.withLock { _ = $0.removeValue(forKey: upload) }
    }
}
