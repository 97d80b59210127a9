/// The pseudo-random generator behind every random choice of a sweep.
///
/// **Algorithm.** xoshiro256** (Blackman & Vigna, 2018) with its 256-bit state filled by
/// SplitMix64 (Steele, Lea & Flood, 2014). Both use only 64-bit integer arithmetic, so a given
/// `(seed, stream)` produces the same sequence on every machine, OS and Swift version; nothing
/// here touches Foundation's or the platform's generators.
///
/// **Streams.** `init(seed:stream:)` derives an independent sequence per stream: the state is
/// SplitMix64 started at `mix(seed) ^ (stream · 0xD1B54A32D192ED03)`. Searchers use one stream per
/// trial index, so trial *i* of a random sweep does not depend on how many numbers trials
/// 0..<i consumed, and a resumed sweep produces the same trials as an uninterrupted one.
///
/// **Doubles.** `nextDouble()` takes the top 53 bits: a multiple of 2⁻⁵³ in [0, 1).
/// `nextInt(below:)` is Lemire's unbiased multiply-and-reject method.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Hashable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// A generator for `seed`, on stream `stream` (0 unless the caller needs several
    /// independent sequences from one seed).
    public init(seed: UInt64, stream: UInt64 = 0) {
        var mixer = SplitMix64(state: seed)
        let base = mixer.next()
        var filler = SplitMix64(state: base ^ (stream &* 0xD1B5_4A32_D192_ED03))
        s0 = filler.next(); s1 = filler.next(); s2 = filler.next(); s3 = filler.next()
        // SplitMix64 never yields four zero words in a row, but keep xoshiro's invariant explicit.
        if s0 | s1 | s2 | s3 == 0 { s0 = 0x9E37_79B9_7F4A_7C15 }
    }

    /// The next 64 random bits (xoshiro256**).
    public mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    /// Uniform in [0, 1), a multiple of 2⁻⁵³.
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// Uniform in (0, 1): never exactly 0, for samplers that take a logarithm.
    public mutating func nextOpenDouble() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1p-53
    }

    /// Uniform in 0..<bound (bound > 0), unbiased (Lemire 2019).
    public mutating func nextInt(below bound: UInt64) -> UInt64 {
        precondition(bound > 0, "bound must be positive")
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = next().multipliedFullWidth(by: bound) }
        }
        return product.high
    }

    /// Uniform in 0..<bound for an `Int` bound > 0.
    public mutating func nextIndex(below bound: Int) -> Int {
        Int(nextInt(below: UInt64(bound)))
    }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// SplitMix64 (Steele, Lea & Flood, 2014): seeds xoshiro and mixes stream numbers.
struct SplitMix64: Sendable {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
