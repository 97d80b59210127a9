import COpenBLAS
import Foundation
import ThresherEngine

/// The measurements behind `thresher bench engine`: sgemm at the W1 shapes and the W1 training
/// step of the `gru-classifier` model (forward, BCEWithLogitsLoss, backward, AdamW step).
enum EngineBenchmark {
    /// The W1 training step's shape apart from the hidden size.
    struct Shape: Sendable {
        var batch = 64
        var steps = 304
        var input = 300
        var layers = 2
    }

    /// Floating-point operations of one training step, counting the matrix products only
    /// (multiply and add = 2 FLOPs; gate nonlinearities, loss and optimizer are left out):
    ///
    /// with N = batch·steps rows and in_k = input for layer 0, H above, per layer k
    /// - forward: input projection 2·N·in_k·3H, recurrence 2·N·H·3H;
    /// - backward: ∂h through W_hh 2·N·3H·H, ∂W_hh 2·N·3H·H, ∂W_ih 2·N·3H·in_k, and for k > 0 the
    ///   gradient into the layer below 2·N·3H·in_k (layer 0's input gradient is not needed for
    ///   training: PyTorch skips it since the input needs no gradient, so it is not counted);
    /// - fc1 forward, its weight and input gradients 3 × 2·B·H·H; fc2 the same with one output.
    static func trainingStepFLOPs(_ shape: Shape, hidden h: Int) -> Double {
        let n = Double(shape.batch * shape.steps), b = Double(shape.batch), hd = Double(h)
        var total = 0.0
        for k in 0..<shape.layers {
            let inK = Double(k == 0 ? shape.input : h)
            total += 2 * n * inK * 3 * hd + 2 * n * hd * 3 * hd           // forward
            total += 2 * n * 3 * hd * hd * 2 + 2 * n * 3 * hd * inK       // ∂h, ∂W_hh, ∂W_ih
            if k > 0 { total += 2 * n * 3 * hd * inK }                    // ∂(layer below)
        }
        total += 3 * (2 * b * hd * hd) + 3 * (2 * b * hd)                 // fc1, fc2
        return total
    }

    // MARK: sgemm

    struct SgemmFigure {
        var name: String
        var m: Int, n: Int, k: Int
        var threads: Int
        var gflops: Double
    }

    /// GFLOP/s of the two products the GRU forward makes at hidden `h`, exactly as GRU.swift calls
    /// them: the input projection of all steps [B·T, in] × W_ihᵀ (W_ih [3H, in]), one call timed
    /// per repetition, and the per-step recurrence [B, H] × W_hhᵀ, timed as a run of T calls (one
    /// layer's sequence). Median over `repetitions` after one warm-up.
    static func sgemm(_ shape: Shape, hidden h: Int, threads: Int, repetitions: Int) -> [SgemmFigure] {
        BLAS.threads = threads
        var random = EngineRandom(seed: 7)
        let rows = shape.batch * shape.steps
        let x = random.uniformTensor([rows, shape.input], low: -1, high: 1).storage
        let wih = random.uniformTensor([3 * h, shape.input], low: -0.05, high: 0.05).storage
        let state = random.uniformTensor([shape.batch, h], low: -1, high: 1).storage
        let whh = random.uniformTensor([3 * h, h], low: -0.05, high: 0.05).storage
        var big = [Float](repeating: 0, count: rows * 3 * h)
        var small = [Float](repeating: 0, count: shape.batch * 3 * h)

        let projection = median(repetitions: repetitions) {
            big.withUnsafeMutableBufferPointer { c in
                BLAS.sgemm(.none, .transpose, m: rows, n: 3 * h, k: shape.input,
                           a: x, lda: shape.input, b: wih, ldb: shape.input, c: c.baseAddress!, ldc: 3 * h)
            }
        }
        let recurrentRun = median(repetitions: repetitions) {
            small.withUnsafeMutableBufferPointer { c in
                for _ in 0..<shape.steps {
                    BLAS.sgemm(.none, .transpose, m: shape.batch, n: 3 * h, k: h,
                               a: state, lda: h, b: whh, ldb: h, c: c.baseAddress!, ldc: 3 * h)
                }
            }
        }
        let projectionFLOPs = 2 * Double(rows) * Double(shape.input) * Double(3 * h)
        let recurrentFLOPs = 2 * Double(shape.batch) * Double(h) * Double(3 * h) * Double(shape.steps)
        return [
            SgemmFigure(name: "input projection", m: rows, n: 3 * h, k: shape.input, threads: threads,
                        gflops: projectionFLOPs / projection / 1e9),
            SgemmFigure(name: "recurrent", m: shape.batch, n: 3 * h, k: h, threads: threads,
                        gflops: recurrentFLOPs / recurrentRun / 1e9),
        ]
    }

    // MARK: training step

    /// One model, optimizer and batch per hidden size, reused across thread counts.
    final class TrainingStep {
        let model: GRUClassifier
        let optimizer: AdamW
        let batch: ModelBatch
        let targets: Tensor
        let loss = BCEWithLogitsLoss()

        init(_ shape: Shape, hidden: Int) throws {
            model = try GRUClassifier(inputSize: shape.input, hiddenSize: hidden, numLayers: shape.layers, seed: 0)
            optimizer = try AdamW(parameters: model.parameters, learningRate: 1e-3, weightDecay: 0.01)
            var random = EngineRandom(seed: 1)
            let x = random.uniformTensor([shape.batch, shape.steps, shape.input], low: -1, high: 1)
            batch = .sequences(x, lengths: Array(repeating: shape.steps, count: shape.batch))
            let labels = (0..<shape.batch).map { _ in Float(random.nextInt(below: 2)) }
            targets = Tensor(shape: [shape.batch, 1], storage: labels) ?? Tensor(zeros: [shape.batch, 1])
        }

        func run() throws {
            optimizer.zeroGrad()
            let logits = try model.forward(batch)
            let result = loss(logits, targets)
            model.backward(result.gradient)
            try optimizer.step()
        }
    }

    /// Seconds of one training step.
    static func timedStep(_ step: TrainingStep) throws -> Double {
        let start = ContinuousClock.now
        try step.run()
        return seconds(ContinuousClock.now - start)
    }

    // MARK: helpers

    static func median(repetitions: Int, _ body: () -> Void) -> Double {
        body()  // warm-up: page faults, OpenBLAS buffers and threads
        var samples: [Double] = []
        for _ in 0..<max(1, repetitions) {
            let start = ContinuousClock.now
            body()
            samples.append(seconds(ContinuousClock.now - start))
        }
        return medianOf(samples)
    }

    static func medianOf(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// OpenBLAS's kernel name (e.g. "Cooperlake") and configuration string, as the library reports them.
    static var openBLAS: (core: String, config: String) {
        let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        let config = openblas_get_config().map { String(cString: $0) } ?? "unknown"
        return (core.trimmingCharacters(in: .whitespaces), config.trimmingCharacters(in: .whitespaces))
    }
}
