import Foundation

/// The engine's seeded random number generator: a counter-based SplitMix64.
///
/// Algorithm. Draw number `n` of stream `s` under seed `k` is
///
///     key   = mix64(mix64(k) ^ (s &* 0xD1B54A32D192ED03) &+ 0x632BE59BD9B4E019)
///     drawₙ = mix64(key &+ (n + 1) &* 0x9E3779B97F4A7C15)
///
/// where `mix64` is SplitMix64's finaliser (Stafford's "Mix13" variant: xor-shift 30, multiply,
/// xor-shift 27, multiply, xor-shift 31). With a fixed key this is exactly the SplitMix64
/// sequence started at `key`; the stream index only changes the key.
///
/// Why this design: the whole state is three integers (`seed`, `stream`, `counter`), so a
/// checkpoint stores it exactly and a resumed run continues bit for bit; any draw can be computed
/// without generating the ones before it; independent streams (one per layer's dropout, one for
/// initialisation, one for shuffling) never need to share a generator. SplitMix64 passes BigCrush
/// and is the standard seeder of the xoshiro family; the engine needs no cryptographic quality.
///
/// Guarantees: the same `(seed, stream, counter)` yields the same bits, integers and uniform
/// floats on every platform (integer arithmetic, then exact scaling). `normal` goes through
/// `Double` `log` and `cos` from the platform's libm; it is bit-identical across runs on one
/// platform, and across platforms only as far as their libms agree (glibc's are < 1 ulp).
public struct EngineRandom: Sendable, Hashable {
    /// The seed given at creation.
    public let seed: UInt64
    /// The stream index given at creation: different streams of one seed are independent.
    public let stream: UInt64
    /// Draws taken so far; draw `counter` is the next one. Settable to restore a checkpoint.
    public var counter: UInt64
    private let key: UInt64

    /// A generator for `seed` on `stream` (0 unless the caller needs several independent ones),
    /// positioned at `counter`.
    public init(seed: UInt64, stream: UInt64 = 0, counter: UInt64 = 0) {
        self.seed = seed
        self.stream = stream
        self.counter = counter
        self.key = Self.mix64((Self.mix64(seed) ^ (stream &* 0xD1B5_4A32_D192_ED03)) &+ 0x632B_E59B_D9B4_E019)
    }

    /// SplitMix64's output function (Mix13 constants).
    @inline(__always)
    static func mix64(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next 64 random bits.
    @inline(__always)
    public mutating func nextUInt64() -> UInt64 {
        counter &+= 1
        return Self.mix64(key &+ counter &* 0x9E37_79B9_7F4A_7C15)
    }

    /// Uniform in [0, 1): the top 24 bits scaled by 2⁻²⁴, so every value is exactly representable.
    @inline(__always)
    public mutating func uniform() -> Float {
        Float(nextUInt64() >> 40) * 0x1p-24
    }

    /// Uniform in [low, high).
    @inline(__always)
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * uniform()
    }

    /// Uniform in [0, 1) with 53 bits.
    @inline(__always)
    public mutating func uniformDouble() -> Double {
        Double(nextUInt64() >> 11) * 0x1p-53
    }

    /// A standard normal sample by Box–Muller (cosine branch; two draws per sample, the sine half
    /// is discarded so the state stays three integers).
    public mutating func normal() -> Float {
        let u1 = 1 - uniformDouble()  // (0, 1]: log is finite
        let u2 = uniformDouble()
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// Normal with the given mean and standard deviation.
    public mutating func normal(mean: Float, std: Float) -> Float {
        mean + std * normal()
    }

    /// A uniformly random integer in `0..<bound` (Lemire's multiply-shift with rejection: unbiased).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "EngineRandom.nextInt(below:) needs a positive bound, got \(bound)")
        let b = UInt64(bound)
        while true {
            let product = nextUInt64().multipliedFullWidth(by: b)
            if product.low >= (0 &- b) % b { return Int(product.high) }
        }
    }

    /// Fisher–Yates shuffle of `array` in place (last index first, as `random.shuffle` does).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, nextInt(below: i + 1))
        }
    }

    // MARK: - Initialisers (PyTorch conventions)

    /// A tensor of `shape` with elements uniform in [low, high), filled in storage order.
    public mutating func uniformTensor(_ shape: [Int], low: Float, high: Float) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in t.storage.indices { t.storage[i] = uniform(low, high) }
        return t
    }

    /// A tensor of `shape` with normal elements, filled in storage order.
    public mutating func normalTensor(_ shape: [Int], mean: Float = 0, std: Float = 1) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in t.storage.indices { t.storage[i] = normal(mean: mean, std: std) }
        return t
    }

    /// PyTorch's default for `nn.Linear` and `nn.GRU` (weights and biases alike):
    /// uniform(−k, k) with k = 1/√fanIn. For Linear fanIn is `in_features`; for GRU it is
    /// `hidden_size` (PyTorch uses 1/√hidden for every GRU tensor).
    public mutating func pytorchDefault(_ shape: [Int], fanIn: Int) -> Tensor {
        precondition(fanIn > 0, "pytorchDefault needs fanIn > 0, got \(fanIn)")
        let k = 1 / Float(fanIn).squareRoot()
        return uniformTensor(shape, low: -k, high: k)
    }

    /// Xavier/Glorot uniform (`nn.init.xavier_uniform_`): uniform(−a, a),
    /// a = gain·√(6 / (fanIn + fanOut)).
    public mutating func xavierUniform(_ shape: [Int], fanIn: Int, fanOut: Int, gain: Float = 1) -> Tensor {
        precondition(fanIn + fanOut > 0, "xavierUniform needs fanIn + fanOut > 0")
        let a = gain * (6 / Float(fanIn + fanOut)).squareRoot()
        return uniformTensor(shape, low: -a, high: a)
    }

    /// Kaiming/He uniform (`nn.init.kaiming_uniform_`, fan_in mode): uniform(−b, b),
    /// b = gain·√(3 / fanIn); gain √2 is ReLU's.
    public mutating func kaimingUniform(_ shape: [Int], fanIn: Int, gain: Float = Float(2).squareRoot()) -> Tensor {
        precondition(fanIn > 0, "kaimingUniform needs fanIn > 0, got \(fanIn)")
        let b = gain * (3 / Float(fanIn)).squareRoot()
        return uniformTensor(shape, low: -b, high: b)
    }
}
