import ArgumentParser
import Foundation
import ThresherEngine

struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "The W1 GRU training step in Thresher's engine against PyTorch, and sgemm at the W1 shapes.",
        discussion: """
        The W1 training step is the gru-classifier model (2-layer GRU, input 300, the last layer's \
        final hidden → fc1 → ReLU → fc2 → one logit) on a batch of 64 sequences of 304 steps, \
        BCEWithLogitsLoss, backward, AdamW step. For each hidden size and thread count (OpenBLAS \
        threads for Thresher, torch.set_num_threads for PyTorch) it runs the warm-up steps, then \
        reports the median of the timed steps in ms/step and GFLOP/s (matrix-product FLOPs of one \
        step; see docs/performance.md). When python3 can import torch, Benchmarks/torch_gru_peer.py \
        runs the identical module in the same invocation with torch.set_flush_denormal(True) (the \
        GRU flushes subnormals too) and the ratio is Thresher's time ÷ PyTorch's. \
        Floor: ratio ≤ 1.0 at hidden 256 for 1 and 2 threads. \
        sgemm: GFLOP/s of the GRU's input projection [B·T, 300]·[300, 3H] (sgemm_gflops, 1 thread) \
        and recurrent product [B, H]·[H, 3H] at H 256. Exit status 2 for bad arguments.
        """
    )

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Flag(help: "A short run: hidden 256 only (unless --hidden is given), 1 warm-up and 3 timed steps.")
    var quick = false

    @Option(help: "Comma-separated hidden sizes (default 128,256,512; 256 with --quick).")
    var hidden: String?

    @Option(help: "Comma-separated thread counts.")
    var threads = "1,2"

    @Option(help: "Timed steps per configuration; the median is reported (default 5; 3 with --quick).")
    var steps: Int?

    @Option(help: "Untimed warm-up steps per configuration.")
    var warmup = 1

    @Flag(help: "Do not run the PyTorch peer.")
    var noTorch = false

    /// Anything the parser did not recognise, so it can be reported with exit status 2.
    @Argument(parsing: .allUnrecognized, help: .hidden)
    var unrecognized: [String] = []

    static let floorHidden = 256
    static let floorThreads = [1, 2]
    static let floorRatio = 1.0

    var hiddenSizes: [Int] { (try? Self.positiveList(hidden ?? (quick ? "256" : "128,256,512"), option: "--hidden", max: 8192)) ?? [] }
    var threadCounts: [Int] { (try? Self.positiveList(threads, option: "--threads", max: 256)) ?? [] }
    var timedSteps: Int { steps ?? (quick ? 3 : 5) }

    func validate() throws {
        if let first = unrecognized.first {
            let what = first.hasPrefix("-") ? "unknown option '\(first)'" : "unexpected argument '\(first)'"
            throw Self.usageError("\(what) (see thresher bench engine --help)")
        }
        do {
            _ = try Self.positiveList(hidden ?? "256", option: "--hidden", max: 8192)
            _ = try Self.positiveList(threads, option: "--threads", max: 256)
        } catch let error as ValidationError {
            throw Self.usageError(error.message)
        }
        if let steps, steps < 1 { throw Self.usageError("--steps must be at least 1, got \(steps)") }
        if warmup < 0 { throw Self.usageError("--warmup must be at least 0, got \(warmup)") }
    }

    /// Prints "error: …" and exits with status 2 (the command line's usage-error status).
    static func usageError(_ message: String) -> ExitCode {
        StandardError.write(["error: \(message)"])
        return ExitCode(2)
    }

    /// Parses "128,256" into positive integers no larger than `max`, without duplicates.
    static func positiveList(_ text: String, option: String, max: Int) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        var values: [Int] = []
        for part in parts {
            guard let value = Int(part), value >= 1, value <= max else {
                throw ValidationError("\(option) takes comma-separated integers in 1...\(max), got '\(text)'")
            }
            if !values.contains(value) { values.append(value) }
        }
        return values
    }

    func run() throws {
        let shape = EngineBenchmark.Shape()
        let hiddenSizes = hiddenSizes, threadCounts = threadCounts
        let originalThreads = BLAS.threads
        defer { BLAS.threads = originalThreads }
        let progress: (String) -> Void = { StandardError.write([$0]) }

        // sgemm at the W1 shapes for H 256, whatever hidden sizes the training steps use.
        let sgemmHidden = Self.floorHidden
        progress("sgemm at the W1 shapes, H \(sgemmHidden)…")
        var sgemm: [EngineBenchmark.SgemmFigure] = []
        for t in threadCounts {
            sgemm += EngineBenchmark.sgemm(shape, hidden: sgemmHidden, threads: t, repetitions: quick ? 3 : 7)
        }

        // Training steps. With the peer running, Thresher's and PyTorch's steps alternate one by
        // one (with a short pause between, so neither side's idle BLAS threads still spin while the
        // other works), so both see the shared machine in the same state.
        var peer: TorchGRUPeer?
        var torchNote: String?
        if noTorch {
            torchNote = "PyTorch peer not run (--no-torch)"
        } else {
            progress("starting the PyTorch peer…")
            switch TorchGRUPeer.start(shape: shape) {
            case .running(let running): peer = running
            case .unavailable(let why): torchNote = why
            }
        }
        let torchVersion = peer?.torchVersion, torchFlush = peer?.flushDenormal ?? false
        defer { peer?.stop() }
        let pause = { if peer != nil { Thread.sleep(forTimeInterval: 0.2) } }

        var rows: [Row] = []
        for h in hiddenSizes {
            let step: EngineBenchmark.TrainingStep
            do { step = try EngineBenchmark.TrainingStep(shape, hidden: h) } catch {
                StandardError.write(["error: cannot build the W1 model at hidden \(h): \(error)"])
                throw ExitCode(1)
            }
            for t in threadCounts {
                progress("hidden \(h), \(t) thread\(t == 1 ? "" : "s"): \(warmup) warm-up + \(timedSteps) timed steps"
                         + (peer == nil ? "…" : ", Thresher and PyTorch alternating…"))
                BLAS.threads = t
                var ours: [Double] = [], theirs: [Double]? = peer == nil ? nil : []
                do {
                    for _ in 0..<warmup { try step.run() }
                    if warmup > 0, let running = peer, running.steps(hidden: h, threads: t, count: warmup) == nil {
                        torchNote = "the PyTorch peer stopped answering; ratios incomplete"
                        running.stop(); peer = nil; theirs = nil
                    }
                    for _ in 0..<timedSteps {
                        pause()
                        ours.append(try EngineBenchmark.timedStep(step) * 1000)
                        pause()
                        if let running = peer {
                            if let ms = running.steps(hidden: h, threads: t, count: 1) {
                                theirs?.append(contentsOf: ms)
                            } else {
                                torchNote = "the PyTorch peer stopped answering; ratios incomplete"
                                running.stop(); peer = nil; theirs = nil
                            }
                        }
                    }
                } catch {
                    StandardError.write(["error: the W1 training step failed at hidden \(h): \(error)"])
                    throw ExitCode(1)
                }
                rows.append(Row(hidden: h, threads: t, flops: EngineBenchmark.trainingStepFLOPs(shape, hidden: h),
                                thresherMs: EngineBenchmark.medianOf(ours),
                                torchMs: theirs.flatMap { $0.count == timedSteps ? EngineBenchmark.medianOf($0) : nil },
                                thresherSamples: ours, torchSamples: theirs ?? []))
            }
        }
        let torch: TorchOutcome = torchVersion.map { .measured(version: $0, flushDenormal: torchFlush, note: torchNote) }
            ?? .unavailable(torchNote ?? "PyTorch peer not run")

        let report = Report(shape: shape, steps: timedSteps, warmup: warmup, sgemmHidden: sgemmHidden,
                            sgemm: sgemm, rows: rows, torch: torch)
        print(json ? report.json() : report.table())
        if report.floorHolds == false {
            StandardError.write(["Thresher is slower than PyTorch at hidden \(Self.floorHidden) (floor ≤ \(Self.floorRatio)×)"])
        }
    }

    enum TorchOutcome {
        case measured(version: String, flushDenormal: Bool, note: String?)
        case unavailable(String)
    }

    struct Row {
        var hidden: Int
        var threads: Int
        var flops: Double
        var thresherMs: Double
        var torchMs: Double?
        var thresherSamples: [Double]
        var torchSamples: [Double]
        var gflops: Double { flops / (thresherMs / 1000) / 1e9 }
        var torchGflops: Double? { torchMs.map { flops / ($0 / 1000) / 1e9 } }
        var ratio: Double? { torchMs.map { thresherMs / $0 } }
    }

    struct Report {
        var shape: EngineBenchmark.Shape
        var steps: Int
        var warmup: Int
        var sgemmHidden: Int
        var sgemm: [EngineBenchmark.SgemmFigure]
        var rows: [Row]
        var torch: TorchOutcome

        /// The figure reported as `sgemm_gflops`: the input projection with 1 thread (the worker's
        /// configuration), else with the fewest threads measured.
        var headlineSgemm: EngineBenchmark.SgemmFigure? {
            sgemm.filter { $0.name == "input projection" }.min { $0.threads < $1.threads }
        }

        /// Whether Thresher ≤ 1.0× PyTorch at hidden 256 for 1 and 2 threads; nil when not all
        /// four figures were measured.
        var floorRatios: [Int: Double] {
            var ratios: [Int: Double] = [:]
            for row in rows where row.hidden == EngineBench.floorHidden {
                if let r = row.ratio { ratios[row.threads] = r }
            }
            return ratios
        }

        var floorHolds: Bool? {
            let ratios = floorRatios
            guard EngineBench.floorThreads.allSatisfy({ ratios[$0] != nil }) else { return nil }
            return EngineBench.floorThreads.allSatisfy { (ratios[$0] ?? .infinity) <= EngineBench.floorRatio }
        }

        var floorLine: String {
            let ratios = floorRatios
            let detail = EngineBench.floorThreads.map { t in
                let name = t == 1 ? "1 thread" : "\(t) threads"
                return ratios[t].map { name + String(format: " %.3f×", $0) } ?? name + " not measured"
            }.joined(separator: ", ")
            switch floorHolds {
            case .some(true): return "floor (Thresher ≤ 1.0× PyTorch at hidden 256, 1 and 2 threads): HOLDS (\(detail))"
            case .some(false): return "floor (Thresher ≤ 1.0× PyTorch at hidden 256, 1 and 2 threads): DOES NOT HOLD (\(detail))"
            case .none: return "floor (Thresher ≤ 1.0× PyTorch at hidden 256, 1 and 2 threads): not checked (\(detail))"
            }
        }

        private func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
        }

        func table() -> String {
            let blas = EngineBenchmark.openBLAS
            var lines: [String] = []
            lines.append("thresher bench engine — \(MachineDescription.current); OpenBLAS core \(blas.core) (\(blas.config))")
            lines.append("W1 training step: batch \(shape.batch), sequence \(shape.steps), input \(shape.input), \(shape.layers)-layer GRU → fc1 → ReLU → fc2, BCEWithLogitsLoss, AdamW")
            lines.append("median of \(steps) timed step\(steps == 1 ? "" : "s") after \(warmup) warm-up; GFLOP/s = matrix-product FLOPs of one step ÷ time")
            switch torch {
            case .measured(let version, let flush, let note):
                lines.append("PyTorch peer: torch \(version), set_flush_denormal(\(flush ? "True" : "False")), torch.set_num_threads(T); "
                             + "steps alternate with Thresher's" + (note.map { "; \($0)" } ?? ""))
            case .unavailable(let why):
                lines.append(why)
            }
            lines.append("")
            lines.append("sgemm at the W1 shapes (H \(sgemmHidden)), GFLOP/s")
            for figure in sgemm {
                let dims = "[\(figure.m)×\(figure.k)]·[\(figure.k)×\(figure.n)]"
                let threads = figure.threads == 1 ? "1 thread " : "\(figure.threads) threads"
                lines.append("  " + pad(figure.name, 17) + pad(dims, 24) + pad(threads, 10)
                             + String(format: "%8.1f", figure.gflops))
            }
            lines.append("")
            lines.append("hidden  threads  GFLOP/step   Thresher ms  GFLOP/s    PyTorch ms  GFLOP/s    ratio")
            for row in rows {
                let torchMs = row.torchMs.map { String(format: "%10.1f", $0) } ?? String(repeating: " ", count: 9) + "–"
                let torchG = row.torchGflops.map { String(format: "%7.1f", $0) } ?? String(repeating: " ", count: 6) + "–"
                let ratio = row.ratio.map { String(format: "%7.3f×", $0) } ?? String(repeating: " ", count: 7) + "–"
                lines.append(String(format: "%6d  %7d  %10.2f  %12.1f  %7.1f", row.hidden, row.threads, row.flops / 1e9,
                                    row.thresherMs, row.gflops) + "  \(torchMs)  \(torchG)  \(ratio)")
            }
            lines.append("")
            lines.append(floorLine)
            return lines.joined(separator: "\n")
        }

        func json() -> String {
            let blas = EngineBenchmark.openBLAS
            var object: [String: Any] = [
                "machine": MachineDescription.current,
                "openblas_corename": blas.core,
                "openblas_config": blas.config,
                "date": ISO8601DateFormatter().string(from: Date()),
                "batch": shape.batch, "sequence": shape.steps, "input": shape.input, "layers": shape.layers,
                "timed_steps": steps, "warmup_steps": warmup,
            ]
            if let headline = headlineSgemm { object["sgemm_gflops"] = headline.gflops }
            for figure in sgemm {
                let name = figure.name == "input projection" ? "input_projection" : "recurrent"
                object["sgemm_\(name)_h\(sgemmHidden)_t\(figure.threads)_gflops"] = figure.gflops
            }
            for row in rows {
                let key = "gru_h\(row.hidden)_t\(row.threads)"
                object["\(key)_ms"] = row.thresherMs
                object["\(key)_gflops"] = row.gflops
                object["gru_h\(row.hidden)_gflop_per_step"] = row.flops / 1e9
                if let torchMs = row.torchMs, let ratio = row.ratio {
                    object["torch_h\(row.hidden)_t\(row.threads)_ms"] = torchMs
                    object["\(key)_ratio_vs_torch"] = ratio
                }
            }
            switch torch {
            case .measured(let version, let flush, let note):
                object["torch_version"] = version
                object["torch_flush_denormal"] = flush
                if let note { object["torch"] = note }
            case .unavailable(let why):
                object["torch"] = why
            }
            if let holds = floorHolds { object["floor_h256_holds"] = holds }
            guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
                  let text = String(data: data, encoding: .utf8) else { return "{}" }
            return text
        }
    }
}
