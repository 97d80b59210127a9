import Foundation
import GRDB

/// Group commit: many store operations in one write transaction, one fsync.
///
/// `batch { … }` opens a write transaction on the writer connection and runs `body`. Every store
/// method called inside `body` (on the same thread, which is how a synchronous caller like the
/// coordinator's actor calls them) reuses that transaction instead of opening its own:
/// - a mutating method runs in its own SAVEPOINT, so it is still all-or-nothing: when it throws,
///   its writes are rolled back and the batch's other writes stay;
/// - a reading method reads through the writer connection, so it sees every write made earlier in
///   the batch (a reader connection would see only the last commit).
///
/// Nothing of the batch is durable until `batch` returns: the transaction is committed
/// (synchronous FULL) once, at the end. If `body` throws, or the commit fails, the whole batch is
/// rolled back and `batch` throws; the caller must then treat every decision made inside as never
/// having happened.
///
/// Outside `batch`, every method behaves as documented on `SweepStore`: one transaction each.
extension SweepStore {
    /// Runs `body` with every store call inside it sharing one write transaction, committed once
    /// when `body` returns. Calls to `batch` inside `body` join the open batch.
    public func batch<T>(_ body: () throws -> T) throws -> T {
        if BatchConnection.current(for: self) != nil { return try body() }
        return try pool.write { db in
            BatchConnection.set(db, for: self)
            defer { BatchConnection.set(nil, for: self) }
            return try body()
        }
    }

    /// True while the calling thread is inside `batch` on this store.
    public var isBatching: Bool { BatchConnection.current(for: self) != nil }

    /// A write: inside a batch, a savepoint of the batch's transaction; otherwise its own transaction.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        guard let db = BatchConnection.current(for: self) else { return try pool.write(body) }
        // SQLite savepoints nest by name: ROLLBACK TO / RELEASE act on the innermost one. The
        // statements go through the statement cache; GRDB's inSavepoint prepared them anew each
        // time, which cost as much as the work inside on the coordinator's small writes.
        try db.run(sql: "SAVEPOINT thresher_write")
        let result: T
        do {
            result = try body(db)
        } catch {
            try? db.run(sql: "ROLLBACK TO SAVEPOINT thresher_write")
            try? db.run(sql: "RELEASE SAVEPOINT thresher_write")
            throw error
        }
        try db.run(sql: "RELEASE SAVEPOINT thresher_write")
        return result
    }

    /// A read: inside a batch, through the batch's connection (it sees the batch's writes);
    /// otherwise a snapshot of the last commit from a reader connection.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        guard let db = BatchConnection.current(for: self) else { return try pool.read(body) }
        return try body(db)
    }
}

/// The open batch's connection, per thread and per store. Thread-local because GRDB hands the
/// writer connection to the closure on the thread that runs it, and the batch's nested calls are
/// synchronous on that same thread; no other thread can ever see it.
enum BatchConnection {
    static func current(for store: SweepStore) -> Database? {
        Thread.current.threadDictionary.object(forKey: store.batchKey) as? Database
    }

    static func set(_ db: Database?, for store: SweepStore) {
        if let db {
            Thread.current.threadDictionary.setObject(db, forKey: store.batchKey)
        } else {
            Thread.current.threadDictionary.removeObject(forKey: store.batchKey)
        }
    }
}
