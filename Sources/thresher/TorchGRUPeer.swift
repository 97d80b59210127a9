import Foundation

/// Benchmarks/torch_gru_peer.py (PyTorch's W1 training step) kept running as a subprocess in its
/// `--serve` mode, so `thresher bench engine` can alternate one Thresher step with one PyTorch
/// step and both see the (shared, noisy) machine in the same state.
///
/// Protocol: the peer prints one JSON line `{"torch_version", "flush_denormal"}` when torch
/// imported (exit status 3 when it did not), then answers each `step H T N` line with
/// `{"samples_ms": [...]}`, the wall time of N training steps at hidden H with T threads.
final class TorchGRUPeer {
    static let script = "Benchmarks/torch_gru_peer.py"
    /// The peer's exit status when `import torch` fails.
    static let torchMissingStatus: Int32 = 3

    let torchVersion: String
    let flushDenormal: Bool
    private let process: Process
    private let input: FileHandle
    private let output: LineReader

    enum Start {
        case running(TorchGRUPeer)
        case unavailable(String)
    }

    private init(process: Process, input: FileHandle, output: LineReader, torchVersion: String, flushDenormal: Bool) {
        self.process = process
        self.input = input
        self.output = output
        self.torchVersion = torchVersion
        self.flushDenormal = flushDenormal
    }

    static func start(shape: EngineBenchmark.Shape) -> Start {
        guard FileManager.default.fileExists(atPath: script) else {
            return .unavailable("PyTorch peer not run: \(script) not found (run from the repository root)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", script, "--serve",
            "--batch", "\(shape.batch)", "--seq", "\(shape.steps)", "--input", "\(shape.input)",
            "--layers", "\(shape.layers)",
        ]
        // A peer that dies mid-run must not take this process down with SIGPIPE on the next write.
        signal(SIGPIPE, SIG_IGN)
        let toPeer = Pipe(), fromPeer = Pipe()
        process.standardInput = toPeer
        process.standardOutput = fromPeer
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            return .unavailable("PyTorch is not installed (cannot start python3: \(error))")
        }
        let reader = LineReader(fromPeer.fileHandleForReading)
        guard let line = reader.nextLine(),
              let hello = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
              let version = hello["torch_version"] as? String else {
            try? toPeer.fileHandleForWriting.close()
            process.waitUntilExit()
            if process.terminationStatus == torchMissingStatus {
                return .unavailable("PyTorch is not installed (python3 cannot import torch; pip install torch) — no ratios")
            }
            return .unavailable("the PyTorch peer did not start (status \(process.terminationStatus); run python3 \(script) to see why)")
        }
        return .running(TorchGRUPeer(process: process, input: toPeer.fileHandleForWriting, output: reader,
                                     torchVersion: version, flushDenormal: hello["flush_denormal"] as? Bool ?? false))
    }

    /// Milliseconds of each of `count` training steps, or nil when the peer failed.
    func steps(hidden: Int, threads: Int, count: Int) -> [Double]? {
        do { try input.write(contentsOf: Data("step \(hidden) \(threads) \(count)\n".utf8)) } catch { return nil }
        guard let line = output.nextLine(),
              let reply = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
              let samples = reply["samples_ms"] as? [Double], samples.count == count else { return nil }
        return samples
    }

    /// Closes the peer's stdin (it exits at EOF) and waits for it.
    func stop() {
        try? input.close()
        process.waitUntilExit()
    }
}

/// Reads newline-terminated lines from a pipe, blocking until a whole line or EOF.
final class LineReader {
    private let handle: FileHandle
    private var buffer = Data()

    init(_ handle: FileHandle) { self.handle = handle }

    func nextLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                buffer.removeSubrange(buffer.startIndex...newline)
                return String(decoding: line, as: UTF8.self)
            }
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }  // EOF
            buffer.append(chunk)
        }
    }
}
