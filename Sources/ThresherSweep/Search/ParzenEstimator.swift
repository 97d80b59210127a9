/// A Parzen (kernel) density over TPE's working space: an equally weighted mixture of one
/// kernel per observation plus one prior kernel, each kernel a product over dimensions.
///
/// - Numeric dimension: a Gaussian centred on the observation, truncated to the axis bounds.
///   Its bandwidth is the larger gap to the neighbouring centres along that dimension (the
///   axis ends count as neighbours; hyperopt's and Optuna's rule), clipped to
///   [range / min(100, n + 2), range]. The prior kernel is the axis prior (centre and width of
///   a bounded axis, or the normal's own N(mu, σ)).
/// - Categorical dimension: the observation's choice gets weight 1, every choice also
///   `priorWeight / k`, normalised (additive smoothing); the prior kernel is the file's
///   `probabilities` or uniform.
///
/// Joint kernels (rather than one density per parameter) let the estimator model
/// interactions between parameters.
struct ParzenEstimator: Sendable {
    private let dimensions: [TPEDimension]
    /// Kernel centres, one row per observation; kernel number `centres.count` is the prior.
    private let centres: [[Double]]
    /// Bandwidth per kernel and numeric dimension (0 for categorical dimensions).
    private let sigmas: [[Double]]
    private let priorWeight = 1.0

    init(dimensions: [TPEDimension], observations: [[Double]]) {
        self.dimensions = dimensions
        self.centres = observations
        let n = Double(max(observations.count, 1))
        var sigmas = Array(repeating: Array(repeating: 0.0, count: dimensions.count), count: observations.count)
        for (d, dimension) in dimensions.enumerated() {
            guard case let .numeric(axis) = dimension else { continue }
            let range = axis.range
            let floor = range / min(100, n + 2)
            // Neighbour rule: the larger gap to the adjacent centres (the prior's centre included).
            let order = observations.indices.sorted { (observations[$0][d], $0) < (observations[$1][d], $1) }
            var points = order.map { observations[$0][d] }
            let lowEnd = axis.isBounded ? axis.low : (points.first ?? axis.priorMu) - range
            let highEnd = axis.isBounded ? axis.high : (points.last ?? axis.priorMu) + range
            points = [lowEnd] + points + [highEnd]
            for (rank, k) in order.enumerated() {
                let gap = max(points[rank + 1] - points[rank], points[rank + 2] - points[rank + 1])
                sigmas[k][d] = min(max(gap, floor), range)
            }
        }
        self.sigmas = sigmas
    }

    private var kernelCount: Int { centres.count + 1 }

    /// One draw: a kernel chosen uniformly (the prior included), then each dimension from it.
    func sample(using rng: inout SeededGenerator) -> [Double] {
        let kernel = rng.nextIndex(below: kernelCount)
        let centre = kernel < centres.count ? centres[kernel] : nil
        return dimensions.indices.map { d in sampleDimension(d, kernel: kernel, centre: centre?[d], using: &rng) }
    }

    /// log density of the mixture at x.
    func logDensity(_ x: [Double]) -> Double {
        var terms: [Double] = []
        terms.reserveCapacity(kernelCount)
        for kernel in 0..<kernelCount {
            let centre = kernel < centres.count ? centres[kernel] : nil
            var sum = 0.0
            for d in dimensions.indices { sum += logKernel(d, kernel: kernel, centre: centre?[d], at: x[d]) }
            terms.append(sum)
        }
        return Self.logSumExp(terms) - PortableMath.log(Double(kernelCount))
    }

    // MARK: Kernels

    private func sampleDimension(_ d: Int, kernel: Int, centre: Double?, using rng: inout SeededGenerator) -> Double {
        switch dimensions[d] {
        case let .numeric(axis):
            let (mu, sigma) = centre.map { ($0, sigmas[kernel][d]) } ?? (axis.priorMu, axis.priorSigma)
            for _ in 0..<64 {
                let x = mu + sigma * RandomVariates.standardNormal(using: &rng)
                if x >= axis.low && x <= axis.high { return axis.snap(x) }
            }
            // A kernel almost entirely outside the bounds (cannot happen for centres inside them).
            return axis.snap(min(max(mu, axis.low), axis.high))
        case let .categorical(values, prior):
            let probabilities = categoricalProbabilities(count: values.count, prior: prior, centre: centre)
            return Double(ParameterKind.categoricalIndex(count: values.count, probabilities: probabilities, using: &rng))
        }
    }

    private func logKernel(_ d: Int, kernel: Int, centre: Double?, at x: Double) -> Double {
        switch dimensions[d] {
        case let .numeric(axis):
            let (mu, sigma) = centre.map { ($0, sigmas[kernel][d]) } ?? (axis.priorMu, axis.priorSigma)
            let z = (x - mu) / sigma
            var mass = 1.0
            if axis.isBounded {
                mass = PortableMath.normalCDF((axis.high - mu) / sigma) - PortableMath.normalCDF((axis.low - mu) / sigma)
            }
            return -0.5 * z * z - PortableMath.log(sigma) - PortableMath.logSqrt2Pi - PortableMath.log(max(mass, 1e-300))
        case let .categorical(values, prior):
            let probabilities = categoricalProbabilities(count: values.count, prior: prior, centre: centre)
            let index = min(max(Int(x), 0), values.count - 1)
            return PortableMath.log(max(probabilities[index], 1e-300))
        }
    }

    private func categoricalProbabilities(count: Int, prior: [Double]?, centre: Double?) -> [Double] {
        guard let centre else { return prior ?? Array(repeating: 1 / Double(count), count: count) }
        let chosen = Int(centre)
        return (0..<count).map { ((($0 == chosen) ? 1 : 0) + priorWeight / Double(count)) / (1 + priorWeight) }
    }

    static func logSumExp(_ terms: [Double]) -> Double {
        guard let top = terms.max(), top > -.infinity else { return -.infinity }
        return top + PortableMath.log(terms.reduce(0) { $0 + PortableMath.exp($1 - top) })
    }
}
