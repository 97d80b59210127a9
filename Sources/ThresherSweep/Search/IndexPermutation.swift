/// A seeded pseudo-random permutation of 0..<count that needs no table: a balanced Feistel
/// network over the smallest even-bit domain 2²ʰ ≥ count, six rounds keyed from the
/// generator, and cycle-walking (re-applying the network until the result is below `count`,
/// which stays a bijection). Used for `randomize_order`, so even a huge grid shuffles in O(1)
/// memory; the same seed gives the same order everywhere.
struct IndexPermutation: Sendable, Hashable {
    let count: Int
    private let halfBits: UInt64
    private let keys: [UInt64]

    init(count: Int, using rng: inout SeededGenerator) {
        self.count = count
        var bits: UInt64 = 1
        while bits < 62, (UInt64(1) << (2 * bits)) < UInt64(max(count, 1)) { bits += 1 }
        halfBits = bits
        keys = (0..<6).map { _ in rng.next() }
    }

    /// The position that `index` moves to (0 ≤ index < count).
    func apply(_ index: Int) -> Int {
        var x = UInt64(index)
        repeat { x = encrypt(x) } while x >= UInt64(count)
        return Int(x)
    }

    private func encrypt(_ x: UInt64) -> UInt64 {
        let mask = (UInt64(1) << halfBits) - 1
        var left = x >> halfBits, right = x & mask
        for key in keys {
            (left, right) = (right, left ^ (Self.mix(right ^ key) & mask))
        }
        return (left << halfBits) | right
    }

    /// SplitMix64's finaliser: a strong 64-bit mixer.
    private static func mix(_ v: UInt64) -> UInt64 {
        var z = v &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
