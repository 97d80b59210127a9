/// Maps metric values to losses (lower is better) and back: W&B negates `maximize` metrics.
struct MetricOrientation: Sendable, Hashable {
    let goal: MetricGoal

    func loss(_ value: Double) -> Double { goal == .maximize ? -value : value }
    func metric(_ loss: Double) -> Double { goal == .maximize ? -loss : loss }
}
