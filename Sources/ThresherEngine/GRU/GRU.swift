/// A multi-layer gated recurrent unit with PyTorch's `nn.GRU(input_size, hidden_size, num_layers,
/// bias=True, batch_first=True, dropout=p)` semantics.
///
/// Equations per layer and step (σ the logistic sigmoid, ⊙ elementwise):
///
///     r  = σ(W_ir x + b_ir + W_hr h + b_hr)
///     z  = σ(W_iz x + b_iz + W_hz h + b_hz)
///     n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
///     h' = (1 − z) ⊙ n + z ⊙ h
///
/// Parameters, in PyTorch's order and layout (rows in gate order r | z | n), named
/// `<prefix>weight_ih_l{k}` [3H, in_k], `<prefix>weight_hh_l{k}` [3H, H], `<prefix>bias_ih_l{k}` [3H],
/// `<prefix>bias_hh_l{k}` [3H], where in_0 = `inputSize` and in_k = H above; a prefix such as
/// `"gru."` gives `gru.weight_ih_l0`, so weights load from and save to PyTorch state dicts as they are.
///
/// Shapes: input [B, T, in] (batch-first), output [B, T, H] (the last layer), final hidden
/// [numLayers, B, H], optional initial hidden [numLayers, B, H] (zeros when absent).
///
/// Variable lengths: with `lengths` (one L_b in 0...T per example) example b is processed for steps
/// t < L_b only; at later steps its state is left unchanged, so the final hidden equals what
/// `pack_padded_sequence` gives, and its output rows at padded steps are zero, as
/// `pad_packed_sequence` pads. Gradients flow accordingly (padded output gradients are ignored).
/// A length of 0 (which PyTorch rejects) leaves that example's final hidden equal to its initial one.
///
/// Dropout with probability p is applied to the output of every layer except the last, in training
/// mode only, with inverted scaling 1/(1 − p), as PyTorch does.
///
/// Use: `forward` caches what `backward` needs; `backward` (once per forward) accumulates into every
/// trainable parameter's `grad` and returns the input gradient. Matrix products go through
/// `BLAS.sgemm`: per layer one product for the input projection of all steps, one per step for the
/// recurrence; in backward one per step for ∂h and one per layer each for ∂W_hh, ∂W_ih and ∂input.
///
/// Numerics: Float32 throughout; forward and backward run with subnormals flushed to zero (the
/// caller's floating-point environment is restored afterwards), see `withFlushedSubnormals`; the
/// gate nonlinearities are inline polynomial approximations within 2e-7 of libm. Outputs and
/// gradients match PyTorch's to 1e-5 relative (GRUParityTests).
///
/// A class: the workspaces (per layer 5·B·T·H + B·T·in_k floats, plus 4·B·T·H + 2·B·T·max(in, H)
/// shared; about 420 MB at B 64, T 304, in 300, H 256, 2 layers) are reused between batches of
/// the same shape. Not thread-safe: one GRU belongs to one training loop.
public final class GRU: @unchecked Sendable {
    public let inputSize: Int
    public let hiddenSize: Int
    public let numLayers: Int
    /// Inter-layer dropout probability in [0, 1].
    public let dropout: Float

    /// Per layer: `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`.
    public let weightIH: [Parameter]
    public let weightHH: [Parameter]
    public let biasIH: [Parameter]
    public let biasHH: [Parameter]

    /// Every parameter in PyTorch's `named_parameters()` order.
    public var parameters: [Parameter] {
        (0..<numLayers).flatMap { [weightIH[$0], weightHH[$0], biasIH[$0], biasHH[$0]] }
    }

    /// ∂L/∂(initial hidden) [numLayers, B, H] from the last `backward`, whether or not an initial
    /// hidden state was given (zeros count as a given state).
    public private(set) var initialHiddenGradient: Tensor?

    private var caches: [GRULayerCache] = []
    private var lengths: [Int] = []
    private var batch = 0, steps = 0
    private var backwardReady = false
    private var projected = GRUBuffer(count: 0)      // [B, 3H] one step's W_hh·h
    private var stateGradient = GRUBuffer(count: 0)  // [B, H] ∂L/∂h_t
    private var hiddenGates = GRUBuffer(count: 0)    // [T·B, 3H] dGh for all steps, time-major
    private var layerOutput = GRUBuffer(count: 0)    // [B, T, H] the last layer's output
    private var inputGradients = (GRUBuffer(count: 0), GRUBuffer(count: 0))  // ping-pong dX

