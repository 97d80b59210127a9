import Foundation
import ThresherWire
import XCTest
@testable import ThresherCoordinator

/// `thresher fetch --out DIR` writes only inside DIR, whatever the coordinator's reply says: file
/// names are built from integers only (rank, trial id, step), never from a name that came over the
/// wire, and each file is replaced atomically, so a symlink planted under a file's name is replaced,
/// never written through.
final class FetchConfinementTests: XCTestCase {
    func testFilesLandInTheOutFolderUnderNamesMadeOfNumbersOnly() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fetch-out-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/out", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let outside = root + "/precious.safetensors"
        try Data("keep".utf8).write(to: URL(fileURLWithPath: outside))
        // A symlink where the first file will go, pointing outside the out folder.
        try FileManager.default.createSymbolicLink(atPath: root + "/out/rank-1-trial-7-step-3.safetensors", withDestinationPath: outside)

        let hostileName = "../../../etc/x\u{0}/" + String(repeating: "y", count: 300)
        let cases: [(trial: Int64, step: Int64)] = [(7, 3), (-1, .min), (.max, -9)]
        for (rank, c) in cases.enumerated() {
            let written = try CheckpointExport.write(Array("bytes \(rank)".utf8), rank: rank + 1, sweepName: hostileName, sweepID: -5,
                                                     trialID: c.trial, trialIndex: 0, step: c.step, metric: "../loss", value: 1,
                                                     params: ["p": .string("../../z")], digest: "../" + hostileName, into: root + "/out")
            for path in [written.path, written.sidecarPath] {
                XCTAssertEqual((path as NSString).deletingLastPathComponent, root + "/out", path)
                XCTAssertFalse((path as NSString).lastPathComponent.contains("/"))
                var info = stat()
                XCTAssertEqual(lstat(path, &info), 0)
                XCTAssertEqual(info.st_mode & S_IFMT, S_IFREG, "\(path) is a regular file, not a symlink")
            }
        }
        XCTAssertEqual(try String(contentsOfFile: outside, encoding: .utf8), "keep", "the symlink's target was not written through")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root).sorted(), ["out", "precious.safetensors"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root + "/out").count, 6)
    }
}
