import Foundation
import XCTest

/// A sweep file over 1 MiB is refused by the commands that read one, naming the file and the limit.
final class SweepFileSizeCommandTests: XCTestCase {
    func testAFileOneByteOverTheLimitIsRefusedByValidateAndByTheCoordinator() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-size-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        let body = "method: grid\nparameters:\n  lr: {values: [0.1]}\n#"
        let limit = 1 << 20
        let atLimit = folder + "/at-limit.yaml", over = folder + "/over.yaml"
        try (body + String(repeating: "x", count: limit - body.utf8.count)).write(toFile: atLimit, atomically: true, encoding: .utf8)
        try (body + String(repeating: "x", count: limit + 1 - body.utf8.count)).write(toFile: over, atomically: true, encoding: .utf8)

        XCTAssertEqual(try ThresherProcess.run(["sweep", "validate", atLimit]).status, 0)
        let validate = try ThresherProcess.run(["sweep", "validate", over])
        XCTAssertEqual(validate.status, 2)
        XCTAssertTrue(validate.stderr.contains("it is 1048577 bytes; a sweep file may have at most 1048576 (1 MiB)"), validate.stderr)

        let coordinator = try ThresherProcess.run(["coordinator", "--listen", "ipc://\(folder)/c.ipc", "--state", folder + "/state",
                                                   "--sweep", over])
        XCTAssertEqual(coordinator.status, 2)
        XCTAssertTrue(coordinator.stderr.contains("\(over) is 1048577 bytes; a sweep file may have at most 1048576 (1 MiB)"),
                      coordinator.stderr)
    }
}
