import Foundation
import ThresherStore
import ThresherSweep
import ThresherWire

/// Pages of a sweep's stored metric rows, as `ExportPage` carries them: what a coordinator
/// answers to `ExportRequest` and what `thresher export --state` reads locally.
///
/// Guarantees: rows come in (trial id, seq, position) order and `next` is the key of the last row
/// sent, so paging from `ExportCursor.start` visits every stored row exactly once; every trial a
/// page's rows name is in its `trials`, with its parameters.
public enum ExportPages {
    /// Largest page, in rows: ~60 bytes a row keeps a page under 1 MB.
    public static let maxRows = 10_000

    /// The page after `after`, at most `limit` rows (1…`maxRows`). Nil if the cursor does not fit
    /// the store's integers.
    public static func page(store: SweepStore, sweep: Int64, after: ExportCursor, limit: Int) throws -> ExportPage? {
        let limit = max(1, min(limit, maxRows))
        guard let afterTrial = Int64(exactly: after.trialID), let afterSeq = Int64(exactly: after.seq) else { return nil }
        // One row more than sent tells whether this page is the last.
        let found = try store.metricRows(sweep: sweep, afterTrial: afterTrial, afterSeq: afterSeq,
                                         afterPosition: Int(after.position), limit: limit + 1)
        let rows = Array(found.prefix(limit))
        var trials: [ExportTrial] = []
        for id in Set(rows.map(\.trialId)).sorted() {
            let trial = try store.trial(id)
            trials.append(ExportTrial(trialID: UInt64(bitPattern: id), index: Int64(trial.indexInSweep), state: trial.state.rawValue,
                                      params: StoredTrialParams.decode(trial.params)?.paramMap ?? ParamMap()))
        }
        let next = rows.last.map {
            ExportCursor(trialID: UInt64(bitPattern: $0.trialId), seq: UInt64(bitPattern: $0.seq), position: UInt32(clamping: $0.position))
        } ?? after
        return ExportPage(
            sweepID: UInt64(bitPattern: sweep), trials: trials,
            rows: rows.map {
                ExportRow(trialID: UInt64(bitPattern: $0.trialId), seq: UInt64(bitPattern: $0.seq), step: $0.step, name: $0.name,
                          value: $0.value, time: $0.time.timeIntervalSince1970)
            },
            next: next, complete: found.count <= limit)
    }
}
