/// Branch-free single-precision `exp` and `tanh` that the compiler can vectorise.
///
/// libm's `expf`/`tanhf` are opaque calls, so a loop over them runs one element at a time; these
/// are plain arithmetic, integer bit operations and selects, so a loop of them becomes SIMD code.
/// PyTorch's CPU kernels do the same (Sleef). Accuracy, checked against Double over [−100, 100]
/// in the tests: `exp` within 2 ulp of the correctly rounded value (denormal results are
/// computed, not flushed), `tanh` within 3e-7 relative.
extension Elementwise {
    /// eˣ by Cody–Waite range reduction and Cephes' `expf` polynomial:
    ///
    ///     n = round(x·log₂e) (by the 1.5·2²³ magic-number trick),  r = x − n·ln2 (two-part ln2)
    ///     eʳ ≈ 1 + r + r²·P(r)  on |r| ≤ ln2/2,  eˣ = eʳ·2^⌊n/2⌋·2^(n−⌊n/2⌋)
    ///
    /// Splitting 2ⁿ into two factors keeps both normal over the clamped range [−104, 89], so
    /// results underflow gradually to 0 and overflow to +∞ exactly where `expf` does.
    /// NaN propagates; −∞ gives 0; +∞ gives +∞.
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float {
        let clamped = x < -104 ? -104 : (x > 89 ? 89 : x)  // NaN fails both tests and stays NaN
        let magic: Float = 12_582_912  // 1.5·2²³: adding it rounds to an integer in the low bits
        let t = clamped * 1.442_695_04 + magic
        let n = t - magic
        let r = (clamped - n * 0.693_359_375) + n * 2.121_944_4e-4
        let z = r * r
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        p = p * z + r + 1
        let k = Int32(bitPattern: t.bitPattern) &- Int32(bitPattern: magic.bitPattern)
        let k1 = k &>> 1, k2 = k &- k1
        let s1 = Float(bitPattern: UInt32(bitPattern: (k1 &+ 127) &<< 23))
        let s2 = Float(bitPattern: UInt32(bitPattern: (k2 &+ 127) &<< 23))
        return p * s1 * s2
    }

    /// tanh(x): Cephes' odd polynomial x + x³·Q(x²) for |x| < 0.625 (no cancellation near 0),
    /// otherwise sign(x)·(1 − 2/(e^(2|x|) + 1)); both are computed and one selected, so the
    /// loop stays branch-free. Saturates to ±1 exactly for large |x|; NaN propagates.
    @inlinable @inline(__always)
    public static func tanh(_ x: Float) -> Float {
        let a = abs(x)
        let z = x * x
        var q: Float = -5.704_988_72e-3
        q = q * z + 2.063_908_88e-2
        q = q * z - 5.373_971_56e-2
        q = q * z + 1.333_144_22e-1
        q = q * z - 3.333_328_19e-1
        let small = q * z * x + x
        let large = 1 - 2 / (exp(2 * a) + 1)
        let signedLarge = x < 0 ? -large : large
        return a < 0.625 ? small : signedLarge
    }
}
