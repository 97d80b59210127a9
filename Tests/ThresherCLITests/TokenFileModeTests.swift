import Foundation
import XCTest

/// A cluster token file others can read is used, with a warning naming it and its mode.
final class TokenFileModeTests: XCTestCase {
    func testAGroupOrWorldReadableTokenFileIsWarnedAbout() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-token-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        let token = folder + "/cluster.token"
        XCTAssertEqual(try ThresherProcess.run(["token", "new", "--out", token]).status, 0)
        let attributes = try FileManager.default.attributesOfItem(atPath: token)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600, "token new writes mode 0600")
        // Nobody listens there: the command fails fast, after reading the token.
        let url = "ipc://\(folder)/nobody.ipc"
        let quiet = try ThresherProcess.run(["status", "--coordinator", url, "--token-file", token])
        XCTAssertFalse(quiet.stderr.contains("warning"), quiet.stderr)

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: token)
        let warned = try ThresherProcess.run(["status", "--coordinator", url, "--token-file", token])
        XCTAssertTrue(warned.stderr.contains("warning: the cluster token file \(token) has mode 644"), warned.stderr)
        let viaEnvironment = try ThresherProcess.run(["status", "--coordinator", url], environment: ["THRESHER_TOKEN_FILE": token])
        XCTAssertTrue(viaEnvironment.stderr.contains("has mode 644"), viaEnvironment.stderr)
    }
}
