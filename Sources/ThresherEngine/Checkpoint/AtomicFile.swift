#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and crash-safe replacement of a file.
///
/// `replace` writes to a temporary file in the destination's folder, fsyncs it, renames it over the
/// destination (atomic on POSIX file systems) and fsyncs the folder, so after a crash the path holds
/// either the old file or the complete new one, never a torn write. The new file has mode 0644.
enum AtomicFile {
    static func contents(of path: String) throws(SafeTensorsError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(path: path, operation: "stat", errno: errno) }
        var out: [UInt8] = []
        out.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", errno: errno)
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
        }
    }

    /// Replaces `path` with the concatenation of `chunks`, each produced on demand by `write`
    /// (called with a function that appends bytes to the file).
    static func replace(
        _ path: String, write produce: (_ emit: (UnsafeRawBufferPointer) throws(SafeTensorsError) -> Void) throws(SafeTensorsError) -> Void
    ) throws(SafeTensorsError) {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array("\(folder.isEmpty ? "/" : folder)/.\(base).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return mkstemp(base)
        }
        guard fd >= 0 else { throw .io(path: path, operation: "create temporary file for", errno: errno) }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var renamed = false
        var isOpen = true
        defer {
            if isOpen { close(fd) }
            if !renamed { unlink(temporary) }
        }
        func emit(_ bytes: UnsafeRawBufferPointer) throws(SafeTensorsError) {
            var done = 0
            guard let base = bytes.baseAddress else { return }
            while done < bytes.count {
                let n = write(fd, base + done, bytes.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw .io(path: temporary, operation: "write", errno: errno)
                }
                done += n
            }
        }
        try produce(emit)
        guard fchmod(fd, 0o644) == 0 else { throw .io(path: temporary, operation: "chmod", errno: errno) }
        guard fsync(fd) == 0 else { throw .io(path: temporary, operation: "fsync", errno: errno) }
        isOpen = false
        guard close(fd) == 0 else { throw .io(path: temporary, operation: "close", errno: errno) }
        guard rename(temporary, path) == 0 else { throw .io(path: path, operation: "rename onto", errno: errno) }
        renamed = true
        let folderFD = open(folder.isEmpty ? "/" : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderFD >= 0 {
            _ = fsync(folderFD)  // best effort: some file systems refuse fsync on folders
            close(folderFD)
        }
    }
}
