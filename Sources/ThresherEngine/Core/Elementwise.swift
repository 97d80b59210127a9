/// Elementwise kernels over contiguous Float32 buffers: the building blocks every layer's forward
/// and backward use.
///
/// Each kernel is one tight loop over raw pointers (no bounds checks, no per-element calls: `exp`
/// and `tanh` are the branch-free versions in VectorMath.swift), so every one vectorises. `count` elements are read and
/// written; the caller owns the buffers and guarantees their length. Outputs may alias inputs
/// exactly (in place, `y == x`), never partially.
///
/// Backward kernels take the forward *output* (what the layers cache) and overwrite `dx`;
/// accumulate with `axpy` where a gradient has several contributions.
public enum Elementwise {
    // MARK: - Arithmetic

    /// y = a + b.
    @inlinable
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                           into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = a[i] + b[i] }
    }

    /// x *= alpha.
    @inlinable
    public static func scale(_ x: UnsafeMutablePointer<Float>, by alpha: Float, count: Int) {
        for i in 0..<count { x[i] *= alpha }
    }

    /// y += alpha · x (BLAS's axpy).
    @inlinable
    public static func axpy(alpha: Float, x: UnsafePointer<Float>,
                            y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += alpha * x[i] }
    }

    /// y = a ⊙ b (elementwise product).
    @inlinable
    public static func hadamard(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = a[i] * b[i] }
    }

    /// y += a ⊙ b.
    @inlinable
    public static func hadamardAccumulate(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                          into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += a[i] * b[i] }
    }

    // MARK: - ReLU

    /// y = max(x, 0); NaN stays NaN, as with PyTorch's `relu`.
    @inlinable
    public static func relu(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { let v = x[i]; y[i] = v < 0 ? 0 : v }
    }

    /// dx = dy where the forward output y > 0, else 0 (PyTorch: gradient 0 at x = 0).
    @inlinable
    public static func reluBackward(output y: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>,
                                    into dx: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { dx[i] = y[i] > 0 ? dy[i] : 0 }
    }

    // MARK: - Tanh

    /// y = tanh(x).
    @inlinable
    public static func tanh(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = tanh(x[i]) }
    }

    /// dx = dy · (1 − y²) from the forward output y.
    @inlinable
    public static func tanhBackward(output y: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>,
                                    into dx: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { let t = y[i]; dx[i] = dy[i] * (1 - t * t) }
    }

    // MARK: - Sigmoid

    /// σ(x) for one value, numerically stable: with e = exp(−|x|) (never overflows),
    /// σ(x) = 1/(1+e) for x ≥ 0 and e/(1+e) for x < 0 (no cancellation in 1 − σ).
    @inlinable @inline(__always)
    public static func sigmoid(_ x: Float) -> Float {
        let e = exp(-abs(x))
        let r = 1 / (1 + e)
        return x >= 0 ? r : e * r
    }

    /// y = σ(x), numerically stable (see `sigmoid(_:)` for one value).
    @inlinable
    public static func sigmoid(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = sigmoid(x[i]) }
    }

    /// dx = dy · y · (1 − y) from the forward output y.
    @inlinable
    public static func sigmoidBackward(output y: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>,
                                       into dx: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { let s = y[i]; dx[i] = dy[i] * s * (1 - s) }
    }
}

extension Tensor {
    /// A tensor of `shape` with every element equal to `value`.
    public init(filled value: Float, shape: [Int]) {
        self.init(zeros: shape)
        for i in storage.indices { storage[i] = value }
    }

    // An empty array may have no base address; kernels never dereference it when count is 0,
    // so a fixed non-null aligned address stands in (bitPattern 8 is never nil).
    /// Calls `body` with a read pointer to the storage (Float32, `count` elements).
    @inlinable
    public func withPointer<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { try body($0.baseAddress ?? UnsafePointer(bitPattern: 8)!) }
    }

    /// Calls `body` with a write pointer to the storage (Float32, `count` elements).
    @inlinable
    public mutating func withMutablePointer<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer { try body($0.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!) }
    }
}
