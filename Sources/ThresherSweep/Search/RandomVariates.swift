import ThresherWire

/// Samplers for the continuous laws behind W&B's distributions, built on `SeededGenerator`
/// and `PortableMath` only, so a seed gives the same draws on every machine.
///
/// - normal: Marsaglia's polar method (one of the pair is used, so a draw never depends on
///   state left by an earlier one);
/// - gamma: Marsaglia & Tsang (2000), with the `U^(1/a)` boost for shape a < 1;
/// - beta(a, b): X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).
public enum RandomVariates {
    /// Uniform in [lo, hi).
    public static func uniform(_ lo: Double, _ hi: Double, using rng: inout SeededGenerator) -> Double {
        lo + (hi - lo) * rng.nextDouble()
    }

    /// N(0, 1).
    public static func standardNormal(using rng: inout SeededGenerator) -> Double {
        while true {
            let u = 2 * rng.nextDouble() - 1
            let v = 2 * rng.nextDouble() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 { return u * (-2 * PortableMath.log(s) / s).squareRoot() }
        }
    }

    /// Gamma(shape, 1), shape > 0.
    public static func gamma(shape: Double, using rng: inout SeededGenerator) -> Double {
        if shape < 1 {
            // Gamma(a) = Gamma(a + 1) · U^(1/a).
            let boosted = gamma(shape: shape + 1, using: &rng)
            return boosted * PortableMath.exp(PortableMath.log(rng.nextOpenDouble()) / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            let z = standardNormal(using: &rng)
            let t = 1 + c * z
            if t <= 0 { continue }
            let v = t * t * t
            let u = rng.nextOpenDouble()
            if u < 1 - 0.0331 * (z * z) * (z * z) { return d * v }
            if PortableMath.log(u) < 0.5 * z * z + d * (1 - v + PortableMath.log(v)) { return d * v }
        }
    }

    /// Beta(a, b), a, b > 0.
    public static func beta(a: Double, b: Double, using rng: inout SeededGenerator) -> Double {
        let x = gamma(shape: a, using: &rng)
        let y = gamma(shape: b, using: &rng)
        let sum = x + y
        // Both gammas underflowing to 0 (tiny shapes) leaves the mass at the ends: pick one fairly.
        if sum == 0 { return rng.nextDouble() < a / (a + b) ? 1 : 0 }
        return x / sum
    }

    /// W&B's quantisation `round(x / q) · q`, rounding halves to even as numpy does.
    ///
    /// The result is an integer (`.int`) when q is integral — W&B returns ints when `q` is an
    /// int, and `SweepSpec` keeps q as a Double, so an integral q stands for an int q — and
    /// the rounded value fits in Int64; otherwise a `.double`.
    public static func quantize(_ x: Double, q: Double) -> ParamValue {
        guard q > 0, q.isFinite, x.isFinite else { return .double(x) }
        let value = (x / q).rounded(.toNearestOrEven) * q
        if q == q.rounded(), let integer = Int64(exactly: value) { return .int(integer) }
        return .double(value)
    }
}
