/// A learning-rate schedule as a pure function of the step: `learningRate(base:step:)` gives the rate
/// for the optimizer step that follows `step` completed steps.
///
/// PyTorch's schedulers are stateful (`scheduler.step()` after `optimizer.step()`); the rate PyTorch
/// uses for its i-th optimizer step (counting from 0) is this function at `step: i`. Thresher uses the
/// closed forms PyTorch documents (`_get_closed_form_lr`); PyTorch's default chained updates agree
/// with them to Double rounding. Being pure, a schedule needs no state in a checkpoint: the step
/// count restores it. Negative steps are treated as 0.
public protocol LearningRateSchedule: Sendable {
    func learningRate(base: Double, step: Int) -> Double
}

/// A fixed rate: `base` at every step.
public struct ConstantLearningRate: LearningRateSchedule {
    public init() {}
    public func learningRate(base: Double, step: Int) -> Double { base }
}

/// PyTorch's `torch.optim.lr_scheduler.LinearLR`: the base rate times a factor that moves linearly
/// from `startFactor` to `endFactor` over `totalIterations` steps and then stays at `endFactor`:
/// factor(t) = start + (end − start) · min(t, total) / total. W2's warm-up is `LinearLR(startFactor: 0.1)`-style.
public struct LinearLR: LearningRateSchedule {
    public let startFactor: Double
    public let endFactor: Double
    public let totalIterations: Int

    /// PyTorch's defaults (1/3, 1, 5) and its checks: 0 < startFactor ≤ 1, 0 ≤ endFactor ≤ 1,
    /// and (Thresher's addition) totalIterations ≥ 1.
    public init(startFactor: Double = 1.0 / 3, endFactor: Double = 1, totalIterations: Int = 5) throws(OptimizerError) {
        try OptimizerSupport.require(startFactor > 0 && startFactor <= 1, "start_factor", startFactor, "in (0, 1]")
        try OptimizerSupport.require(endFactor >= 0 && endFactor <= 1, "end_factor", endFactor, "in [0, 1]")
        try OptimizerSupport.require(totalIterations >= 1, "total_iters", Double(totalIterations), "≥ 1")
        self.startFactor = startFactor
        self.endFactor = endFactor
        self.totalIterations = totalIterations
    }

    public func learningRate(base: Double, step: Int) -> Double {
        let t = Double(min(max(step, 0), totalIterations))
        return base * (startFactor + (endFactor - startFactor) * t / Double(totalIterations))
    }
}

/// Linear decay from the base rate to 0 over `totalSteps` steps, then 0: base · max(0, 1 − t/N).
/// The same as `LinearLR(startFactor: 1, endFactor: 0, totalIterations: N)` and as Hugging Face's
/// `get_linear_schedule_with_warmup` after its warm-up.
public struct LinearDecay: LearningRateSchedule {
    public let totalSteps: Int

    public init(totalSteps: Int) throws(OptimizerError) {
        try OptimizerSupport.require(totalSteps >= 1, "total_steps", Double(totalSteps), "≥ 1")
        self.totalSteps = totalSteps
    }

    public func learningRate(base: Double, step: Int) -> Double {
        base * (1 - Double(min(max(step, 0), totalSteps)) / Double(totalSteps))
    }
}
