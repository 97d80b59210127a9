import Foundation
import GRDB

/// Reading a sweep's metrics in pages, for `thresher export`.
extension SweepStore {
    /// The sweep's metric rows after (`afterTrial`, `afterSeq`, `afterPosition`), ordered by trial
    /// id, report seq and position in the report; at most `limit`. Paging with the last row's key
    /// visits every row exactly once, whatever is appended meanwhile to later trials or seqs.
    public func metricRows(sweep: Int64, afterTrial: Int64, afterSeq: Int64, afterPosition: Int, limit: Int) throws -> [MetricRecord] {
        guard limit > 0 else { return [] }
        return try pool.read { db in
            // Reports from the one holding the last row on; positions within it up to the last row
            // were already returned.
            let cursor = try Row.fetchCursor(db, sql: """
                SELECT r.trialId, r.seq, r.body FROM metric_reports r JOIN trials t ON t.id = r.trialId
                WHERE t.sweepId = ? AND (r.trialId, r.seq) >= (?, ?)
                ORDER BY r.trialId, r.seq
                """, arguments: [sweep, afterTrial, afterSeq])
            var records: [MetricRecord] = []
            while records.count < limit, let row = try cursor.next() {
                let trial: Int64 = row[0], seq: Int64 = row[1]
                let skipThrough = trial == afterTrial && seq == afterSeq ? afterPosition : -1
                for (position, point) in try MetricReportBlob.decode([UInt8](row[2] as Data)).enumerated()
                where position > skipThrough && records.count < limit {
                    records.append(MetricRecord(trialId: trial, seq: seq, position: position, step: point.step,
                                                name: point.name, value: point.value, time: point.time))
                }
            }
            return records
        }
    }
}

/// When the coordinator stored each report, for ordering values across trials (`thresher report`).
extension SweepStore {
    /// The trial's stored reports' receive times by seq (the coordinator's clock at `appendReport`).
    public func reportReceiveTimes(trial: Int64) throws -> [Int64: Date] {
        try read { db in
            var times: [Int64: Date] = [:]
            for row in try Cached.rows(db, sql: "SELECT seq, receivedAt FROM metric_reports WHERE trialId = ?", arguments: [trial]) {
                times[row[0]] = Date(timeIntervalSince1970: row[1])
            }
            return times
        }
    }
}