    /// A GRU with PyTorch's default initialisation (`reset_parameters`): every tensor uniform in
    /// [−1/√H, 1/√H), drawn from `random` in parameter order (the stream differs from PyTorch's,
    /// so load weights for parity).
    public convenience init(
        inputSize: Int, hiddenSize: Int, numLayers: Int = 1, dropout: Float = 0,
        namePrefix: String = "", random: inout EngineRandom
    ) {
        precondition(hiddenSize > 0, "GRU: hiddenSize must be positive, got \(hiddenSize)")
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, dropout: dropout,
                  namePrefix: namePrefix) { _, count in
            random.pytorchDefault([count], fanIn: hiddenSize).storage
        }
    }

    /// A GRU whose parameter values come from `initialValues(name, elementCount)` (the name without
    /// the prefix, e.g. `weight_hh_l1`), called in PyTorch's parameter order.
    public init(
        inputSize: Int, hiddenSize: Int, numLayers: Int = 1, dropout: Float = 0,
        namePrefix: String = "", initialValues: (String, Int) -> [Float]
    ) {
        precondition(inputSize > 0, "GRU: inputSize must be positive, got \(inputSize)")
        precondition(hiddenSize > 0, "GRU: hiddenSize must be positive, got \(hiddenSize)")
        precondition(numLayers > 0, "GRU: numLayers must be positive, got \(numLayers)")
        precondition((0...1).contains(dropout), "GRU: dropout must be in [0, 1], got \(dropout)")
        self.inputSize = inputSize; self.hiddenSize = hiddenSize
        self.numLayers = numLayers; self.dropout = dropout
        func make(_ name: String, _ shape: [Int]) -> Parameter {
            let values = initialValues(name, shape.reduce(1, *))
            guard let tensor = Tensor(shape: shape, storage: values) else {
                preconditionFailure("GRU: initial values for \(name) have \(values.count) elements, shape \(shape) needs \(shape.reduce(1, *))")
            }
            return Parameter(name: namePrefix + name, value: tensor)
        }
        var wih: [Parameter] = [], whh: [Parameter] = [], bih: [Parameter] = [], bhh: [Parameter] = []
        for k in 0..<numLayers {
            wih.append(make("weight_ih_l\(k)", [3 * hiddenSize, k == 0 ? inputSize : hiddenSize]))
            whh.append(make("weight_hh_l\(k)", [3 * hiddenSize, hiddenSize]))
            bih.append(make("bias_ih_l\(k)", [3 * hiddenSize]))
            bhh.append(make("bias_hh_l\(k)", [3 * hiddenSize]))
        }
        weightIH = wih; weightHH = whh; biasIH = bih; biasHH = bhh
    }

    /// Per-example lengths from a padding mask [B, T] (1 for a real step, 0 for padding), the form
    /// the `lengths` argument takes. Each row must be ones followed by zeros (right padding, as
    /// `pack_padded_sequence` assumes); anything else is a caller error.
    public static func lengths(fromMask mask: Tensor) -> [Int] {
        precondition(mask.rank == 2, "GRU.lengths(fromMask:): mask must be [batch, steps], got \(mask.shape)")
        let b = mask.shape[0], t = mask.shape[1]
        return (0..<b).map { e in
            let row = mask.storage[(e * t)..<((e + 1) * t)]
            let length = row.prefix { $0 == 1 }.count
            precondition(row.dropFirst(length).allSatisfy { $0 == 0 },
                         "GRU.lengths(fromMask:): row \(e) is not ones followed by zeros")
            return length
        }
    }

    /// Input width of layer k.
    private func layerInputSize(_ k: Int) -> Int { k == 0 ? inputSize : hiddenSize }

    /// Evaluation-mode forward (no dropout). `backward` may follow, e.g. when training without
    /// dropout. Returns the last layer's output [B, T, H] and the final hidden [numLayers, B, H].
    public func forward(_ input: Tensor, lengths: [Int]? = nil, initialHidden: Tensor? = nil)
        -> (output: Tensor, finalHidden: Tensor) {
        run(input, lengths: lengths, initialHidden: initialHidden, withDropout: false) { _, _ in }
    }

    /// Forward in training (`training: true`, inter-layer dropout drawn from `random`) or
    /// evaluation mode. Same shapes and contract as `forward(_:lengths:initialHidden:)`. Each kept
    /// element is scaled by 1/(1 − p); masks are drawn from `random` (one `uniform()` per element of
    /// each inter-layer activation, layer by layer, in storage order), so a seed replays them.
    public func forward(
        _ input: Tensor, lengths: [Int]? = nil, initialHidden: Tensor? = nil,
        training: Bool, random: inout EngineRandom
    ) -> (output: Tensor, finalHidden: Tensor) {
        guard training, dropout > 0, numLayers > 1 else {
            return run(input, lengths: lengths, initialHidden: initialHidden, withDropout: false) { _, _ in }
        }
        let keep = 1 - dropout, scale: Float = dropout < 1 ? 1 / (1 - dropout) : 0
        return run(input, lengths: lengths, initialHidden: initialHidden, withDropout: true) { mask, count in
            for i in 0..<count {
                mask[i] = random.uniform() < keep ? scale : 0
            }
        }
    }

    private func run(
        _ input: Tensor, lengths: [Int]?, initialHidden: Tensor?, withDropout: Bool,
        fillDropoutMask: (UnsafeMutablePointer<Float>, Int) -> Void
    ) -> (output: Tensor, finalHidden: Tensor) {
        withFlushedSubnormals {
            forwardPass(input, lengths: lengths, initialHidden: initialHidden, withDropout: withDropout,
                        fillDropoutMask: fillDropoutMask)
        }
    }

    private func forwardPass(
        _ input: Tensor, lengths: [Int]?, initialHidden: Tensor?, withDropout: Bool,
        fillDropoutMask: (UnsafeMutablePointer<Float>, Int) -> Void
    ) -> (output: Tensor, finalHidden: Tensor) {
        precondition(input.rank == 3 && input.shape[2] == inputSize,
                     "GRU: input must be [batch, steps, \(inputSize)], got \(input.shape)")
        let b = input.shape[0], t = input.shape[1], h = hiddenSize
        if let lengths {
            precondition(lengths.count == b, "GRU: \(lengths.count) lengths for a batch of \(b)")
            precondition(lengths.allSatisfy { (0...t).contains($0) }, "GRU: lengths must be in 0...\(t), got \(lengths)")
        }
        if let initialHidden {
            precondition(initialHidden.shape == [numLayers, b, h],
                         "GRU: initial hidden must be [\(numLayers), \(b), \(h)], got \(initialHidden.shape)")
        }
        prepareWorkspaces(batch: b, steps: t)
        self.lengths = lengths ?? Array(repeating: t, count: b)
        var finalHidden = Tensor(zeros: [numLayers, b, h])

        input.storage.withUnsafeBufferPointer { caches[0].input.pointer.update(from: $0.baseAddress!, count: $0.count) }
        for k in 0..<numLayers {
            let cache = caches[k]
            let inK = layerInputSize(k)
            let h0 = cache.states.pointer
            if let initialHidden {
                initialHidden.storage.withUnsafeBufferPointer { h0.update(from: $0.baseAddress! + k * b * h, count: b * h) }
            } else {
                h0.update(repeating: 0, count: b * h)
            }
            let out = k + 1 < numLayers ? caches[k + 1].input.pointer : layerOutput.pointer
            weightIH[k].value.storage.withUnsafeBufferPointer { wih in
            weightHH[k].value.storage.withUnsafeBufferPointer { whh in
            biasIH[k].value.storage.withUnsafeBufferPointer { bih in
            biasHH[k].value.storage.withUnsafeBufferPointer { bhh in
            self.lengths.withUnsafeBufferPointer { len in
                // Input projection of all steps at once: [B·T, in] × [3H, in]ᵀ.
                BLAS.sgemm(.none, .transpose, m: b * t, n: 3 * h, k: inK,
                           a: cache.input.pointer, lda: inK, b: wih.baseAddress!, ldb: inK,
                           c: cache.gates.pointer, ldc: 3 * h)
                for step in 0..<t {
                    BLAS.sgemm(.none, .transpose, m: b, n: 3 * h, k: h,
                               a: cache.states.pointer + step * b * h, lda: h, b: whh.baseAddress!, ldb: h,
                               c: projected.pointer, ldc: 3 * h)
                    GRUKernels.forwardStep(
                        t: step, batch: b, steps: t, hidden: h, lengths: len.baseAddress!,
                        gates: cache.gates.pointer, projected: projected.pointer,
                        biasIH: bih.baseAddress!, biasHH: bhh.baseAddress!,
                        hiddenN: cache.hiddenN.pointer, states: cache.states.pointer, output: out)
                }
            } } } } }
            finalHidden.storage.withUnsafeMutableBufferPointer {
                ($0.baseAddress! + k * b * h).update(from: cache.states.pointer + t * b * h, count: b * h)
            }
            if k + 1 < numLayers {
                let next = caches[k + 1]
                if withDropout {
                    let mask = next.dropoutMask ?? GRUBuffer(count: b * t * h)
                    fillDropoutMask(mask.pointer, mask.count)
                    GRUKernels.multiply(next.input.pointer, by: mask.pointer, count: mask.count)
                    next.dropoutMask = mask
                } else {
                    next.dropoutMask = nil
                }
            }
        }
        let output = Tensor(shape: [b, t, h], storage: Array(UnsafeBufferPointer(start: layerOutput.pointer, count: b * t * h)))
            ?? Tensor(zeros: [b, t, h])
        backwardReady = true
        return (output, finalHidden)
    }

    /// Backpropagation through time for the last `forward`. `dOutput` [B, T, H] is ∂L/∂output
    /// (may be all zeros; rows at padded steps are ignored), `dFinalHidden` [numLayers, B, H] is
    /// ∂L/∂(final hidden) or nil for zero. Adds into `grad` of every trainable parameter (frozen
    /// ones are left alone), sets `initialHiddenGradient`, and returns ∂L/∂input [B, T, in].
    public func backward(dOutput: Tensor, dFinalHidden: Tensor?) -> Tensor {
        withFlushedSubnormals { backwardPass(dOutput: dOutput, dFinalHidden: dFinalHidden, inputGradient: true) }
            ?? Tensor(zeros: [batch, steps, inputSize])
    }

    /// As `backward(dOutput:dFinalHidden:)` for a caller that has no use for ∂L/∂input (the GRU
    /// reads data, or a frozen embedding): layer 0's input-gradient product, [B·T, 3H]·[3H, in]
    /// (about 8 % of a W1 training step), is skipped. Parameter gradients are identical. A nil
    /// `dOutput` means zeros (a classifier that reads only the final hidden state), without
    /// allocating a [B, T, H] tensor of them.
    public func backwardParameters(dOutput: Tensor?, dFinalHidden: Tensor?) {
        _ = withFlushedSubnormals { backwardPass(dOutput: dOutput, dFinalHidden: dFinalHidden, inputGradient: false) }
    }

    private func backwardPass(dOutput: Tensor?, dFinalHidden: Tensor?, inputGradient: Bool) -> Tensor? {
        precondition(backwardReady, "GRU: backward needs a forward first (and runs once per forward)")
        let b = batch, t = steps, h = hiddenSize
        if let dOutput {
            precondition(dOutput.shape == [b, t, h], "GRU: dOutput must be [\(b), \(t), \(h)], got \(dOutput.shape)")
        }
        if let dFinalHidden {
            precondition(dFinalHidden.shape == [numLayers, b, h],
                         "GRU: dFinalHidden must be [\(numLayers), \(b), \(h)], got \(dFinalHidden.shape)")
        }
        backwardReady = false
        var initialGrad = Tensor(zeros: [numLayers, b, h])
        var dOut = inputGradients.0, dIn = inputGradients.1
        if let dOutput {
            dOutput.storage.withUnsafeBufferPointer { dOut.pointer.update(from: $0.baseAddress!, count: $0.count) }
        } else {
            dOut.pointer.update(repeating: 0, count: b * t * h)
        }
        let dh = stateGradient.pointer, dGh = hiddenGates.pointer

        for k in stride(from: numLayers - 1, through: 0, by: -1) {
            let cache = caches[k]
            let inK = layerInputSize(k)
            if let dFinalHidden {
                dFinalHidden.storage.withUnsafeBufferPointer { dh.update(from: $0.baseAddress! + k * b * h, count: b * h) }
            } else {
                dh.update(repeating: 0, count: b * h)
            }
            weightHH[k].value.storage.withUnsafeBufferPointer { whh in
            lengths.withUnsafeBufferPointer { len in
                for step in stride(from: t - 1, through: 0, by: -1) {
                    GRUKernels.backwardStep(
                        t: step, batch: b, steps: t, hidden: h, lengths: len.baseAddress!,
                        gates: cache.gates.pointer, hiddenN: cache.hiddenN.pointer,
                        states: cache.states.pointer, dOutput: dOut.pointer, dh: dh, dGh: dGh)
                    // ∂h_{t−1} = z ⊙ ∂h_t (already in dh) + dGh_t · W_hh.
                    BLAS.sgemm(.none, .none, m: b, n: h, k: 3 * h,
                               a: dGh + step * b * 3 * h, lda: 3 * h, b: whh.baseAddress!, ldb: h,
                               beta: 1, c: dh, ldc: h)
                }
            } }
            initialGrad.storage.withUnsafeMutableBufferPointer {
                ($0.baseAddress! + k * b * h).update(from: dh, count: b * h)
            }
            accumulateWeightGradients(layer: k, cache: cache, dGh: dGh)
            if k == 0 && !inputGradient { break }
            // ∂input = dGx [B·T, 3H] × W_ih [3H, in].
            weightIH[k].value.storage.withUnsafeBufferPointer { wih in
                BLAS.sgemm(.none, .none, m: b * t, n: inK, k: 3 * h,
                           a: cache.gates.pointer, lda: 3 * h, b: wih.baseAddress!, ldb: inK,
                           c: dIn.pointer, ldc: inK)
            }
            if let mask = cache.dropoutMask {
                GRUKernels.multiply(dIn.pointer, by: mask.pointer, count: b * t * inK)
            }
            swap(&dOut, &dIn)
        }
        initialHiddenGradient = initialGrad
        guard inputGradient else { return nil }
        return Tensor(shape: [b, t, inputSize],
                      storage: Array(UnsafeBufferPointer(start: dOut.pointer, count: b * t * inputSize)))
    }

    /// ∂W_hh += dGhᵀ·[h_0 … h_{T−1}], ∂W_ih += dGxᵀ·input, bias gradients as column sums: one
    /// sgemm per weight for all steps.
    private func accumulateWeightGradients(layer k: Int, cache: GRULayerCache, dGh: UnsafeMutablePointer<Float>) {
        let rows = batch * steps, h3 = 3 * hiddenSize, inK = layerInputSize(k)
        if weightHH[k].isTrainable {
            weightHH[k].grad.storage.withUnsafeMutableBufferPointer {
                BLAS.sgemm(.transpose, .none, m: h3, n: hiddenSize, k: rows,
                           a: dGh, lda: h3, b: cache.states.pointer, ldb: hiddenSize,
                           beta: 1, c: $0.baseAddress!, ldc: hiddenSize)
            }
        }
        if weightIH[k].isTrainable {
            weightIH[k].grad.storage.withUnsafeMutableBufferPointer {
                BLAS.sgemm(.transpose, .none, m: h3, n: inK, k: rows,
                           a: cache.gates.pointer, lda: h3, b: cache.input.pointer, ldb: inK,
                           beta: 1, c: $0.baseAddress!, ldc: inK)
            }
        }
        if biasHH[k].isTrainable {
            biasHH[k].grad.storage.withUnsafeMutableBufferPointer {
                GRUKernels.addColumnSums(dGh, rows: rows, cols: h3, into: $0.baseAddress!)
            }
        }
        if biasIH[k].isTrainable {
            biasIH[k].grad.storage.withUnsafeMutableBufferPointer {
                GRUKernels.addColumnSums(cache.gates.pointer, rows: rows, cols: h3, into: $0.baseAddress!)
            }
        }
    }

    /// Layer k's forward cache, for tests.
    func cacheForTesting(layer k: Int) -> GRULayerCache { caches[k] }

    /// Allocates the per-layer caches and workspaces unless the last batch had the same shape.
    private func prepareWorkspaces(batch b: Int, steps t: Int) {
        let h = hiddenSize
        if caches.count == numLayers,
           (0..<numLayers).allSatisfy({ caches[$0].fits(batch: b, steps: t, inputSize: layerInputSize($0), hidden: h) }) {
            return
        }
        caches = (0..<numLayers).map { GRULayerCache(batch: b, steps: t, inputSize: layerInputSize($0), hidden: h) }
        projected = GRUBuffer(count: b * 3 * h)
        stateGradient = GRUBuffer(count: b * h)
        hiddenGates = GRUBuffer(count: t * b * 3 * h)
        layerOutput = GRUBuffer(count: b * t * h)
        let widest = b * t * max(inputSize, h)
        inputGradients = (GRUBuffer(count: widest), GRUBuffer(count: widest))
        batch = b; steps = t
    }
}
