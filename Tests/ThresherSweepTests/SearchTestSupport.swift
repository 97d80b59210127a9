import ThresherSweep
import ThresherWire
import XCTest

/// Spec builders and statistics shared by the searcher tests.
enum SearchFixtures {
    static func spec(_ method: SearchMethod, _ parameters: [ParameterSpec], seed: UInt64 = 0,
                     runCap: Int? = nil, randomize: Bool = false, goal: MetricGoal = .minimize) -> SweepSpec {
        SweepSpec(method: method, metric: MetricSpec(name: "loss", goal: goal), parameters: parameters,
                  runCap: runCap, randomizeOrder: randomize, thresher: ThresherSettings(seed: seed))
    }

    static func values(_ name: String, _ values: [ParamValue]) -> ParameterSpec {
        ParameterSpec(name: name, kind: .categorical(values: values, probabilities: nil))
    }

    static func constant(_ name: String, _ value: ParamValue) -> ParameterSpec {
        ParameterSpec(name: name, kind: .constant(value))
    }

    static func distribution(_ name: String, _ distribution: Distribution) -> ParameterSpec {
        ParameterSpec(name: name, kind: .distribution(distribution))
    }

    /// W1 of WORKLOADS.md, parameters in the file's order.
    static let w1 = spec(.grid, [
        values("hidden_size", [.int(128), .int(256), .int(512)]),
        values("dropout", [.int(0), .double(0.1), .double(0.2)]),
        values("lr", [.double(0.001), .double(0.0001), .double(0.00001)]),
        values("weight_decay", [.int(0), .double(0.1), .double(0.01)]),
    ])

    /// W2 of WORKLOADS.md, parameters in the file's order.
    static let w2 = spec(.grid, [
        constant("lr", .double(0.000005)),
        constant("weight_decay", .double(0.02)),
        constant("dropout", .double(0.1)),
        constant("warmup", .double(0.1)),
        constant("batch_size", .int(24)),
        constant("n_epochs", .int(3)),
        constant("freeze_encoder", .bool(false)),
        values("label_weight", [.list([.int(2), .double(1.2), .int(1)]), .list([.int(1), .double(0.6), .double(0.4)])]),
        values("label_smoothing", [.double(0.0), .double(0.2)]),
    ])

    static func drain(_ searcher: inout some Searcher, limit: Int = 100_000) -> [SuggestedTrial] {
        var trials: [SuggestedTrial] = []
        while trials.count < limit, let trial = searcher.next() { trials.append(trial) }
        return trials
    }
}

enum Stats {
    static func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(xs.count) }

    static func variance(_ xs: [Double]) -> Double {
        let m = mean(xs)
        return xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)
    }

    /// Kolmogorov–Smirnov statistic of a sample against a CDF.
    static func ks(_ xs: [Double], cdf: (Double) -> Double) -> Double {
        let sorted = xs.sorted()
        let n = Double(sorted.count)
        var d = 0.0
        for (i, x) in sorted.enumerated() {
            let f = cdf(x)
            d = max(d, abs(Double(i + 1) / n - f), abs(f - Double(i) / n))
        }
        return d
    }

    /// KS critical value at α = 0.001: 1.949/√n.
    static func ksCritical(_ n: Int) -> Double { 1.949 / Double(n).squareRoot() }

    /// Pearson's χ² of observed counts against expected probabilities.
    static func chiSquare(counts: [Int], probabilities: [Double]) -> Double {
        let n = Double(counts.reduce(0, +))
        return zip(counts, probabilities).reduce(0) { acc, pair in
            let expected = n * pair.1
            return acc + (Double(pair.0) - expected) * (Double(pair.0) - expected) / expected
        }
    }

    /// χ² critical values at α = 0.001 by degrees of freedom.
    static let chiCritical: [Int: Double] = [1: 10.83, 2: 13.82, 3: 16.27, 4: 18.47, 5: 20.52, 10: 29.59]
}

extension ParamValue {
    var number: Double? {
        switch self {
        case let .int(i): return Double(i)
        case let .double(d): return d
        default: return nil
        }
    }
}
