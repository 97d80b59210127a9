import Foundation
import XCTest

@testable import ThresherWorker

/// A fresh folder under the system's temporary folder, removed when the test ends.
func temporaryBase(_ test: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "/thresher-worker-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// A launch with the test's defaults: short polls, a generous grace nobody should reach.
func launch(_ argv: [String], resumeFrom: String? = nil, grace: Duration = .seconds(60),
            environment: [String: String] = ProcessInfo.processInfo.environment) -> TrialLaunch {
    TrialLaunch(argv: argv, sweepID: "sweep-1", seed: 7, resumeFrom: resumeFrom, baseEnvironment: environment,
                stopGrace: grace, pollInterval: .milliseconds(20))
}

/// `/bin/sh -c SCRIPT`: the non-Python programs of these tests.
func shell(_ script: String) -> [String] { ["/bin/sh", "-c", script] }

/// Starts a trial in `base`.
func start(_ launch: TrialLaunch, base: String, trial: String = "trial-1") throws -> TrialProcess {
    try TrialProcess.start(launch, in: TrialFolder(base: base, trialID: trial))
}

/// Waits for the trial's end and returns it with every event, failing the test (and killing the
/// program) if it has not ended after `timeout` — a safety net, not a speed assertion.
func finish(_ process: TrialProcess, timeout: Duration = .seconds(180), file: StaticString = #filePath, line: UInt = #line)
    async -> (exit: TrialExit, events: [TrialEvent])
{
    let watchdog = Task {
        try await Task.sleep(for: timeout)
        await process.stop(grace: .zero)
        return true
    }
    let exit = await process.wait()
    watchdog.cancel()
    if (try? await watchdog.value) == true { XCTFail("the trial did not end within \(timeout)", file: file, line: line) }
    var events: [TrialEvent] = []
    for await event in process.events { events.append(event) }
    return (exit, events)
}

/// Kills `process` if the test has not finished with it after `timeout`, so no test can hang.
func guardTimeout(_ process: TrialProcess, _ timeout: Duration = .seconds(180)) -> Task<Void, Never> {
    Task {
        guard (try? await Task.sleep(for: timeout)) != nil else { return }
        await process.stop(grace: .zero)
    }
}

extension Collection where Element == TrialEvent {
    var metrics: [MetricLine] { compactMap { if case .metrics(let line) = $0 { line } else { nil } } }
    var checkpoints: [TrialCheckpoint] { compactMap { if case .checkpoint(let c) = $0 { c } else { nil } } }
    var refused: [MetricLineError] { compactMap { if case .malformedLine(let e) = $0 { e } else { nil } } }
}

/// True when `pid` no longer runs: gone, or a zombie nobody has reaped yet (in a container whose
/// first process does not reap orphans, a killed grandchild can stay a zombie).
func isGone(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
    // The state letter follows the parenthesised command name, which may itself hold spaces.
    guard let close = stat.lastIndex(of: ")") else { return true }
    return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(_ timeout: Duration = .seconds(30), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return condition()
}

/// The path of `python3`, or nil when this machine has none (Python tests are then skipped).
func python3() -> String? {
    try? Spawn.resolve("python3", environment: ProcessInfo.processInfo.environment)
}

/// The example program, from the test bundle's resources (falling back to the source tree).
func exampleProgram() throws -> String {
    if let url = Bundle.module.url(forResource: "train_linear", withExtension: "py", subdirectory: "Examples") {
        return url.path
    }
    let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Examples/train_linear.py")
    guard FileManager.default.fileExists(atPath: source.path) else { throw XCTSkip("train_linear.py not found") }
    return source.path
}
