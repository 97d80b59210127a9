#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Which trial program a launch started in a trial folder, kept in `<trial>/program.pid` as
/// `<pid> <start time>` (the start time from `/proc/<pid>/stat`, in clock ticks since boot).
///
/// Why: a worker that is SIGKILLed cannot stop its trial programs (each leads its own process
/// group), so they run on. If a worker started again on the same folder is handed the same trial,
/// the old program would go on appending to the new launch's metrics file and renaming
/// checkpoints into its folder: the same steps reported twice under one lease (found by the fault
/// tests, docs/reliability.md). Before a launch the worker therefore ends the program the record
/// names — only if a process with that pid *and* that start time still exists, so a recycled pid
/// is never signalled.
struct LeftoverProgram: Equatable {
    var pid: pid_t
    var startTime: UInt64

    /// The record of a running process, or nil if `/proc` does not show it.
    static func running(pid: pid_t) -> LeftoverProgram? {
        guard let start = startTime(of: pid) else { return nil }
        return LeftoverProgram(pid: pid, startTime: start)
    }

    /// The record of a child this process just started: a program that already exited is a zombie
    /// until it is reaped and still has its start time, so the record is written all the same
    /// (a fast `exit 0` left no record before, and the next launch had nothing to check).
    static func launched(pid: pid_t) -> LeftoverProgram? {
        guard let start = startTime(of: pid, acceptingZombie: true) else { return nil }
        return LeftoverProgram(pid: pid, startTime: start)
    }

    /// Writes the record to `path` (temporary file, then rename: a reader sees all of it or nothing).
    func write(to path: String) {
        let temporary = path + ".tmp"
        guard (try? "\(pid) \(startTime)\n".write(toFile: temporary, atomically: false, encoding: .utf8)) != nil else { return }
        rename(temporary, path)
    }

    /// The record at `path`, or nil when there is none or it is not two numbers.
    static func read(from path: String) -> LeftoverProgram? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count == 2, let pid = pid_t(fields[0]), pid > 1, let start = UInt64(fields[1]) else { return nil }
        return LeftoverProgram(pid: pid, startTime: start)
    }

    /// Whether the recorded process still exists (and is not a zombie) with the recorded start time.
    var isAlive: Bool { Self.startTime(of: pid) == startTime }

    /// SIGKILLs the recorded program's process group if it is still the recorded process, and
    /// waits up to `timeout` for it to be gone. Returns whether it was found running.
    @discardableResult
    func end(timeout: TimeInterval = 2) -> Bool {
        guard isAlive else { return false }
        kill(-pid, SIGKILL)   // the program leads its own group: helpers go with it
        kill(pid, SIGKILL)    // and in case it left that group
        let deadline = Date().addingTimeInterval(timeout)
        while isAlive && Date() < deadline { usleep(10_000) }
        return true
    }

    /// Field 22 of `/proc/<pid>/stat` (start time), nil if the process is gone or (unless
    /// `acceptingZombie`) a zombie.
    static func startTime(of pid: pid_t, acceptingZombie: Bool = false) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After "pid (comm)": field 3 (state) onwards; the command name may hold spaces or parens.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, fields[0] != "X", acceptingZombie || fields[0] != "Z" else { return nil }
        return UInt64(fields[19])
    }
}
