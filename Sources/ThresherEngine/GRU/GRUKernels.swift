import Foundation

/// A fixed-size, zero-initialised Float workspace owned by one GRU. Raw storage so the hot loops
/// index without bounds checks or copy-on-write checks; freed with its owner.
final class GRUBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    func zero() { pointer.update(repeating: 0, count: count) }
}

/// What one layer's forward pass keeps for its backward pass. Row conventions: "batch-first"
/// rows are `b·T + t`, "time-major" rows are `t·B + b`.
final class GRULayerCache {
    let batch: Int, steps: Int, inputSize: Int, hidden: Int
    /// [B·T, in] batch-first: the layer's input (for layers ≥ 1 after inter-layer dropout).
    let input: GRUBuffer
    /// [B·T, 3H] batch-first: the input projection W_ih·x, then r|z|n after the forward step,
    /// then the pre-activation gradients (dGx) during backward.
    let gates: GRUBuffer
    /// [T·B, H] time-major: W_hn·h_{t−1} + b_hn, needed for dr.
    let hiddenN: GRUBuffer
    /// [(T+1)·B, H] time-major: h_0 … h_T (padded steps repeat the previous state).
    let states: GRUBuffer
    /// [B·T, in] dropout keep mask scaled by 1/(1−p) for this layer's input; nil when no dropout.
    var dropoutMask: GRUBuffer?

    init(batch: Int, steps: Int, inputSize: Int, hidden: Int) {
        self.batch = batch; self.steps = steps; self.inputSize = inputSize; self.hidden = hidden
        input = GRUBuffer(count: batch * steps * inputSize)
        gates = GRUBuffer(count: batch * steps * 3 * hidden)
        hiddenN = GRUBuffer(count: steps * batch * hidden)
        states = GRUBuffer(count: (steps + 1) * batch * hidden)
    }

    func fits(batch: Int, steps: Int, inputSize: Int, hidden: Int) -> Bool {
        self.batch == batch && self.steps == steps && self.inputSize == inputSize && self.hidden == hidden
    }
}

/// Fused gate arithmetic for one time step, forward and backward side by side. Pointers are into
/// buffers whose sizes the GRU checked; loops are plain so the compiler vectorises the arithmetic.
enum GRUKernels {
    typealias Lanes = SIMD8<Float>

