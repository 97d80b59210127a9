import Foundation
import XCTest

/// deploy/systemd's units pass `systemd-analyze verify` without a single message and
/// `systemd-analyze security` rates them "OK" or better; their command line is one `thresher`
/// accepts.
final class DeploySystemdTests: XCTestCase {
    static let units = ["thresher-coordinator.service", "thresher-worker@.service"]

    /// A copy of both units whose ExecStart names the binary just built (verify checks that the
    /// binary exists), with the template also as an instance, in a fresh folder.
    private func unitCopies() throws -> URL {
        let binary = try ThresherProcess.executable()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("units-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        for unit in Self.units {
            let text = try String(contentsOf: ExternalTool.deployFolder.appendingPathComponent("systemd/\(unit)"), encoding: .utf8)
            XCTAssertTrue(text.contains("/usr/local/bin/thresher "), "\(unit) should run /usr/local/bin/thresher")
            let copy = text.replacingOccurrences(of: "/usr/local/bin/thresher ", with: binary.path + " ")
            try copy.write(to: folder.appendingPathComponent(unit), atomically: true, encoding: .utf8)
        }
        try FileManager.default.copyItem(at: folder.appendingPathComponent("thresher-worker@.service"),
                                         to: folder.appendingPathComponent("thresher-worker@ci.service"))
        return folder
    }

    func testUnitsVerifyWithoutAnyMessage() throws {
        let analyze = try ExternalTool.find("systemd-analyze", installedBy: "systemd")
        let folder = try unitCopies()
        for unit in ["thresher-coordinator.service", "thresher-worker@ci.service"] {
            // verify exits 0 on unknown keys and bad values too, printing a warning: any output fails.
            let output = try analyze.check(["verify", "--man=no", "./\(unit)"], in: folder)
            XCTAssertEqual(output.stdout + output.stderr, "", "systemd-analyze verify \(unit) printed messages")
        }
    }

    func testUnitsAreRatedOKBySystemdSecurity() throws {
        let analyze = try ExternalTool.find("systemd-analyze", installedBy: "systemd")
        let folder = try unitCopies()
        for unit in ["thresher-coordinator.service", "thresher-worker@ci.service"] {
            // Exposure is shown 0.0–10.0 (above 2.0 systemd no longer calls it "OK"); --threshold
            // counts in tenths (0–100) and fails the command above it.
            let output = try analyze.run(["security", "--offline=yes", "--threshold=20", "--no-pager", "./\(unit)"], in: folder)
            XCTAssertEqual(output.status, 0, "\(unit) is exposed above 2.0:\n\(output.stdout.suffix(400))\(output.stderr)")
            XCTAssertTrue(output.stdout.contains("Overall exposure level for \(unit):"), output.stdout + output.stderr)
        }
    }

    /// The options the units pass exist: `thresher coordinator` and `worker` accept them (checked
    /// by asking the real binary for its help and finding each flag there).
    func testUnitFlagsAreOnesThresherAccepts() throws {
        for (unit, command) in [("thresher-coordinator.service", "coordinator"), ("thresher-worker@.service", "worker")] {
            let text = try String(contentsOf: ExternalTool.deployFolder.appendingPathComponent("systemd/\(unit)"), encoding: .utf8)
            let execStart = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("ExecStart=") })
            let flags = Set(execStart.split(whereSeparator: { $0 == " " || $0 == "\"" || $0 == "'" })
                .filter { $0.hasPrefix("--") && $0.count > 2 }.map(String.init))  // not `set --`
            XCTAssertFalse(flags.isEmpty)
            let help = try ThresherProcess.run([command, "--help"])
            for flag in flags {
                XCTAssertTrue(help.stdout.contains(flag + " "), "\(unit) passes \(flag), which `thresher \(command)` does not list")
            }
        }
    }
}
