import Foundation
import GRDB
import Synchronization

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
/// `batch(deferringSync: true)` commits without the fsync (synchronous NORMAL for that one
/// commit): the batch is then committed — later transactions see it, a crash keeps the database
/// consistent — but durable only after the next `syncWriteAheadLog()` returns. A pipelining
/// caller decides its next batch while that sync runs, and acknowledges nothing before it.
///
/// Outside `batch`, every method behaves as documented on `SweepStore`: one transaction each.
extension SweepStore {
    /// Runs `body` with every store call inside it sharing one write transaction, committed once
    /// when `body` returns. Calls to `batch` inside `body` join the open batch.
    public func batch<T>(deferringSync: Bool = false, _ body: () throws -> T) throws -> T {
        if batchSlot.current() != nil { return try body() }
        guard deferringSync else {
            return try pool.write { db in
                batchSlot.set(db)
                defer { batchSlot.set(nil) }
                return try body()
            }
        }
        return try pool.writeWithoutTransaction { db in
            try db.run(sql: "PRAGMA synchronous = NORMAL")
            var result: T?
            let committed = Result<Void, Error> {
                try db.inTransaction(.immediate) {
                    batchSlot.set(db)
                    defer { batchSlot.set(nil) }
                    result = try body()
                    return .commit
                }
            }
            // Every other write must stay FULL. If this fails the batch reports failure even
            // though it committed; the caller then rebuilds from the store, which holds it.
            try db.run(sql: "PRAGMA synchronous = FULL")
            try committed.get()
            guard let result else { throw StoreError.invalidArgument("a batch committed without a result") }
            return result
        }
    }

    /// Makes every batch committed so far durable (fdatasync of the WAL file). Thread-safe and
    /// callable while the writer commits further batches; throws `StoreError.storageFailed`.
    public func syncWriteAheadLog() throws {
        try walSync.sync()
    }

    /// True while the calling thread is inside `batch` on this store.
    public var isBatching: Bool { batchSlot.current() != nil }

    /// A write: inside a batch, a savepoint of the batch's transaction; otherwise its own transaction.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        guard let db = batchSlot.current() else { return try pool.write(body) }
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
        guard let db = batchSlot.current() else { return try pool.read(body) }
        return try body(db)
    }
}

/// The open batch's connection, and the thread it belongs to. GRDB hands the writer connection
/// to the closure on the thread that runs it, and the batch's nested calls are synchronous on that
/// same thread, so only that thread is ever given the connection; every other thread sees none.
/// (A lock and a thread-id compare: the thread dictionary this replaced bridged its key to
/// NSString on every store call.)
final class BatchSlot: Sendable {
    // @unchecked: the connection is only ever returned to the thread that stored it.
    private struct Owner: @unchecked Sendable {
        var thread: pthread_t
        var db: Database
    }

    private let owner = Mutex<Owner?>(nil)

    func current() -> Database? {
        let me = pthread_self()
        let found: Owner? = owner.withLock { o in
            guard let o, pthread_equal(o.thread, me) != 0 else { return nil }
            return o
        }
        return found?.db
    }

    func set(_ db: Database?) {
        let next = db.map { Owner(thread: pthread_self(), db: $0) }
        owner.withLock { $0 = next }
    }
}
