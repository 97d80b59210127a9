import ThresherWire

/// How TPE models one searchable parameter: a numeric axis in its working space (linear, or
/// log for the log-scale distributions), or a choice among written values.
///
/// Numeric parameters work on a continuous coordinate; `snap` puts a coordinate on the
/// values the parameter can take (integers for int_uniform, multiples of q for q-forms), so
/// candidates are scored where they will actually be run.
enum TPEDimension: Sendable, Hashable {
    case numeric(NumericAxis)
    /// `prior`: the file's `probabilities`, or nil for uniform.
    case categorical(values: [ParamValue], prior: [Double]?)

    /// The working-space description of a numeric distribution.
    struct NumericAxis: Sendable, Hashable {
        enum Scale: Sendable, Hashable { case linear, log }
        enum Output: Sendable, Hashable { case integer, real, quantized(Double) }

        let scale: Scale
        /// Bounds of the coordinate; infinite for normal and log-normal.
        let low: Double
        let high: Double
        /// The prior kernel: a Gaussian over the coordinate (truncated to the bounds).
        let priorMu: Double
        let priorSigma: Double
        let output: Output
        let source: Distribution

        var isBounded: Bool { low.isFinite && high.isFinite }
        /// The scale that bandwidths are measured against: the width of a bounded axis, 4σ of
        /// the prior for an unbounded one.
        var range: Double { isBounded ? high - low : 4 * priorSigma }

        /// The value a trial receives for coordinate x.
        func value(_ x: Double) -> ParamValue {
            let natural = scale == .log ? PortableMath.exp(x) : x
            switch output {
            case .integer:
                guard case let .intUniform(min, max) = source else { return .double(natural) }
                let rounded = Swift.min(Swift.max(natural.rounded(.toNearestOrEven), Double(min)), Double(max))
                return Int64(exactly: rounded).map(ParamValue.int) ?? .double(rounded)
            case .real:
                return .double(natural)
            case let .quantized(q):
                return RandomVariates.quantize(natural, q: q)
            }
        }

        /// The coordinate of a value a trial received (nil if it is not a number this axis
        /// can hold), clamped into the bounds.
        func coordinate(of value: ParamValue) -> Double? {
            let natural: Double
            switch value {
            case let .int(i): natural = Double(i)
            case let .double(d) where d.isFinite: natural = d
            default: return nil
            }
            var x = natural
            if scale == .log {
                if natural > 0 { x = PortableMath.log(natural) } else if low.isFinite { x = low } else { return nil }
            }
            return Swift.min(Swift.max(x, low), high)
        }

        /// x moved onto the values the parameter can take.
        func snap(_ x: Double) -> Double {
            output == .real ? x : (coordinate(of: value(x)) ?? x)
        }

        init(_ distribution: Distribution) {
            let ln = PortableMath.log
            switch distribution {
            case let .intUniform(min, max):
                self.init(.linear, Double(min) - 0.5, Double(max) + 0.5, .integer, distribution)
            case let .uniform(min, max):
                self.init(.linear, min, max, .real, distribution)
            case let .qUniform(min, max, q):
                self.init(.linear, min, max, .quantized(q), distribution)
            case let .logUniform(min, max):
                self.init(.log, min, max, .real, distribution)
            case let .logUniformValues(min, max), let .invLogUniformValues(min, max):
                self.init(.log, ln(min), ln(max), .real, distribution)
            case let .qLogUniform(min, max, q):
                self.init(.log, min, max, .quantized(q), distribution)
            case let .qLogUniformValues(min, max, q):
                self.init(.log, ln(min), ln(max), .quantized(q), distribution)
            case let .invLogUniform(min, max):
                // value = e^(−u), u ∈ [min, max]: ln value ∈ [−max, −min].
                self.init(.log, -max, -min, .real, distribution)
            case let .normal(mu, sigma):
                self.init(.linear, mu: mu, sigma: sigma, .real, distribution)
            case let .qNormal(mu, sigma, q):
                self.init(.linear, mu: mu, sigma: sigma, .quantized(q), distribution)
            case let .logNormal(mu, sigma):
                self.init(.log, mu: mu, sigma: sigma, .real, distribution)
            case let .qLogNormal(mu, sigma, q):
                self.init(.log, mu: mu, sigma: sigma, .quantized(q), distribution)
            case .beta:
                self.init(.linear, 0, 1, .real, distribution)
            case let .qBeta(_, _, q):
                self.init(.linear, 0, 1, .quantized(q), distribution)
            }
        }

        /// A bounded axis; its prior kernel is centred with σ = the width (Optuna's choice).
        private init(_ scale: Scale, _ low: Double, _ high: Double, _ output: Output, _ source: Distribution) {
            self.scale = scale; self.low = low; self.high = high
            self.priorMu = (low + high) / 2; self.priorSigma = high - low
            self.output = output; self.source = source
        }

        /// An unbounded axis whose prior kernel is the distribution itself, N(mu, sigma).
        private init(_ scale: Scale, mu: Double, sigma: Double, _ output: Output, _ source: Distribution) {
            self.scale = scale; self.low = -.infinity; self.high = .infinity
            self.priorMu = mu; self.priorSigma = sigma
            self.output = output; self.source = source
        }
    }

    /// The dimension of a leaf, or nil for a constant (not searched).
    init?(_ kind: ParameterKind) {
        switch kind {
        case .constant, .nested: return nil
        case let .categorical(values, probabilities): self = .categorical(values: values, prior: probabilities)
        case let .distribution(distribution): self = .numeric(NumericAxis(distribution))
        }
    }

    /// The coordinate of a trial's value: the axis coordinate, or the index of the first
    /// written value with the same canonical form.
    func coordinate(of value: ParamValue) -> Double? {
        switch self {
        case let .numeric(axis):
            return axis.coordinate(of: value)
        case let .categorical(values, _):
            let key = CanonicalParams(value: value)
            return values.firstIndex { CanonicalParams(value: $0) == key }.map(Double.init)
        }
    }

    func value(_ x: Double) -> ParamValue {
        switch self {
        case let .numeric(axis): return axis.value(x)
        case let .categorical(values, _): return values[Swift.min(Swift.max(Int(x), 0), values.count - 1)]
        }
    }
}
