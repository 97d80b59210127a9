import Foundation

/// PyTorch's `torch.optim.lr_scheduler.CosineAnnealingLR` in its closed form:
/// lr(t) = eta_min + (base − eta_min) · (1 + cos(π · t / T_max)) / 2.
///
/// As in PyTorch the curve is periodic: past `T_max` the rate rises again towards the base rate
/// (reaching it at 2·T_max). Set `T_max` to the run's total steps for a single decay.
public struct CosineAnnealingLR: LearningRateSchedule {
    public let maxSteps: Int
    public let minimumLearningRate: Double

    /// `maxSteps` is PyTorch's `T_max` (≥ 1), `minimumLearningRate` its `eta_min` (default 0).
    public init(maxSteps: Int, minimumLearningRate: Double = 0) throws(OptimizerError) {
        try OptimizerSupport.require(maxSteps >= 1, "T_max", Double(maxSteps), "≥ 1")
        try OptimizerSupport.require(minimumLearningRate >= 0, "eta_min", minimumLearningRate, "≥ 0")
        self.maxSteps = maxSteps
        self.minimumLearningRate = minimumLearningRate
    }

    public func learningRate(base: Double, step: Int) -> Double {
        let t = Double(max(step, 0))
        return minimumLearningRate + (base - minimumLearningRate) * (1 + cos(Double.pi * t / Double(maxSteps))) / 2
    }
}
