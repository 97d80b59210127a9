import ArgumentParser
import Foundation
import ThresherSweep

struct SweepBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Bayesian (TPE) against random search on Branin and Hartmann-6, with Optuna as a peer.",
        discussion: """
        Median best regret (best value found − global minimum) over SEEDS seeds × TRIALS trials for \
        each function and method. When Python with optuna is installed, Optuna's TPESampler runs the \
        same experiment in the same invocation (Benchmarks/optuna_peer.py); otherwise "peer not installed".
        """
    )

    @Option(help: "Seeds per function and method.")
    var seeds = 20

    @Option(help: "Trials per run.")
    var trials = 50

    @Flag(help: "One JSON object (keys branin_bayes, branin_random, hartmann6_bayes, hartmann6_random, and optuna_* when the peer ran).")
    var json = false

    func validate() throws {
        guard seeds >= 1, trials >= 1 else { throw ValidationError("--seeds and --trials must be at least 1") }
    }

    func run() throws {
        let result = SweepBenchmark.run(seeds: seeds, trials: trials)
        let peer = OptunaPeer.run(seeds: seeds, trials: trials)
        if json {
            var object = result.medians.mapValues { $0 as Any }
            object["seeds"] = seeds
            object["trials"] = trials
            if case .measured(let medians) = peer {
                for (key, value) in medians { object["optuna_\(key.replacingOccurrences(of: "_optuna", with: ""))"] = value }
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(result.table)
            switch peer {
            case .measured(let medians):
                let rows = medians.keys.sorted().map { key in
                    key.padding(toLength: 20, withPad: " ", startingAt: 0) + String(format: "%.4f", medians[key] ?? .nan)
                }
                print("Optuna TPESampler (peer, same seeds and trials):\n" + rows.joined(separator: "\n"))
            case .unavailable(let why):
                print("Optuna peer: \(why)")
            }
        }
        if !result.bayesWins { StandardError.write(["bayes did not beat random on every function"]) }
    }
}

/// Runs Benchmarks/optuna_peer.py when Python can import optuna.
enum OptunaPeer {
    enum Outcome { case measured([String: Double]), unavailable(String) }

    static func run(seeds: Int, trials: Int) -> Outcome {
        let script = "Benchmarks/optuna_peer.py"
        guard FileManager.default.fileExists(atPath: script) else {
            return .unavailable("peer not installed (\(script) not found; run from the repository root)")
        }
        let command = SweepBenchmark.peerCommand(seeds: seeds, trials: trials, json: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return .unavailable("peer not installed (cannot start python3: \(error))") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return .unavailable("peer not installed (pip install optuna)") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return .unavailable("the peer printed no JSON")
        }
        var medians: [String: Double] = [:]
        for (key, value) in object where key != "seeds" && key != "trials" {
            if let number = value as? Double { medians[key] = number }
        }
        return .measured(medians)
    }
}
