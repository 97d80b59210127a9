import ThresherSweep

/// The text `thresher sweep validate` prints for a valid file.
struct SweepSummary {
    let spec: SweepSpec

    init(_ spec: SweepSpec) { self.spec = spec }

    var text: String {
        get throws {
            var lines: [String] = []
            if let name = spec.name { lines.append("name: \(name)") }
            lines.append("method: \(spec.method.rawValue)")
            if let metric = spec.metric {
                lines.append("metric: \(metric.name) (\(metric.goal.rawValue)\(metric.target.map { ", target \($0)" } ?? ""))")
            }
            let searcher = try SearcherFactory.make(for: spec)
            lines.append("trials: \(searcher.totalCount.map(String.init) ?? "unbounded")")
            lines.append("parameters: \(SearchSpace(spec.parameters).leaves.map(\.dottedPath).joined(separator: ", "))")
            if let policy = spec.earlyTerminate {
                lines.append("early termination: \(StoppingPolicyFactory.summary(policy))")
                for warning in StoppingPolicyFactory.warnings(policy) { lines.append("  note: \(warning)") }
            } else {
                lines.append("early termination: none")
            }
            lines.append("seed: \(spec.thresher.seed)")
            return lines.joined(separator: "\n")
        }
    }
}
