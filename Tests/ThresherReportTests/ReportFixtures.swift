import Foundation
@testable import ThresherReport

/// Small hand-made reports for the renderer's tests.
enum ReportFixtures {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func curve(_ values: [Double], startingAt offset: Double = 0) -> [CurvePoint] {
        values.enumerated().map { CurvePoint(step: Int64($0.offset + 1), value: $0.element, storedAt: t0.addingTimeInterval(offset + Double($0.offset))) }
    }

    static func trial(_ id: Int64, _ state: String, _ values: [Double], params: [(name: String, value: ReportValue)] = [],
                      stop: ReportStop? = nil, offset: Double = 0) -> ReportTrial {
        ReportTrial(id: id, index: Int(id - 1), state: state, params: params, curve: curve(values, startingAt: offset), stop: stop)
    }

    static func report(_ trials: [ReportTrial], name: String = "demo", goal: ReportGoal = .minimize,
                       schedule: ReportSchedule? = nil, storage: ReportStorage = ReportStorage()) -> SweepReport {
        SweepReport(sweepID: 1, name: name, method: "grid", state: "finished", metric: "loss", goal: goal, createdAt: t0,
                    generatedAt: t0.addingTimeInterval(3600), counts: [StateCount(state: "completed", count: trials.count)],
                    trials: trials, schedule: schedule, storage: storage)
    }
}
