import Foundation

/// The 81-trial no-op grid (3^4, each trial reports `points` values and ends) under Thresher, Ray
/// Tune and Optuna, in the same invocation.
///
/// Thresher's figure is what a user waits for: `thresher run GRID --workers 2` (a coordinator and
/// two real `thresher worker` processes over ipc://, each trial a `/bin/sh` command that appends
/// its metric lines to `$THRESHER_METRICS_FILE`), timed from start to exit. The peers run
/// `Benchmarks/grid81_peer.py` (see that file for exactly what each does); a peer that cannot be
/// imported is reported as missing, never guessed.
enum Grid81Comparison {
    enum PeerOutcome {
        case measured(seconds: Double, version: String)
        case unavailable(String)

        var seconds: Double? { if case .measured(let s, _) = self { s } else { nil } }
    }

    struct Result {
        var thresherSeconds: Double
        var peers: [(name: String, outcome: PeerOutcome)]
    }

    static let peerScript = "Benchmarks/grid81_peer.py"
    static let workers = 2

    /// The grid, as a sweep file: the trial's loss depends on its parameters, and every trial
    /// writes `points` lines, one per step.
    static func sweepText(points: Int) -> String {
        // $1…$4 are a=…, b=…, c=…, d=… (${args_no_hyphens}); the loss is their digits, then the step.
        let script = #"v="${1#a=}${2#b=}${3#c=}${4#d=}"; for s in $(seq 1 \#(points)); do "#
            + #"echo "{\"step\": $s, \"loss\": $v.$s}" >> "$THRESHER_METRICS_FILE"; done"#
        return """
            name: grid81
            method: grid
            command: [/bin/sh, -c, '\(script)', sh, "${args_no_hyphens}"]
            metric: {name: loss, goal: minimize}
            parameters:
              a: {values: [1, 2, 3]}
              b: {values: [1, 2, 3]}
              c: {values: [1, 2, 3]}
              d: {values: [1, 2, 3]}
            thresher:
              seed: 81
            """
    }

    static func run(points: Int, progress: (String) -> Void) throws -> Result {
        progress("grid81: thresher run --workers \(workers) …")
        let thresher = try runThresher(points: points)
        var peers: [(String, PeerOutcome)] = []
        for peer in ["ray", "optuna", "optuna-sqlite"] {
            progress("grid81: \(peer) …")
            peers.append((peer, runPeer(peer, points: points)))
        }
        return Result(thresherSeconds: thresher, peers: peers)
    }

    /// Seconds for `thresher run` on the grid in a fresh state folder; throws unless every trial completed.
    static func runThresher(points: Int) throws -> Double {
        let folder = NSTemporaryDirectory() + "thresher-bench-grid81-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/grid81.yaml"
        try Data(sweepText(points: points).utf8).write(to: URL(fileURLWithPath: file))
        let process = Process()
        process.executableURL = CoordinatorChild.executable
        process.arguments = ["run", file, "--workers", "\(workers)", "--state", folder + "/state", "--best", "0"]
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let start = ContinuousClock.now
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let seconds = (ContinuousClock.now - start).seconds
        let summary = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw CLIError("thresher run on the 81-trial grid exited with \(process.terminationStatus): \(summary)")
        }
        guard summary.contains("81 completed") else {
            throw CLIError("thresher run on the 81-trial grid did not complete all 81 trials: \(summary)")
        }
        return seconds
    }

    /// Runs one peer; its own JSON line is the only source of its figure.
    static func runPeer(_ name: String, points: Int) -> PeerOutcome {
        guard FileManager.default.fileExists(atPath: peerScript) else {
            return .unavailable("peer not run (\(peerScript) not found; run from the repository root)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", peerScript, name, "--points", "\(points)"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return .unavailable("peer not installed (cannot start python3: \(error))") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == 3 { return .unavailable("peer not installed") }
        guard process.terminationStatus == 0 else { return .unavailable("peer failed (exit \(process.terminationStatus))") }
        // The framework may print its own lines; the peer's result is the last JSON line.
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").reversed()
        for line in lines where line.hasPrefix("{") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let seconds = object["seconds"] as? Double else { continue }
            let trials = object["trials"] as? Int ?? 0
            let errors = object["errors"] as? Int ?? 0
            guard trials == 81, errors == 0 else { return .unavailable("peer ran \(trials) trials with \(errors) errors") }
            return .measured(seconds: seconds, version: object["version"] as? String ?? "?")
        }
        return .unavailable("the peer printed no result")
    }
}
