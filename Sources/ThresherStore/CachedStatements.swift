import GRDB

/// Store queries through each connection's statement cache: a statement is prepared once per
/// connection and reused. Preparing is most of the cost of the coordinator's small queries (SQL
/// parsing plus GRDB's authorizer callback per column), and the same two dozen statements run for
/// every trial.
enum Cached {
    static func value<T: DatabaseValueConvertible & StatementColumnConvertible>(
        _ type: T.Type, _ db: Database, sql: String, arguments: StatementArguments = StatementArguments()
    ) throws -> T? {
        try T.fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }

    /// The first row decoded by `decode` while the statement still holds it: no copy of the row
    /// (and of its column names) as `rows(...).first` would make.
    static func firstRow<T>(_ db: Database, sql: String, arguments: StatementArguments = StatementArguments(),
                            _ decode: (Row) throws -> T) throws -> T? {
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        guard let row = try cursor.next() else { return nil }
        return try decode(row)
    }

    static func rows(_ db: Database, sql: String, arguments: StatementArguments = StatementArguments()) throws -> [Row] {
        try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }

    static func record<T: FetchableRecord>(_ type: T.Type, _ db: Database, sql: String,
                                           arguments: StatementArguments = StatementArguments()) throws -> T? {
        try T.fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }

    static func records<T: FetchableRecord>(_ type: T.Type, _ db: Database, sql: String,
                                            arguments: StatementArguments = StatementArguments()) throws -> [T] {
        try T.fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }
}

extension Database {
    /// Executes one statement through the statement cache.
    func run(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
