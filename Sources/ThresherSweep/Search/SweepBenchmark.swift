import ThresherWire

/// The figures of `thresher bench sweep`.
public struct SweepBenchmarkResult: Sendable, Hashable {
    public let seeds: Int
    public let trials: Int
    /// Median over seeds of the best regret (best value found − global minimum), keyed
    /// `branin_bayes`, `branin_random`, `hartmann6_bayes`, `hartmann6_random`.
    public let medians: [String: Double]

    /// Bayes beat random on every function.
    public var bayesWins: Bool {
        SweepBenchmark.functions.allSatisfy { f in
            (medians["\(f.name)_bayes"] ?? .infinity) < (medians["\(f.name)_random"] ?? -.infinity)
        }
    }

    /// One line of JSON: `{"seeds":20,"trials":50,"branin_bayes":…,…}`, keys in a fixed order.
    public var json: String {
        var fields = ["\"seeds\":\(seeds)", "\"trials\":\(trials)"]
        for key in SweepBenchmark.keys { fields.append("\"\(key)\":\(medians[key].map(Self.jsonNumber) ?? "null")") }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// A text table for people.
    public var table: String {
        var lines = ["median best regret over \(seeds) seeds × \(trials) trials (lower is better)",
                     pad("function", 12) + pad("bayes (TPE)", 16) + pad("random", 16) + "ratio"]
        for f in SweepBenchmark.functions {
            let bayes = medians["\(f.name)_bayes"] ?? .nan, random = medians["\(f.name)_random"] ?? .nan
            lines.append(pad(f.name, 12) + pad(Self.format(bayes), 16) + pad(Self.format(random), 16)
                         + Self.format(bayes / random))
        }
        return lines.joined(separator: "\n")
    }

    private func pad(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(1, width - s.count)) }

    static func format(_ x: Double) -> String {
        guard x.isFinite else { return "\(x)" }
        // Six significant digits without Foundation: scale, round, print.
        if x == 0 { return "0" }
        var scale = 1.0, magnitude = abs(x)
        while magnitude * scale < 100_000 { scale *= 10 }
        while magnitude * scale >= 1_000_000 { scale /= 10 }
        return "\((x * scale).rounded() / scale)"
    }

    private static func jsonNumber(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }
}

/// `thresher bench sweep`: bayes (TPE) against random search on Branin and Hartmann-6.
///
/// For each seed 0..<seeds, each function is posed as a uniform-parameter sweep with
/// `run_cap = trials` and run sequentially (suggest, evaluate, observe) by `TPESearcher` and
/// by `RandomSearcher`; the best regret of each run is its best value minus the global
/// minimum, and the result holds the median over seeds. Pure and deterministic.
///
/// Optuna's TPESampler can be measured as a peer with `Benchmarks/optuna_peer.py` (same
/// functions, seeds and trial count; see `peerCommand`). ThresherSweep never spawns it.
public enum SweepBenchmark {
    public static let functions: [BenchmarkFunction] = [.branin, .hartmann6]
    public static let keys = ["branin_bayes", "branin_random", "hartmann6_bayes", "hartmann6_random"]

    public static func run(seeds: Int = 20, trials: Int = 50) -> SweepBenchmarkResult {
        var medians: [String: Double] = [:]
        for function in functions {
            for method in [SearchMethod.bayes, .random] {
                let regrets = (0..<max(seeds, 1)).map { seed in
                    bestRegret(function, method: method, seed: UInt64(seed), trials: trials)
                }
                medians["\(function.name)_\(method.rawValue)"] = median(regrets)
            }
        }
        return SweepBenchmarkResult(seeds: max(seeds, 1), trials: trials, medians: medians)
    }

    /// Best value found minus the global minimum, for one sequential run.
    public static func bestRegret(_ function: BenchmarkFunction, method: SearchMethod, seed: UInt64, trials: Int) -> Double {
        guard var searcher = try? SearcherFactory.make(for: function.spec(method: method, seed: seed, trials: trials)) else {
            return .infinity
        }
        var best = Double.infinity
        while let trial = searcher.next() {
            let value = function.evaluate(trial.params)
            best = min(best, value ?? .infinity)
            searcher.observe(index: trial.index, metric: value, outcome: value == nil ? .failed : .completed)
        }
        return best - function.globalMinimum
    }

    /// The peer's command line, to run from the repository root when
    /// `python3 -c "import optuna"` succeeds; it prints the same table and, with `--json`,
    /// one line `{"branin_optuna":…,"hartmann6_optuna":…}`.
    public static func peerCommand(seeds: Int = 20, trials: Int = 50, json: Bool = false) -> [String] {
        ["python3", "Benchmarks/optuna_peer.py", "--seeds", "\(seeds)", "--trials", "\(trials)"] + (json ? ["--json"] : [])
    }

    static func median(_ xs: [Double]) -> Double {
        let sorted = xs.sorted()
        guard !sorted.isEmpty else { return .nan }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}
