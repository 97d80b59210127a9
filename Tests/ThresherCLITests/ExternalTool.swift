import Foundation
import XCTest

/// A program outside the repository that a deploy check runs (systemd-analyze, shellcheck,
/// kubectl, apt-cache, a Python in `.venv-deploy`).
///
/// Guarantees: `find` throws `XCTSkip` naming the tool and what installs it when it is absent, so a
/// check is skipped with a reason, never passed silently; `run` returns the exit status and both
/// outputs in full (they go through temporary files, so no pipe can fill and block the tool).
struct ExternalTool {
    let url: URL

    /// The deploy/ folder and the `.venv-deploy` folder scripts/setup fills.
    static let deployFolder = ThresherProcess.repositoryRoot.appendingPathComponent("deploy")
    static let venvFolder = ThresherProcess.repositoryRoot.appendingPathComponent(".venv-deploy")

    /// The tool `name` on PATH (or the usual system folders), else a skip naming `installedBy`.
    static func find(_ name: String, installedBy: String) throws -> ExternalTool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let folders = path.split(separator: ":").map(String.init) + ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        for folder in folders {
            let candidate = URL(fileURLWithPath: folder).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return ExternalTool(url: candidate) }
        }
        throw XCTSkip("\(name) is not installed (\(installedBy))")
    }

    /// A program of the `.venv-deploy` virtual environment, else a skip that says to run scripts/setup.
    static func venv(_ name: String) throws -> ExternalTool {
        let candidate = venvFolder.appendingPathComponent("bin").appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: candidate.path) else {
            throw XCTSkip("\(candidate.path) is missing: scripts/setup makes .venv-deploy (kubernetes-validate, the compose-spec schema)")
        }
        return ExternalTool(url: candidate)
    }

    func run(_ arguments: [String], in directory: URL = ThresherProcess.repositoryRoot,
             environment extra: [String: String] = [:]) throws -> ThresherProcess.Output {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out"), errURL = scratch.appendingPathComponent("err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.currentDirectoryURL = directory
        if !extra.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
        }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return ThresherProcess.Output(status: process.terminationStatus,
                                      stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    /// Runs and fails the calling test, with the tool's output, unless it exits 0.
    @discardableResult
    func check(_ arguments: [String], in directory: URL = ThresherProcess.repositoryRoot,
               file: StaticString = #filePath, line: UInt = #line) throws -> ThresherProcess.Output {
        let output = try run(arguments, in: directory)
        XCTAssertEqual(output.status, 0, "\(url.lastPathComponent) \(arguments.joined(separator: " ")):\n\(output.stdout)\n\(output.stderr)",
                       file: file, line: line)
        return output
    }
}
