import ThresherWire

/// A standard optimisation test function posed as a sweep: uniform parameters `x1`, `x2`, …
/// over its usual domain, to be minimised. Evaluated with `PortableMath`, so the benchmark
/// gives the same figures on every machine.
public struct BenchmarkFunction: Sendable {
    public let name: String
    /// (min, max) of each coordinate, named x1, x2, … in the sweep.
    public let domain: [(min: Double, max: Double)]
    public let globalMinimum: Double
    private let function: @Sendable ([Double]) -> Double

    /// The function's value at a trial's parameters (nil if one is missing).
    public func evaluate(_ params: ParamMap) -> Double? {
        var x: [Double] = []
        for k in domain.indices {
            switch params["x\(k + 1)"] {
            case let .double(v)?: x.append(v)
            case let .int(v)?: x.append(Double(v))
            default: return nil
            }
        }
        return function(x)
    }

    public func evaluate(_ x: [Double]) -> Double { function(x) }

    /// A minimisation sweep over this function's domain.
    public func spec(method: SearchMethod, seed: UInt64, trials: Int) -> SweepSpec {
        let parameters = domain.enumerated().map { k, bounds in
            ParameterSpec(name: "x\(k + 1)", kind: .distribution(.uniform(min: bounds.min, max: bounds.max)))
        }
        return SweepSpec(method: method, metric: MetricSpec(name: "value", goal: .minimize), parameters: parameters,
                         runCap: trials, thresher: ThresherSettings(seed: seed))
    }

    /// Branin–Hoo on x1 ∈ [−5, 10], x2 ∈ [0, 15]; three global minima of 0.397887.
    public static let branin = BenchmarkFunction(
        name: "branin", domain: [(-5, 10), (0, 15)], globalMinimum: 0.397887
    ) { x in
        let pi = Double.pi
        let b = 5.1 / (4 * pi * pi), c = 5 / pi, t = 1 / (8 * pi)
        let inner = x[1] - b * x[0] * x[0] + c * x[0] - 6
        return inner * inner + 10 * (1 - t) * PortableMath.cos(x[0]) + 10
    }

    /// Hartmann 6-D on [0, 1]⁶; global minimum −3.32237.
    public static let hartmann6 = BenchmarkFunction(
        name: "hartmann6", domain: Array(repeating: (0, 1), count: 6), globalMinimum: -3.32237
    ) { x in
        let alpha = [1.0, 1.2, 3.0, 3.2]
        let a: [[Double]] = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                             [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
        let p: [[Double]] = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                             [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
        var sum = 0.0
        for i in 0..<4 {
            var exponent = 0.0
            for j in 0..<6 {
                let d = x[j] - p[i][j] * 1e-4
                exponent += a[i][j] * d * d
            }
            sum += alpha[i] * PortableMath.exp(-exponent)
        }
        return -sum
    }

    init(name: String, domain: [(Double, Double)], globalMinimum: Double, function: @escaping @Sendable ([Double]) -> Double) {
        self.name = name
        self.domain = domain.map { (min: $0.0, max: $0.1) }
        self.globalMinimum = globalMinimum
        self.function = function
    }
}
