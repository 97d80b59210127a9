import Foundation

/// Runs Benchmarks/torch_gru_peer.py (PyTorch's W1 training step) as a subprocess and reads its
/// JSON: the median ms/step for each hidden size and thread count it was given.
enum TorchGRUPeer {
    static let script = "Benchmarks/torch_gru_peer.py"
    /// The peer's exit status when `import torch` fails.
    static let torchMissingStatus: Int32 = 3

    struct Measurement {
        var torchVersion: String
        var flushDenormal: Bool
        /// Median ms per training step, keyed by "h<H>_t<T>".
        var milliseconds: [String: Double]
    }

    enum Outcome {
        case measured(Measurement)
        case unavailable(String)
    }

    static func key(hidden: Int, threads: Int) -> String { "h\(hidden)_t\(threads)" }

    static func run(shape: EngineBenchmark.Shape, hidden: [Int], threads: [Int], steps: Int, warmup: Int) -> Outcome {
        guard FileManager.default.fileExists(atPath: script) else {
            return .unavailable("PyTorch peer not run: \(script) not found (run from the repository root)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", script,
            "--batch", "\(shape.batch)", "--seq", "\(shape.steps)", "--input", "\(shape.input)",
            "--layers", "\(shape.layers)",
            "--hidden", hidden.map(String.init).joined(separator: ","),
            "--threads", threads.map(String.init).joined(separator: ","),
            "--steps", "\(steps)", "--warmup", "\(warmup)",
        ]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            return .unavailable("PyTorch is not installed (cannot start python3: \(error))")
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == torchMissingStatus {
            return .unavailable("PyTorch is not installed (python3 cannot import torch; pip install torch)")
        }
        guard process.terminationStatus == 0 else {
            return .unavailable("the PyTorch peer failed with status \(process.terminationStatus) (run python3 \(script) to see why)")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let results = object["results"] as? [String: Any] else {
            return .unavailable("the PyTorch peer printed no JSON")
        }
        var milliseconds: [String: Double] = [:]
        for (key, value) in results {
            if let entry = value as? [String: Any], let ms = entry["ms"] as? Double, ms.isFinite, ms > 0 {
                milliseconds[key] = ms
            }
        }
        return .measured(Measurement(
            torchVersion: object["torch_version"] as? String ?? "unknown",
            flushDenormal: object["flush_denormal"] as? Bool ?? false,
            milliseconds: milliseconds))
    }
}
