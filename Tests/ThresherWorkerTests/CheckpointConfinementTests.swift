#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest

@testable import ThresherWorker

/// A trial program runs as the worker's user and may leave anything in its folder. These tests plant
/// symlinks and special files where checkpoints are looked for and check that the worker never
/// reads, deletes or writes anything outside the trial's own checkpoint folder through them.
final class CheckpointConfinementTests: XCTestCase {
    /// A folder outside the trial folder holding files named like checkpoints: what must stay untouched.
    private func outsideFolder() throws -> String {
        let outside = try temporaryBase(self) + "/outside"
        try FileManager.default.createDirectory(atPath: outside + "/checkpoints", withIntermediateDirectories: true)
        for name in ["step-1.safetensors", "step-1.json", "step-2.safetensors", "checkpoints/step-1.safetensors"] {
            try Data("precious \(name)".utf8).write(to: URL(fileURLWithPath: outside + "/" + name))
        }
        return outside
    }

    private func assertUntouched(_ outside: String, file: StaticString = #filePath, line: UInt = #line) {
        for name in ["step-1.safetensors", "step-1.json", "step-2.safetensors", "checkpoints/step-1.safetensors"] {
            let text = try? String(contentsOfFile: outside + "/" + name, encoding: .utf8)
            XCTAssertEqual(text, "precious \(name)", "\(name) outside the trial folder was changed", file: file, line: line)
        }
    }

    func testACheckpointFolderReplacedBySymlinkIsNeitherReadNorPruned() throws {
        let outside = try outsideFolder()
        let folder = try TrialFolder(base: try temporaryBase(self), trialID: "t")
        try folder.create()
        try FileManager.default.removeItem(atPath: folder.checkpointDirectory)
        try FileManager.default.createSymbolicLink(atPath: folder.checkpointDirectory, withDestinationPath: outside)

        XCTAssertNil(folder.openCheckpointDirectory())
        XCTAssertEqual(folder.checkpoints(), [], "checkpoints behind a symlinked folder are invisible")
        XCTAssertNil(folder.checkpoint(step: 1))
        XCTAssertTrue(folder.checkpointFiles().isEmpty)
        XCTAssertThrowsError(try CheckpointFile(folder: folder, step: 1))
        XCTAssertEqual(try folder.prune(keepingSteps: []), [])
        assertUntouched(outside)
    }

    func testATrialFolderReplacedBySymlinkIsNeitherReadNorPruned() throws {
        let outside = try outsideFolder()
        let base = try temporaryBase(self)
        let folder = try TrialFolder(base: base, trialID: "t")
        try FileManager.default.createSymbolicLink(atPath: folder.root, withDestinationPath: outside)

        XCTAssertEqual(folder.checkpoints(), [])
        XCTAssertNil(folder.checkpoint(step: 1))
        XCTAssertThrowsError(try CheckpointFile(folder: folder, step: 1))
        XCTAssertEqual(try folder.prune(keepingSteps: []), [])
        assertUntouched(outside)
    }

    func testACheckpointThatIsASymlinkOrAFIFOIsNeverOpened() throws {
        let outside = try outsideFolder()
        let folder = try TrialFolder(base: try temporaryBase(self), trialID: "t")
        try folder.create()
        try FileManager.default.createSymbolicLink(atPath: folder.checkpointPath(step: 1), withDestinationPath: outside + "/step-1.safetensors")
        XCTAssertEqual(mkfifo(folder.checkpointPath(step: 2), 0o644), 0, String(cString: strerror(errno)))
        // Even asked directly (the race where a regular file was swapped after the lookup), the
        // symlink is refused by O_NOFOLLOW and the FIFO neither blocks nor is read.
        XCTAssertThrowsError(try CheckpointFile(folder: folder, step: 1))
        XCTAssertThrowsError(try CheckpointFile(folder: folder, step: 2))
        try Data("real".utf8).write(to: URL(fileURLWithPath: folder.checkpointPath(step: 3)))
        let real = try CheckpointFile(folder: folder, step: 3)
        XCTAssertEqual(real.size, 4)
        XCTAssertEqual(try real.read(at: 0, count: 10), Array("real".utf8))
        XCTAssertEqual(folder.checkpoints().map(\.step), [3])
        assertUntouched(outside)
    }
}
