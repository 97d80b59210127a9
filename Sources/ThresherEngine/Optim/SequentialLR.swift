/// PyTorch's `torch.optim.lr_scheduler.SequentialLR`: schedule k runs from milestone k−1 (0 for the
/// first) and sees its own step count from 0, so a warm-up followed by a decay is
/// `SequentialLR([LinearLR(startFactor: 0.01, totalIterations: W), LinearDecay(totalSteps: N − W)], milestones: [W])`.
public struct SequentialLR: LearningRateSchedule {
    public let schedules: [any LearningRateSchedule]
    public let milestones: [Int]

    /// Requires one milestone fewer than schedules, milestones strictly increasing and ≥ 1.
    public init(_ schedules: [any LearningRateSchedule], milestones: [Int]) throws(OptimizerError) {
        try OptimizerSupport.require(!schedules.isEmpty, "schedulers", 0, "non-empty")
        try OptimizerSupport.require(
            milestones.count == schedules.count - 1, "milestones", Double(milestones.count),
            "one fewer than schedulers (\(schedules.count - 1))")
        var previous = 0
        for milestone in milestones {
            try OptimizerSupport.require(milestone > previous, "milestones", Double(milestone), "increasing and ≥ 1")
            previous = milestone
        }
        self.schedules = schedules
        self.milestones = milestones
    }

    public func learningRate(base: Double, step: Int) -> Double {
        let t = max(step, 0)
        let k = milestones.firstIndex(where: { t < $0 }) ?? milestones.count
        let start = k == 0 ? 0 : milestones[k - 1]
        return schedules[k].learningRate(base: base, step: t - start)
    }
}
