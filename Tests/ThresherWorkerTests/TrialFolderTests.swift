import Foundation
import XCTest

@testable import ThresherWorker

final class TrialFolderTests: XCTestCase {
    func testLayoutUnderBase() throws {
        let folder = try TrialFolder(base: "/runs/w1/", trialID: "trial-42")
        XCTAssertEqual(folder.root, "/runs/w1/trial-42")
        XCTAssertEqual(folder.metricsFile, "/runs/w1/trial-42/metrics.jsonl")
        XCTAssertEqual(folder.checkpointDirectory, "/runs/w1/trial-42/checkpoints")
        XCTAssertEqual(folder.stdoutLog, "/runs/w1/trial-42/stdout.log")
        XCTAssertEqual(folder.stderrLog, "/runs/w1/trial-42/stderr.log")
        XCTAssertEqual(folder.checkpointPath(step: 7), "/runs/w1/trial-42/checkpoints/step-7.safetensors")
    }

    func testUnsafeTrialIDsAreRefused() {
        for bad in ["", ".", "..", "../x", "a/b", "/abs", ".hidden", "a b", "tab\t", "é", String(repeating: "a", count: 129)] {
            XCTAssertThrowsError(try TrialFolder(base: "/runs", trialID: bad), bad) { error in
                XCTAssertEqual(error as? TrialFolderError, .invalidTrialID(bad))
            }
        }
        XCTAssertNoThrow(try TrialFolder(base: "/runs", trialID: "Sweep_3.trial-0007"))
    }

    func testRelativeBaseBecomesAbsolute() throws {
        let folder = try TrialFolder(base: "runs", trialID: "t")
        XCTAssertEqual(folder.root, FileManager.default.currentDirectoryPath + "/runs/t")
    }

    func testCheckpointNamesMustBeCanonical() {
        XCTAssertEqual(TrialFolder.step(fromFileName: "step-0.safetensors"), 0)
        XCTAssertEqual(TrialFolder.step(fromFileName: "step-120.safetensors"), 120)
        XCTAssertEqual(TrialFolder.step(fromFileName: "step-3.json", extension: "json"), 3)
        for bad in ["step-.safetensors", "step-007.safetensors", "step--1.safetensors", "step-+1.safetensors",
                    "step-1.safetensors.tmp", ".step-1.safetensors", "step-1.json", "Step-1.safetensors",
                    "step-1a.safetensors", "step-99999999999999999.safetensors", "latest.safetensors"] {
            XCTAssertNil(TrialFolder.step(fromFileName: bad), bad)
        }
    }

    func testCreateKeepsCheckpointsAndEmptiesMetrics() throws {
        let folder = try TrialFolder(base: try temporaryBase(self), trialID: "t")
        try folder.create()
        try Data("old\n".utf8).write(to: URL(fileURLWithPath: folder.metricsFile))
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder.checkpointPath(step: 5)))
        try folder.create()
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder.metricsFile)).count, 0)
        XCTAssertEqual(folder.checkpoint(step: 5)?.step, 5)
    }

    func testLookupSeesOnlyRegularFilesAndSidecars() throws {
        let folder = try TrialFolder(base: try temporaryBase(self), trialID: "t")
        try folder.create()
        let fm = FileManager.default
        try Data("a".utf8).write(to: URL(fileURLWithPath: folder.checkpointPath(step: 1)))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: folder.metadataPath(step: 1)))
        try Data("b".utf8).write(to: URL(fileURLWithPath: folder.checkpointPath(step: 2)))
        try Data("half".utf8).write(to: URL(fileURLWithPath: folder.checkpointDirectory + "/.step-3.safetensors.tmp"))
        try fm.createSymbolicLink(atPath: folder.checkpointPath(step: 4), withDestinationPath: "/etc/hostname")
        try fm.createDirectory(atPath: folder.checkpointPath(step: 6), withIntermediateDirectories: false)

        XCTAssertEqual(folder.checkpoints(), [
            TrialCheckpoint(step: 1, path: folder.checkpointPath(step: 1), metadataPath: folder.metadataPath(step: 1)),
            TrialCheckpoint(step: 2, path: folder.checkpointPath(step: 2), metadataPath: nil),
        ])
        XCTAssertNil(folder.checkpoint(step: 3))
        XCTAssertNil(folder.checkpoint(step: 4), "a symlink is never followed")
        XCTAssertNil(folder.checkpoint(step: 6))
        XCTAssertNil(folder.checkpoint(step: -1))
    }

    func testPruneDeletesReleasedCheckpointsOnly() throws {
        let folder = try TrialFolder(base: try temporaryBase(self), trialID: "t")
        try folder.create()
        for step in [3, 6, 9] {
            try Data("w".utf8).write(to: URL(fileURLWithPath: folder.checkpointPath(step: step)))
            try Data("{}".utf8).write(to: URL(fileURLWithPath: folder.metadataPath(step: step)))
        }
        let foreign = folder.checkpointDirectory + "/notes.txt"
        let hidden = folder.checkpointDirectory + "/.step-12.safetensors.tmp"
        try Data("keep".utf8).write(to: URL(fileURLWithPath: foreign))
        try Data("keep".utf8).write(to: URL(fileURLWithPath: hidden))
        let target = try temporaryBase(self) + "/precious"
        try Data("keep".utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: folder.checkpointPath(step: 1), withDestinationPath: target)

        XCTAssertEqual(try folder.prune(keepingSteps: [9]), [3, 6])
        XCTAssertEqual(folder.checkpoints().map(\.step), [9])
        XCTAssertNotNil(folder.checkpoint(step: 9)?.metadataPath)
        let fm = FileManager.default
        XCTAssertFalse(fm.fileExists(atPath: folder.metadataPath(step: 3)))
        XCTAssertTrue(fm.fileExists(atPath: foreign))
        XCTAssertTrue(fm.fileExists(atPath: hidden))
        XCTAssertTrue(fm.fileExists(atPath: target), "pruning never reaches through a symlink")
        XCTAssertEqual(try folder.prune(keepingSteps: [9]), [], "pruning again is a no-op")
    }

    /// The agent prunes with the bound it knows (steps acknowledged through 6), not a list of the
    /// files it saw earlier: a checkpoint the program renamed into place since (step 8, not in any
    /// keep-set) must survive. The keep-set version deleted it (the soak's missing announcement).
    func testPruneThroughAStepNeverDeletesALaterCheckpoint() throws {
        let folder = try TrialFolder(base: try temporaryBase(self), trialID: "t")
        try folder.create()
        for step in [3, 6, 7] { try Data("w".utf8).write(to: URL(fileURLWithPath: folder.checkpointPath(step: step))) }
        let keep: Set<Int> = [7]  // the latest the agent knew of
        try Data("new".utf8).write(to: URL(fileURLWithPath: folder.checkpointPath(step: 8)))  // appeared meanwhile
        XCTAssertEqual(try folder.prune(keepingSteps: keep, throughStep: 6), [3, 6])
        XCTAssertEqual(folder.checkpoints().map(\.step), [7, 8])
        XCTAssertEqual(try folder.prune(keepingSteps: [8], throughStep: nil), [7], "without a bound (the trial ended) only the kept stay")
    }

    func testPruneOfAMissingFolderIsANoOp() throws {
        let folder = try TrialFolder(base: try temporaryBase(self), trialID: "never-created")
        XCTAssertEqual(try folder.prune(keepingSteps: []), [])
        XCTAssertEqual(folder.checkpoints(), [])
    }
}
