/// A dense Float32 tensor: contiguous row-major storage and a shape.
///
/// Value semantics (copy-on-write through `[Float]`). `storage.count` always equals the product
/// of `shape` (1 for a scalar, shape `[]`); the initialisers enforce it and return nil or throw
/// rather than trap when given inconsistent input from files.
public struct Tensor: Sendable, Hashable {
    public private(set) var shape: [Int]
    public var storage: [Float]

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.storage = [Float](repeating: 0, count: Self.count(of: shape))
    }

    /// Wraps `storage`; nil unless its length is the product of `shape` (all dimensions ≥ 0).
    public init?(shape: [Int], storage: [Float]) {
        guard shape.allSatisfy({ $0 >= 0 }), storage.count == Self.count(of: shape) else { return nil }
        self.shape = shape
        self.storage = storage
    }

    /// Number of elements.
    public var count: Int { storage.count }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// The same storage under another shape with the same element count; nil otherwise.
    public func reshaped(_ newShape: [Int]) -> Tensor? {
        Tensor(shape: newShape, storage: storage)
    }

    static func count(of shape: [Int]) -> Int {
        shape.reduce(1, *)
    }
}

/// A trainable tensor with its gradient, under the name PyTorch would give it
/// (`gru.weight_ih_l0`, `fc1.bias`, ...). A class: layers and optimizers share it by reference,
/// one owner (the model) creates it.
public final class Parameter: @unchecked Sendable {
    // @unchecked: a parameter belongs to one training loop (one trial), which is single-threaded;
    // it is never shared across concurrent tasks.
    public let name: String
    public var value: Tensor
    public var grad: Tensor
    /// Frozen parameters keep their value: optimizers skip them.
    public var isTrainable: Bool

    public init(name: String, value: Tensor, isTrainable: Bool = true) {
        self.name = name
        self.value = value
        self.grad = Tensor(zeros: value.shape)
        self.isTrainable = isTrainable
    }

    /// Sets every gradient element to zero (before a backward pass accumulates into it).
    public func zeroGrad() {
        for i in grad.storage.indices { grad.storage[i] = 0 }
    }
}
