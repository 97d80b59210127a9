/// Elementary functions computed with IEEE-754 `+ − × ÷ √` only, so their results are
/// bit-identical on every platform.
///
/// Platform math libraries (glibc, Apple's libm, musl) may differ in the last bit of `exp`,
/// `log` or `cos`; a sampler or a TPE score that used them could pick a different trial on a
/// different machine. These implementations are accurate to about one ulp for the arguments
/// searchers use (classic argument reduction with a two-part constant, then a fixed-length
/// series evaluated by Horner's rule), which is all that sampling and density ratios need.
public enum PortableMath {
    private static let ln2Hi = 6.93147180369123816490e-01   // high bits of ln 2; k·ln2Hi is exact for |k| < 2¹¹
    private static let ln2Lo = 1.90821492927058770002e-10   // ln 2 − ln2Hi
    private static let log2e = 1.44269504088896338700e+00
    private static let sqrt2 = 1.41421356237309514547e+00
    private static let piOver2Hi = 1.57079632673412561417e+00  // high bits of π/2
    private static let piOver2Lo = 6.07710050650619224932e-11  // π/2 − piOver2Hi
    /// 1/√π and 1/√(2π).
    static let invSqrtPi = 0.56418958354775628695
    static let invSqrt2Pi = 0.39894228040143267794
    /// ln √(2π).
    public static let logSqrt2Pi = 0.91893853320467274178

    /// eˣ.
    public static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 709.782712893384 { return .infinity }
        if x < -745.1332191019412 { return 0 }
        let k = (x * log2e).rounded(.toNearestOrEven)
        let r = (x - k * ln2Hi) - k * ln2Lo          // |r| ≤ ln2/2
        // Taylor series of eʳ to degree 13: truncation error < 1e-17 for |r| ≤ 0.347.
        var p = inverseFactorial[13]
        for n in stride(from: 12, through: 0, by: -1) { p = p * r + inverseFactorial[n] }
        return Double(sign: .plus, exponent: Int(k), significand: p)
    }

    /// ln x (NaN for x < 0, −∞ for 0).
    public static func log(_ x: Double) -> Double {
        if x.isNaN || x < 0 { return .nan }
        if x == 0 { return -.infinity }
        if x == .infinity { return x }
        var m = x.significand                           // [1, 2), exact for subnormals too
        var e = Double(Int(x.exponent))
        if m > sqrt2 { m *= 0.5; e += 1 }              // m ∈ (√2/2, √2]
        let f = m - 1
        let s = f / (2 + f)                             // log m = 2·atanh(s), |s| ≤ 0.1716
        let z = s * s
        // 2·atanh(s) = 2s·(1 + z/3 + z²/5 + …); 12 terms reach < 1e-19 for z ≤ 0.0295.
        var series = 1.0 / 25.0
        for k in stride(from: 11, through: 0, by: -1) { series = series * z + 1.0 / Double(2 * k + 1) }
        let logM = 2 * s * series
        return e * ln2Hi + (e * ln2Lo + logM)
    }

    /// cos x; accurate for |x| < 2²⁰·π/2 (the reduction constant is two words), deterministic everywhere.
    public static func cos(_ x: Double) -> Double {
        if !x.isFinite { return .nan }
        let k = (x / (piOver2Hi + piOver2Lo)).rounded(.toNearestOrEven)
        let r = (x - k * piOver2Hi) - k * piOver2Lo     // |r| ≲ π/4
        let quadrant = Int(k.truncatingRemainder(dividingBy: 4) + 4) % 4
        switch quadrant {
        case 0: return cosKernel(r)
        case 1: return -sinKernel(r)
        case 2: return -cosKernel(r)
        default: return sinKernel(r)
        }
    }

    /// Standard normal cumulative distribution Φ(x).
    public static func normalCDF(_ x: Double) -> Double {
        if x.isNaN { return x }
        let y = x * 0.70710678118654752440                      // x/√2
        return y >= 0 ? 1 - 0.5 * erfc(y) : 0.5 * erfc(-y)
    }

    /// Complementary error function for y ≥ 0: a positive-term series for erf below 3 and
    /// a continued fraction above (both converge without cancellation in their ranges).
    static func erfc(_ y: Double) -> Double {
        if y < 3 {
            // erf y = (2/√π)·e^(−y²)·Σ 2ⁿ y^(2n+1) / (1·3·…·(2n+1)), all terms positive.
            let twoY2 = 2 * y * y
            var term = y, sum = y, n = 0.0
            while term > 1e-17 * sum && n < 200 {
                n += 1
                term *= twoY2 / (2 * n + 1)
                sum += term
            }
            return 1 - 2 * invSqrtPi * exp(-y * y) * sum
        }
        if y > 27 { return 0 }
        // erfc y = e^(−y²)/√π · 1/(y + (1/2)/(y + 1/(y + (3/2)/(y + …)))), evaluated from depth 60 up.
        var tail = y
        for k in stride(from: 60, through: 1, by: -1) { tail = y + (Double(k) / 2) / tail }
        return invSqrtPi * exp(-y * y) / tail
    }

    private static let inverseFactorial: [Double] = {
        var table = [1.0]
        for n in 1...13 { table.append(table[n - 1] / Double(n)) }
        return table
    }()

    private static func sinKernel(_ r: Double) -> Double {
        let z = r * r
        var p = 0.0   // Σ (−1)ᵏ z^k / (2k+1)!, k = 0…9
        for k in stride(from: 9, through: 0, by: -1) {
            let sign: Double = k % 2 == 0 ? 1 : -1
            p = p * z + sign * oddInverseFactorial[k]
        }
        return r * p
    }

    private static func cosKernel(_ r: Double) -> Double {
        let z = r * r
        var p = 0.0   // Σ (−1)ᵏ z^k / (2k)!, k = 0…9
        for k in stride(from: 9, through: 0, by: -1) {
            let sign: Double = k % 2 == 0 ? 1 : -1
            p = p * z + sign * evenInverseFactorial[k]
        }
        return p
    }

    private static let oddInverseFactorial: [Double] = (0..<10).map { k in factorialInverse(2 * k + 1) }
    private static let evenInverseFactorial: [Double] = (0..<10).map { k in factorialInverse(2 * k) }
    private static func factorialInverse(_ n: Int) -> Double {
        var v = 1.0
        if n > 1 { for i in 2...n { v /= Double(i) } }
        return v
    }
}
