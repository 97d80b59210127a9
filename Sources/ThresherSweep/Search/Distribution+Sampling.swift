import ThresherWire

extension Distribution {
    /// One draw, with W&B's formulas (`params.py`):
    ///
    /// | case | value |
    /// |---|---|
    /// | int_uniform | integer in min...max, both included |
    /// | uniform | U(min, max) |
    /// | q_uniform | round(U(min, max) / q)·q |
    /// | log_uniform (deprecated) | exp(U(min, max)) — min/max are natural logs |
    /// | log_uniform_values | exp(U(ln min, ln max)) |
    /// | q_log_uniform(_values) | round(log-uniform / q)·q |
    /// | inv_log_uniform (deprecated) | 1/exp(U(min, max)) |
    /// | inv_log_uniform_values | 1/exp(U(ln(1/max), ln(1/min))), so a value in [min, max] |
    /// | normal / q_normal | N(mu, sigma) (rounded) |
    /// | log_normal / q_log_normal | exp(N(mu, sigma)) (rounded) |
    /// | beta / q_beta | Beta(a, b) (rounded) |
    ///
    /// Rounding is `RandomVariates.quantize`: halves to even, and an `.int` when q is integral.
    public func sample(using rng: inout SeededGenerator) -> ParamValue {
        switch self {
        case let .intUniform(min, max):
            let width = UInt64(bitPattern: max &- min) &+ 1        // 0 means the full 2⁶⁴ range
            let offset = width == 0 ? rng.next() : rng.nextInt(below: width)
            return .int(min &+ Int64(bitPattern: offset))
        case let .uniform(min, max):
            return .double(RandomVariates.uniform(min, max, using: &rng))
        case let .qUniform(min, max, q):
            return RandomVariates.quantize(RandomVariates.uniform(min, max, using: &rng), q: q)
        case let .logUniform(min, max):
            return .double(PortableMath.exp(RandomVariates.uniform(min, max, using: &rng)))
        case let .logUniformValues(min, max):
            return .double(Self.logUniform(min, max, using: &rng))
        case let .qLogUniform(min, max, q):
            return RandomVariates.quantize(PortableMath.exp(RandomVariates.uniform(min, max, using: &rng)), q: q)
        case let .qLogUniformValues(min, max, q):
            return RandomVariates.quantize(Self.logUniform(min, max, using: &rng), q: q)
        case let .invLogUniform(min, max):
            return .double(1 / PortableMath.exp(RandomVariates.uniform(min, max, using: &rng)))
        case let .invLogUniformValues(min, max):
            let exponent = RandomVariates.uniform(PortableMath.log(1 / max), PortableMath.log(1 / min), using: &rng)
            return .double(1 / PortableMath.exp(exponent))
        case let .normal(mu, sigma):
            return .double(mu + sigma * RandomVariates.standardNormal(using: &rng))
        case let .qNormal(mu, sigma, q):
            return RandomVariates.quantize(mu + sigma * RandomVariates.standardNormal(using: &rng), q: q)
        case let .logNormal(mu, sigma):
            return .double(PortableMath.exp(mu + sigma * RandomVariates.standardNormal(using: &rng)))
        case let .qLogNormal(mu, sigma, q):
            return RandomVariates.quantize(PortableMath.exp(mu + sigma * RandomVariates.standardNormal(using: &rng)), q: q)
        case let .beta(a, b):
            return .double(RandomVariates.beta(a: a, b: b, using: &rng))
        case let .qBeta(a, b, q):
            return RandomVariates.quantize(RandomVariates.beta(a: a, b: b, using: &rng), q: q)
        }
    }

    private static func logUniform(_ min: Double, _ max: Double, using rng: inout SeededGenerator) -> Double {
        PortableMath.exp(RandomVariates.uniform(PortableMath.log(min), PortableMath.log(max), using: &rng))
    }
}

extension ParameterKind {
    /// One draw for a non-nested parameter: the constant, a categorical value (uniform, or by
    /// `probabilities`), or a distribution's draw. Nil for `.nested` (see `SearchSpace`).
    func sampleLeaf(using rng: inout SeededGenerator) -> ParamValue? {
        switch self {
        case let .constant(value):
            return value
        case let .categorical(values, probabilities):
            guard !values.isEmpty else { return .null }
            return values[Self.categoricalIndex(count: values.count, probabilities: probabilities, using: &rng)]
        case let .distribution(distribution):
            return distribution.sample(using: &rng)
        case .nested:
            return nil
        }
    }

    /// Uniform index, or the first index whose cumulative probability exceeds a uniform draw
    /// (W&B's rule); the last index absorbs any rounding shortfall of the probabilities.
    static func categoricalIndex(count: Int, probabilities: [Double]?, using rng: inout SeededGenerator) -> Int {
        guard let probabilities, probabilities.count == count else { return rng.nextIndex(below: count) }
        let u = rng.nextDouble()
        var cumulative = 0.0
        for (i, p) in probabilities.enumerated() {
            cumulative += p
            if u < cumulative { return i }
        }
        return count - 1
    }
}
