import Foundation
import XCTest

@testable import ThresherWorker

/// A trial program a killed worker left running in a trial folder is ended before the next launch
/// there; a record whose pid now belongs to another process (or to nothing) is left alone.
final class LeftoverProgramTests: XCTestCase {
    /// Starts `sleep 60` the way a worker starts a trial program (leader of its own process group)
    /// and reaps it at teardown; `reap` waits for it and returns how it ended.
    private func startOrphan() throws -> pid_t {
        let devNull = open("/dev/null", O_WRONLY)
        defer { close(devNull) }
        let pid = try Spawn.start(executable: "/bin/sleep", argv: ["sleep", "60"], environment: [], directory: nil,
                                  stdout: devNull, stderr: devNull)
        addTeardownBlock { kill(pid, SIGKILL); var status: Int32 = 0; waitpid(pid, &status, WNOHANG) }
        return pid
    }

    private func reap(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return status & 0x7f   // the terminating signal, 0 for a normal exit
    }

    func testALaunchRecordsItsProgramAndTheNextLaunchEndsOneLeftRunning() async throws {
        let base = try temporaryBase(self)
        let first = try start(launch(shell("exit 0")), base: base)
        _ = await finish(first)
        let recorded = try XCTUnwrap(LeftoverProgram.read(from: first.folder.programRecord))
        XCTAssertEqual(recorded.pid, first.pid)
        XCTAssertFalse(recorded.isAlive, "that program has exited")

        // A program left running by a worker that died: its record names it.
        let orphan = try startOrphan()
        try XCTUnwrap(LeftoverProgram.running(pid: orphan)).write(to: first.folder.programRecord)
        let second = try start(launch(shell("exit 0")), base: base)
        XCTAssertEqual(reap(orphan), SIGKILL, "the leftover program was killed before the launch")
        _ = await finish(second)
    }

    func testARecordWhoseStartTimeDiffersIsNeverSignalled() throws {
        let orphan = try startOrphan()
        let real = try XCTUnwrap(LeftoverProgram.running(pid: orphan))
        let recycled = LeftoverProgram(pid: real.pid, startTime: real.startTime + 1)
        XCTAssertFalse(recycled.isAlive)
        XCTAssertFalse(recycled.end(), "a pid with another start time is another process")
        XCTAssertTrue(real.isAlive)
        XCTAssertTrue(real.end())
        XCTAssertEqual(reap(orphan), SIGKILL)
        XCTAssertNil(LeftoverProgram.read(from: "/nonexistent/program.pid"))
    }
}
