import Foundation
import GRDB
import GRDBSQLite

/// The coordinator's hottest write: a report's metric points, one row each.
///
/// One cached prepared statement, bound through SQLite's C API directly: GRDB's per-execution
/// argument boxing cost more than SQLite's insert itself (about 5 µs a point against about 1.5).
/// Runs inside the caller's transaction; any SQLite error is thrown as GRDB's `DatabaseError`
/// and the caller's transaction or savepoint rolls the whole report back.
enum MetricInsert {
    static let sql = "INSERT INTO metrics (trialId, seq, position, step, name, value, time) VALUES (?, ?, ?, ?, ?, ?, ?)"

    /// SQLite copies bound text at once (SQLITE_TRANSIENT), so a Swift string's buffer may go away.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    static func insert(_ db: Database, trial: Int64, seq: Int64, points: [MetricPoint]) throws {
        let statement = try db.cachedStatement(sql: sql).sqliteStatement
        defer { sqlite3_reset(statement) }
        for (position, point) in points.enumerated() {
            sqlite3_reset(statement)
            var rc = sqlite3_bind_int64(statement, 1, trial)
            if rc == SQLITE_OK { rc = sqlite3_bind_int64(statement, 2, seq) }
            if rc == SQLITE_OK { rc = sqlite3_bind_int64(statement, 3, Int64(position)) }
            if rc == SQLITE_OK { rc = sqlite3_bind_int64(statement, 4, point.step) }
            if rc == SQLITE_OK { rc = sqlite3_bind_text(statement, 5, point.name, -1, transient) }
            // NaN is stored as NULL (SQLite has no NaN); the readers turn NULL back into NaN.
            if rc == SQLITE_OK { rc = point.value.isNaN ? sqlite3_bind_null(statement, 6) : sqlite3_bind_double(statement, 6, point.value) }
            if rc == SQLITE_OK { rc = sqlite3_bind_double(statement, 7, point.time.timeIntervalSince1970) }
            if rc == SQLITE_OK { rc = sqlite3_step(statement) }
            guard rc == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)),
                                    sql: sql)
            }
        }
    }
}
