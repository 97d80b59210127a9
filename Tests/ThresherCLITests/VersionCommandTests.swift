import ThresherWire
import XCTest

/// `thresher --version` names the release and the wire protocol, from the same constants the
/// coordinator reports as `thresher_build_info`.
final class VersionCommandTests: XCTestCase {
    func testVersionPrintsTheReleaseAndTheWireProtocol() throws {
        let output = try ThresherProcess.run(["--version"])
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertEqual(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines), ThresherRelease.description)
        XCTAssertTrue(output.stdout.contains("wire protocol \(FrameHeader.currentMajorVersion).\(FrameHeader.currentMinorVersion)"), output.stdout)
    }
}
