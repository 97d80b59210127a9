import Foundation
import XCTest

/// Every shell script under deploy/ and scripts/ is shellcheck-clean (warnings and infos alike),
/// and the Slurm test runs when asked (THRESHER_SLURM_TEST=1; CI runs scripts/slurm-test itself).
final class DeployScriptTests: XCTestCase {
    /// Files whose first line starts a shell, under deploy/ (any depth) and scripts/.
    private func shellScripts() throws -> [String] {
        let root = ThresherProcess.repositoryRoot
        var found: [String] = []
        for folder in ["deploy", "scripts"] {
            guard let walker = FileManager.default.enumerator(atPath: root.appendingPathComponent(folder).path) else { continue }
            for case let relative as String in walker {
                let path = "\(folder)/\(relative)"
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path, isDirectory: &isFolder),
                      !isFolder.boolValue else { continue }
                guard let handle = FileHandle(forReadingAtPath: root.appendingPathComponent(path).path) else { continue }
                let head = String(decoding: try handle.read(upToCount: 64) ?? Data(), as: UTF8.self)
                try handle.close()
                if head.hasPrefix("#!/usr/bin/env bash") || head.hasPrefix("#!/bin/bash") || head.hasPrefix("#!/bin/sh") {
                    found.append(path)
                }
            }
        }
        return found.sorted()
    }

    func testShellScriptsAreShellcheckClean() throws {
        let shellcheck = try ExternalTool.find("shellcheck", installedBy: "scripts/setup installs shellcheck")
        let scripts = try shellScripts()
        XCTAssertTrue(scripts.contains("deploy/slurm/thresher-workers.sbatch"), "found: \(scripts)")
        XCTAssertTrue(scripts.contains("scripts/slurm-test"), "found: \(scripts)")
        let output = try shellcheck.run(scripts)
        XCTAssertEqual(output.status, 0, "shellcheck \(scripts.joined(separator: " ")):\n\(output.stdout)\(output.stderr)")
    }

    /// The one-node Slurm cluster test, from `swift test` when THRESHER_SLURM_TEST=1 (it needs root,
    /// slurm-wlm and munge, and takes about 15 s).
    func testSlurmJobArrayRunsASweep() throws {
        guard ProcessInfo.processInfo.environment["THRESHER_SLURM_TEST"] == "1" else {
            throw XCTSkip("set THRESHER_SLURM_TEST=1 to run scripts/slurm-test from here (CI runs the script itself)")
        }
        let bash = try ExternalTool.find("bash", installedBy: "bash")
        let output = try bash.run(["scripts/slurm-test"], environment: ["THRESHER_BIN": try ThresherProcess.executable().path])
        XCTAssertEqual(output.status, 0, output.stdout + output.stderr)
        if output.stdout.contains("SKIP:") { throw XCTSkip(output.stdout) }
        XCTAssertTrue(output.stdout.contains("slurm-test: PASS"), output.stdout)
    }
}
