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
            let rows = try Row.fetchAll(db, sql: """
                SELECT m.* FROM metrics m JOIN trials t ON t.id = m.trialId
                WHERE t.sweepId = ? AND (m.trialId, m.seq, m.position) > (?, ?, ?)
                ORDER BY m.trialId, m.seq, m.position
                LIMIT ?
                """, arguments: [sweep, afterTrial, afterSeq, afterPosition, limit])
            return rows.map { row in
                MetricRecord(trialId: row["trialId"], seq: row["seq"], position: row["position"], step: row["step"], name: row["name"],
                             value: (row["value"] as Double?) ?? .nan, time: Date(timeIntervalSince1970: row["time"]))
            }
        }
    }
}
