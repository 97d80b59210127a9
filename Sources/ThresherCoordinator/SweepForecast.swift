import Foundation
import ThresherStore

/// How long a sweep has run and how long it and each running trial should still take, from what
/// the store shows: the live table's elapsed and ETA columns.
///
/// The estimates are plain rates, stated so a reader can check them:
/// - a running trial's length is the most iterations any completed trial of the sweep ran (or the
///   policy's `max_iter`/`max_t` before one has completed); its remaining time is the iterations
///   left at its own seconds per iteration so far. Unknown (nil) before its first value, when no
///   length is known, or once it runs past that length.
/// - the sweep's remaining time is the trials not yet ended at the rate trials have ended so far
///   (ended trials per second since the first trial started); unknown before the first trial
///   ends or for an unbounded search.
public struct SweepForecast: Sendable, Equatable {
    /// Seconds since the sweep's first trial started (to the last end once the sweep finished).
    public var elapsed: TimeInterval?
    /// Seconds until every trial should have ended (0 once the sweep finished).
    public var sweepRemaining: TimeInterval?
    /// Seconds until each running trial should end, by trial id.
    public var trialRemaining: [Int64: TimeInterval]
    /// The iterations a trial is expected to run, when known.
    public var expectedIterations: Int?

    public init(progress: SweepProgress, rows: [TrialBoardRow], now: Date) {
        let starts = rows.compactMap(\.startedAt)
        let first = starts.min()
        let end = progress.finished ? rows.compactMap(\.endedAt).max() ?? now : now
        elapsed = first.map { max(0, end.timeIntervalSince($0)) }

        let completedLengths = rows.filter { $0.state == .completed }.map(\.iterations)
        let expected = completedLengths.max() ?? progress.maxIterations
        expectedIterations = expected
        var remaining: [Int64: TimeInterval] = [:]
        if let expected {
            for row in rows where row.state == .running {
                guard let started = row.startedAt, row.iterations > 0, row.iterations <= expected else { continue }
                let perIteration = max(0, now.timeIntervalSince(started)) / Double(row.iterations)
                remaining[row.trialID] = perIteration * Double(expected - row.iterations)
            }
        }
        trialRemaining = remaining

        let ended = rows.filter { $0.state.isTerminal }.count
        if progress.finished {
            sweepRemaining = 0
        } else if let total = progress.totalTrials, let elapsed, ended > 0, elapsed > 0 {
            sweepRemaining = Double(max(0, total - ended)) * elapsed / Double(ended)
        } else {
            sweepRemaining = nil
        }
    }
}
