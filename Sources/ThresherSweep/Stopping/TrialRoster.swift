/// Which trials a policy may still stop.
struct TrialRoster: Sendable, Hashable {
    private var known: Set<Int> = []
    private var running: Set<Int> = []
    private var stopped: Set<Int> = []

    mutating func start(_ trial: Int) {
        known.insert(trial)
        if !stopped.contains(trial) { running.insert(trial) }
    }

    /// A report from a trial never announced starts it; a report after its end does not.
    mutating func noteReport(_ trial: Int) {
        if !known.contains(trial) { start(trial) }
    }

    mutating func end(_ trial: Int, stopped wasStopped: Bool) {
        known.insert(trial)
        running.remove(trial)
        if wasStopped { stopped.insert(trial) }
    }

    mutating func markStopped(_ trial: Int) { end(trial, stopped: true) }

    func isRunning(_ trial: Int) -> Bool { running.contains(trial) }

    /// Running trials in ascending order.
    var runningTrials: [Int] { running.sorted() }
}
