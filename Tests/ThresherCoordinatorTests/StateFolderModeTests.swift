import Foundation
import XCTest
import ThresherCoordinator

/// A state folder the coordinator creates is readable by its owner only.
final class StateFolderModeTests: XCTestCase {
    func testANewStateFolderIsMode0700AndAnExistingOneKeepsItsMode() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("state-mode-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fresh = root + "/fresh"
        let coordinator = try Coordinator(stateDirectory: fresh)
        try await coordinator.close()
        XCTAssertEqual(try mode(fresh), 0o700)

        let existing = root + "/existing"
        try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        let again = try Coordinator(stateDirectory: existing)
        try await again.close()
        XCTAssertEqual(try mode(existing), 0o750, "an operator's choice for an existing folder is kept")
    }

    private func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try XCTUnwrap(attributes[.posixPermissions] as? NSNumber).intValue & 0o777
    }
}