    /// e^x on eight lanes: the arithmetic of `Elementwise.exp` (Cephes' `expf`: x = n·ln2 + r,
    /// a degree-6 polynomial for e^r, 2ⁿ built in the exponent bits) lane by lane, with the input
    /// clamped to [−87, 88] so finite inputs never give inf or NaN.
    @inline(__always)
    static func exp(_ v: Lanes) -> Lanes {
        // Masked replacement, not `clamped(lowerBound:upperBound:)`: the latter compiles to
        // out-of-line generic pointwiseMin/Max calls (~2 % of a W1 step in perf).
        let low = Lanes(repeating: -87), high = Lanes(repeating: 88)
        let x = v.replacing(with: low, where: v .< low).replacing(with: high, where: v .> high)
        let shifted = x * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        let r = (x - n * 0.693_359_375) + n * 2.121_944_40e-4
        var p = Lanes(repeating: 1.987_569_150_0e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let y = p * (r * r) + r + 1
        let exponent = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return y * unsafeBitCast(exponent, to: Lanes.self)
    }

    @inline(__always)
    static func sigmoid(_ x: Lanes) -> Lanes { 1 / (1 + exp(-x)) }

    @inline(__always)
    static func tanh(_ x: Lanes) -> Lanes {
        let negative = x .< 0
        let e = exp(-2 * x.replacing(with: -x, where: negative))
        let t = (1 - e) / (1 + e)
        return t.replacing(with: -t, where: negative)
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }

    @inline(__always)
    static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self) }

    /// σ(x) for the scalar tail; the same function as the lanes, through `VectorMath`.
    @inline(__always)
    static func sigmoid(_ x: Float) -> Float { 1 / (1 + Elementwise.exp(-x)) }

    @inline(__always)
    static func tanh(_ x: Float) -> Float { Elementwise.tanh(x) }

    /// Forward step t for every example. `projected` holds W_hh·h_{t−1} (no bias), [B, 3H].
    /// Active examples (t < length): r, z, n overwrite the input projection in `gates`,
    /// W_hn·h + b_hn goes to `hiddenN`, h_t to `states` and `output`. Finished examples copy
    /// h_{t−1} forward and write zeros to `output` (as `pad_packed_sequence` pads).
    static func forwardStep(
        t: Int, batch: Int, steps: Int, hidden h: Int, lengths: UnsafePointer<Int>,
        gates: UnsafeMutablePointer<Float>, projected: UnsafePointer<Float>,
        biasIH: UnsafePointer<Float>, biasHH: UnsafePointer<Float>,
        hiddenN: UnsafeMutablePointer<Float>, states: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>
    ) {
        let h2 = 2 * h, h3 = 3 * h
        for b in 0..<batch {
            let prev = UnsafePointer(states + (t * batch + b) * h)
            let next = states + ((t + 1) * batch + b) * h
            let out = output + (b * steps + t) * h
            if t >= lengths[b] {
                next.update(from: prev, count: h)
                out.update(repeating: 0, count: h)
                continue
            }
            let g = gates + (b * steps + t) * h3
            let s = projected + b * h3
            let hn = hiddenN + (t * batch + b) * h
            let wide = h - h % 8
            var j = 0
            while j < wide {
                let r = sigmoid(load(g + j) + load(biasIH + j) + load(s + j) + load(biasHH + j))
                let z = sigmoid(load(g + h + j) + load(biasIH + h + j) + load(s + h + j) + load(biasHH + h + j))
                let nh = load(s + h2 + j) + load(biasHH + h2 + j)
                let n = tanh(load(g + h2 + j) + load(biasIH + h2 + j) + r * nh)
                store(r, g + j); store(z, g + h + j); store(n, g + h2 + j)
                store(nh, hn + j)
                let v = (load(prev + j) - n) * z + n
                store(v, next + j)
                store(v, out + j)
                j += 8
            }
            for j in wide..<h {
                let r = sigmoid(g[j] + biasIH[j] + s[j] + biasHH[j])
                let z = sigmoid(g[h + j] + biasIH[h + j] + s[h + j] + biasHH[h + j])
                let nh = s[h2 + j] + biasHH[h2 + j]
                let n = tanh(g[h2 + j] + biasIH[h2 + j] + r * nh)
                g[j] = r; g[h + j] = z; g[h2 + j] = n
                hn[j] = nh
                // PyTorch's cell: h' = (h − n)·z + n, i.e. (1 − z)·n + z·h.
                let v = (prev[j] - n) * z + n
                next[j] = v
                out[j] = v
            }
        }
    }

    /// Backward step t for every example. On entry `dh` is ∂L/∂h_t from later steps and the
    /// final state; `dOutput` adds ∂L/∂output[b, t]. Writes the pre-activation gradients:
    /// dGx (r|z|n of the input side) over `gates` (batch-first) and dGh (r|z|n of the hidden
    /// side, where n carries the factor r) into `dGh` (time-major), and leaves z ⊙ dh in `dh`;
    /// the caller adds dGh·W_hh to finish ∂L/∂h_{t−1}. Finished examples get zero gradient rows
    /// and keep `dh` unchanged (their state passed through this step untouched).
    static func backwardStep(
        t: Int, batch: Int, steps: Int, hidden h: Int, lengths: UnsafePointer<Int>,
        gates: UnsafeMutablePointer<Float>, hiddenN: UnsafePointer<Float>,
        states: UnsafePointer<Float>, dOutput: UnsafePointer<Float>,
        dh: UnsafeMutablePointer<Float>, dGh: UnsafeMutablePointer<Float>
    ) {
        let h2 = 2 * h, h3 = 3 * h
        for b in 0..<batch {
            let g = gates + (b * steps + t) * h3
            let dgh = dGh + (t * batch + b) * h3
            if t >= lengths[b] {
                g.update(repeating: 0, count: h3)
                dgh.update(repeating: 0, count: h3)
                continue
            }
            let prev = states + (t * batch + b) * h
            let hn = hiddenN + (t * batch + b) * h
            let dout = dOutput + (b * steps + t) * h
            let d = dh + b * h
            let wide = h - h % 8
            var j = 0
            while j < wide {
                let grad = load(d + j) + load(dout + j)
                let r = load(g + j), z = load(g + h + j), n = load(g + h2 + j)
                let dan = grad * (1 - z) * (1 - n * n)
                let dar = dan * load(hn + j) * r * (1 - r)
                let daz = grad * (load(prev + j) - n) * z * (1 - z)
                store(dar, g + j); store(daz, g + h + j); store(dan, g + h2 + j)
                store(dar, dgh + j); store(daz, dgh + h + j); store(dan * r, dgh + h2 + j)
                store(grad * z, d + j)
                j += 8
            }
            for j in wide..<h {
                let grad = d[j] + dout[j]
                let r = g[j], z = g[h + j], n = g[h2 + j]
                let dan = grad * (1 - z) * (1 - n * n)
                let dar = dan * hn[j] * r * (1 - r)
                let daz = grad * (prev[j] - n) * z * (1 - z)
                g[j] = dar; g[h + j] = daz; g[h2 + j] = dan
                dgh[j] = dar; dgh[h + j] = daz; dgh[h2 + j] = dan * r
                d[j] = grad * z
            }
        }
    }

    /// sums[j] += Σ_rows m[row, j] for a row-major [rows, cols] matrix.
    static func addColumnSums(_ m: UnsafePointer<Float>, rows: Int, cols: Int, into sums: UnsafeMutablePointer<Float>) {
        for row in 0..<rows {
            let r = m + row * cols
            for j in 0..<cols { sums[j] += r[j] }
        }
    }

    /// a[i] *= b[i] for i < count.
    static func multiply(_ a: UnsafeMutablePointer<Float>, by b: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { a[i] *= b[i] }
    }
}

#if canImport(Glibc) && arch(x86_64)
import Glibc

/// Runs `body` with subnormal Float results flushed to zero and subnormal inputs read as zero
/// (x86 MXCSR FTZ | DAZ), then restores the caller's floating-point environment. Gradients
/// travelling back through hundreds of GRU steps decay into the subnormal range, where every
/// multiply costs ~100 cycles: without this a backward pass over 304 steps ran 20–40× slower
/// (PyTorch's `torch.set_flush_denormal(True)` does the same). Values below 1.2e-38 become 0.
@inline(__always)
func withFlushedSubnormals<R>(_ body: () -> R) -> R {
    var saved = fenv_t()
    fegetenv(&saved)
    var flushed = saved
    flushed.__mxcsr |= 0x8040  // FTZ (bit 15) | DAZ (bit 6)
    fesetenv(&flushed)
    defer { fesetenv(&saved) }
    return body()
}
#else
@inline(__always)
func withFlushedSubnormals<R>(_ body: () -> R) -> R { body() }
#endif
