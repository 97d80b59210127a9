import ArgumentParser
import Foundation
import ThresherSweep

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check, expand and replay sweep files (the Weights & Biases format).",
        subcommands: [Validate.self, Expand.self, Simulate.self]
    )
}

/// Loads a sweep file for a subcommand, printing warnings to stderr; invalid files exit 2
/// after every problem was printed.
enum SweepFileLoader {
    static func load(_ path: String, quietWarnings: Bool = false) throws -> ParsedSweepFile {
        try load(path, overrides: [], quietWarnings: quietWarnings).parsed
    }

    /// The file with its `--set` overrides applied: the text to store and its spec. A bad
    /// override is reported like a bad line of the file (exit 2).
    static func load(_ path: String, overrides arguments: [String], quietWarnings: Bool = false) throws -> EffectiveSweepFile {
        do {
            let overrides = try SweepOverrides(arguments: arguments, workingDirectory: FileManager.default.currentDirectoryPath)
            let effective = try overrides.parse(contentsOf: path)
            if !quietWarnings { StandardError.write(effective.parsed.warnings.map { "warning: \($0)" }) }
            return effective
        } catch {
            StandardError.write(error.warnings.map { "warning: \($0)" })
            StandardError.write(error.errors.map { "error: \($0)" })
            let n = error.errors.count
            StandardError.write(["\(path): \(n) error\(n == 1 ? "" : "s")"])
            throw ExitCode(2)
        }
    }
}

enum StandardError {
    static func write(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}

extension Sweep {
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a sweep file and summarise it.",
            discussion: """
            Exit status 0 with a summary (method, trial count or "unbounded", early-termination bands \
            or rungs); exit status 2 with every error, each naming its key path and file:line:column.
            """
        )

        @Argument(help: "The sweep file (YAML or JSON).")
        var file: String

        @OptionGroup var overrides: SweepOverrideOptions

        func run() throws {
            let parsed = try SweepFileLoader.load(file, overrides: overrides.values).parsed
            print(try SweepSummary(parsed.spec).text)
        }
    }

    struct Expand: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the trials a sweep file generates, in the order they would run.",
            discussion: """
            Grid sweeps give every grid point in W&B's order; random and bayes sweeps give their first \
            COUNT suggestions (bayes before any result is its random start-up phase). With --json, one \
            object per line: {"index": i, "params": {...}}.
            """
        )

        @Argument(help: "The sweep file (YAML or JSON).")
        var file: String

        @Option(help: "Print at most this many trials (required for unbounded random and bayes sweeps).")
        var count: Int?

        @Option(help: "Seed of every random choice; overrides thresher.seed in the file.")
        var seed: UInt64?

        @Flag(help: "One JSON object per line.")
        var json = false

        @OptionGroup var overrides: SweepOverrideOptions

        @Flag(help: "With --json, add each trial's argv: the `thresher train` run of thresher.engine, or the expanded command.")
        var programs = false

        func validate() throws {
            if let count, count < 0 { throw ValidationError("--count must be 0 or more, got \(count)") }
            if programs && !json { throw ValidationError("--programs needs --json") }
        }

        func run() throws {
            var spec = try SweepFileLoader.load(file, overrides: overrides.values, quietWarnings: json).parsed.spec
            if let seed { spec.thresher.seed = seed }
            var searcher = try SearcherFactory.make(for: spec)
            guard let limit = count ?? searcher.totalCount else {
                throw ValidationError("\(spec.method.rawValue) search on \(file) is unbounded (no run_cap): pass --count N")
            }
            var printed = 0
            let folder = URL(fileURLWithPath: file).deletingLastPathComponent().standardizedFileURL.path
            while printed < limit, let trial = searcher.next() {
                if json && programs {
                    let program: TrialProgram
                    do {
                        program = try TrialProgram.resolve(spec: spec, params: trial.params, trialIndex: trial.index,
                                                           thresherExecutable: CommandLine.arguments[0], baseDirectory: folder,
                                                           environment: ProcessInfo.processInfo.environment)
                    } catch {
                        StandardError.write(["error: \(file): trial \(trial.index): \(error)"])
                        throw ExitCode(2)
                    }
                    let argv = PythonFormat.json(.list(program.argv.map { .string($0) }))
                    print("{\"index\": \(trial.index), \"params\": \(PythonFormat.json(.map(trial.params))), \"argv\": \(argv)}")
                } else if json {
                    print("{\"index\": \(trial.index), \"params\": \(PythonFormat.json(.map(trial.params)))}")
                } else {
                    let args = trial.params.entries.map { "\($0.key)=\(PythonFormat.str($0.value))" }.joined(separator: " ")
                    print("\(trial.index)\t\(args)")
                }
                printed += 1
            }
        }
    }

    struct Simulate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay a sweep's early-termination policy over recorded learning curves.",
            discussion: """
            CURVES is JSON lines {"trial": i, "step": s, "value": v} (trial = index from `expand`). \
            Trials run in index order on P slots; with P > 1 they start as slots free up and their \
            steps advance in lockstep. Prints, per trial, the last step it was allowed to run and \
            whether it was stopped (and why), then steps used against steps without stopping and the \
            best value found against the best overall.
            """
        )

        @Argument(help: "The sweep file (YAML or JSON).")
        var file: String

        @Option(help: "The learning curves, JSON lines.")
        var curves: String

        @Option(help: "Trial slots running at once.")
        var parallel: Int = 1

        @Flag(help: "One JSON object per trial, then a summary object.")
        var json = false

        @OptionGroup var overrides: SweepOverrideOptions

        func validate() throws {
            guard parallel >= 1 else { throw ValidationError("--parallel must be at least 1, got \(parallel)") }
        }

        func run() throws {
            let spec = try SweepFileLoader.load(file, overrides: overrides.values, quietWarnings: json).parsed.spec
            guard let data = FileManager.default.contents(atPath: curves),
                  let text = String(data: data, encoding: .utf8) else {
                throw ValidationError("cannot read the curves file \(curves)")
            }
            let report: SimulationReport
            do {
                report = try PolicySimulator.simulate(sweep: spec, curvesJSONL: text, parallel: parallel)
            } catch {
                StandardError.write(["error: \(curves): \(error)"])
                throw ExitCode(2)
            }
            print(json ? report.jsonLines : report.text, terminator: "")
        }
    }
}
