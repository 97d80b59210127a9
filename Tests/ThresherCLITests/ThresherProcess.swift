import Foundation
import XCTest

/// Runs the `thresher` executable that SwiftPM built next to the test bundle.
struct ThresherProcess {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    /// The repository root, for example files.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func executable() throws -> URL {
        let candidates = [Bundle.main.executableURL, Bundle(for: BundleMarker.self).bundleURL]
            .compactMap { $0?.deletingLastPathComponent().appendingPathComponent("thresher") }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("the thresher executable was not found next to the tests (looked in \(candidates.map(\.path)))")
        }
        return found
    }

    static func run(_ arguments: [String], in directory: URL = repositoryRoot,
                    environment extra: [String: String] = [:]) throws -> Output {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments
        if !extra.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
        }
        process.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting, so a chatty process cannot block on a full pipe.
        let errData = ReadInBackground(err.fileHandleForReading)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData.wait(), as: UTF8.self))
    }

    /// Runs `thresher ARGUMENTS` with a pseudo-terminal of the given size as its stdout and stderr
    /// (util-linux `script`), as a person at a terminal runs it; both streams come back in `stdout`.
    static func runOnTerminal(_ arguments: [String], columns: Int, rows: Int, in directory: URL = repositoryRoot) throws -> Output {
        let script = "/usr/bin/script"
        guard FileManager.default.isExecutableFile(atPath: script) else {
            throw XCTSkip("\(script) (util-linux) is absent: no pseudo-terminal to run thresher on")
        }
        let quoted = ([try executable().path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        // -e: script exits with the command's status; -q: no "Script started" lines.
        process.arguments = ["-qec", "stty cols \(columns) rows \(rows); exec \(quoted.joined(separator: " "))", "/dev/null"]
        process.currentDirectoryURL = directory
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: data, as: UTF8.self), stderr: "")
    }

    /// Starts `thresher ARGUMENTS` in `directory` with stdout and stderr appended to `log`; `testCase`
    /// terminates it (if it still runs) and waits for it at teardown, so no child outlives its test.
    static func spawn(_ arguments: [String], in directory: String, log: String, for testCase: XCTestCase) throws -> Process {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        testCase.addTeardownBlock {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
        return process
    }

    /// Writes `text` to a fresh temporary file and returns its path.
    static func temporaryFile(_ text: String, name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }
}

private final class BundleMarker {}

/// Drains a pipe on another thread.
private final class ReadInBackground: @unchecked Sendable {
    // @unchecked: `data` is written once by the reader thread before `done` is signalled and
    // read only after waiting on it.
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
