import Foundation
import Logging

/// A swift-log handler that appends one line per message to a file: `thresher run` sends the
/// coordinator's log there, so log lines never cut through the live table on the terminal.
///
/// Lines look like StreamLogHandler's (`time level label: [source] message`); every handler
/// made from one `FileLogHandler.Sink` writes through its lock, so lines never interleave.
struct FileLogHandler: LogHandler {
    /// An open log file shared by the handlers of one process.
    final class Sink: @unchecked Sendable {
        // @unchecked: `handle` is only written under `lock`.
        private let lock = NSLock()
        private let handle: FileHandle
        let path: String

        /// Opens (creating, 0600) `path` for appending.
        init(path: String) throws {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else {
                throw CLIError("cannot open the log file \(path): \(String(cString: strerror(errno)))")
            }
            handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            self.path = path
        }

        func write(_ line: String) {
            lock.lock()
            defer { lock.unlock() }
            handle.write(Data(line.utf8))
        }
    }

    let label: String
    let sink: Sink
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let time = Date().formatted(.iso8601)
        sink.write("\(time) \(event.level) \(label):\(fields) [\(event.source)] \(event.message)\n")
    }
}
