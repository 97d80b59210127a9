#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// Drains one of a trial program's output pipes into a bounded log file and keeps its tail in memory.
///
/// Guarantees: the pipe is always drained (a chatty program never blocks on a full pipe); disk use is
/// at most `2 × limitBytes` — when `path` reaches `limitBytes` it becomes `path.1` (replacing
/// the previous one) and a new `path` starts, so the newest output is always kept (a previous
/// launch's non-empty log also becomes `path.1` at start); the last
/// `tailBytes` bytes stay in memory for a failure reason. A read thread owns the pipe's read end and
/// closes it at end of file; all shared state is behind a `Mutex`.
final class LogCapture: Sendable {
    private struct State {
        var tail: [UInt8] = []
        var truncated = false
        var finished = false
    }

    private let state = Mutex(State())
    let path: String
    let limitBytes: Int
    let tailBytes: Int

    /// Starts a thread reading `fd` (which this object now owns) until end of file.
    init(fd: Int32, path: String, limitBytes: Int, tailBytes: Int = 16 * 1024) {
        self.path = path
        self.limitBytes = max(4096, limitBytes)
        self.tailBytes = tailBytes
        Thread.detachNewThread { [self] in
            self.drain(fd)
        }
    }

    /// True once the pipe reached end of file: every process holding its write end has exited.
    var isFinished: Bool { state.withLock { $0.finished } }

    /// The last `count` lines of output (a trailing line without newline included), lossily decoded.
    func lastLines(_ count: Int) -> [String] {
        let (bytes, truncated) = state.withLock { ($0.tail, $0.truncated) }
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        if lines.last == "" { lines.removeLast() }
        // The first line of a cut tail is a fragment; keep it only if nothing else is left.
        if truncated, lines.count > 1 { lines.removeFirst() }
        return Array(lines.suffix(count))
    }

    private func drain(_ fd: Int32) {
        // A previous launch's log (a resumed trial reuses its folder) is kept as `.1` for diagnosis.
        var info = stat()
        if stat(path, &info) == 0, info.st_size > 0 { _ = rename(path, path + ".1") }
        var file = openLog()
        var written = 0
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            remember(buffer[0..<count])
            var chunk = buffer[0..<count]
            while !chunk.isEmpty {
                if written >= limitBytes {
                    // Rotate: the full file becomes `.1` and the newest bytes start a fresh one.
                    if file >= 0 { close(file) }
                    _ = rename(path, path + ".1")
                    file = openLog()
                    written = 0
                }
                // Never past the limit, even when one read brings more than the room left.
                let piece = chunk.prefix(limitBytes - written)
                if file >= 0 { writeAll(file, piece) }
                written += piece.count
                chunk = chunk.dropFirst(piece.count)
            }
        }
        close(fd)
        if file >= 0 { close(file) }
        state.withLock { $0.finished = true }
    }

    private func openLog() -> Int32 {
        open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    }

    private func remember(_ chunk: ArraySlice<UInt8>) {
        state.withLock { state in
            state.tail.append(contentsOf: chunk)
            if state.tail.count > tailBytes {
                state.tail.removeFirst(state.tail.count - tailBytes)
                state.truncated = true
            }
        }
    }

    private func writeAll(_ file: Int32, _ chunk: ArraySlice<UInt8>) {
        chunk.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(file, raw.baseAddress?.advanced(by: offset), raw.count - offset)
                if n < 0, errno == EINTR { continue }
                // A full disk loses log bytes, never the trial: the pipe keeps being drained.
                guard n > 0 else { return }
                offset += n
            }
        }
    }
}
