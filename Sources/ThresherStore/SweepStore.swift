import Foundation
import GRDB
import ThresherWire

/// Why a store operation was refused. Transition errors name the trial, the state it was found in
/// and the transition that was attempted, so the log line alone explains the refusal.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case sweepNotFound(Int64)
    case trialNotFound(Int64)
    case checkpointNotFound(Int64)
    case invalidTransition(trial: Int64, from: TrialState, attempted: String)
    case invalidSweepTransition(sweep: Int64, from: SweepState, to: SweepState)
    case invalidCheckpointTransition(checkpoint: Int64, from: CheckpointState, to: CheckpointState)
    /// The presented lease is not the trial's current one (older epoch, other id, or expired).
    case staleLease(trial: Int64, presentedEpoch: Int64, currentEpoch: Int64)
    case invalidArgument(String)
    /// A stored metric report's points blob cannot be decoded (a damaged or foreign file).
    case corruptMetricReport(String)
    /// The disk refused to make committed data durable (e.g. `fdatasync` of the WAL failed).
    case storageFailed(String)

    public var description: String {
        switch self {
        case .sweepNotFound(let id): "sweep \(id) does not exist"
        case .trialNotFound(let id): "trial \(id) does not exist"
        case .checkpointNotFound(let id): "checkpoint \(id) does not exist"
        case let .invalidTransition(trial, from, attempted): "trial \(trial) is \(from.rawValue); cannot \(attempted)"
        case let .invalidSweepTransition(sweep, from, to): "sweep \(sweep) is \(from.rawValue); cannot become \(to.rawValue)"
        case let .invalidCheckpointTransition(id, from, to): "checkpoint \(id) is \(from.rawValue); cannot become \(to.rawValue)"
        case let .staleLease(trial, presented, current) where presented == current:
            "trial \(trial): lease epoch \(presented) has expired or ended"
        case let .staleLease(trial, presented, current): "trial \(trial): lease epoch \(presented) is stale (current \(current))"
        case .invalidArgument(let message): message
        case .corruptMetricReport(let detail): "a stored metric report is corrupt: \(detail)"
        case .storageFailed(let detail): detail
        }
    }
}

/// The coordinator's durable state in one SQLite file (WAL mode) through a GRDB `DatabasePool`.
///
/// Guarantees:
/// - Every mutating method runs in one write transaction that re-reads the rows it decides on, and
///   appends its event in the same transaction: when it returns, the decision and its explanation are
///   on disk together (synchronous FULL), so the caller may acknowledge it on the wire. When it
///   throws, nothing of it was written.
/// - Inside `batch { … }` (group commit) the same holds per method with a savepoint instead of a
///   transaction, and "on disk" moves to the moment `batch` returns: the caller acknowledges only
///   then (see SweepStore+Batch.swift).
/// - Readers run concurrently with the writer and each sees one committed snapshot.
/// - No clock is read: every time is a `now` argument.
/// - SQL values are always bound arguments.
public final class SweepStore: Sendable {
    let pool: DatabasePool
    public let path: String
    /// The connection of the `batch` open on some thread (looked up on every store call).
    let batchSlot = BatchSlot()
    /// Makes batches committed with `deferringSync` durable (`syncWriteAheadLog()`).
    let walSync: WriteAheadLogSync

    /// Opens or creates the store at `path` and applies pending migrations.
    public init(path: String) throws {
        var config = Configuration()
        config.foreignKeysEnabled = true
        // A reader never blocks the WAL writer; a second writer (another process) waits briefly.
        config.busyMode = .timeout(5)
        self.path = path
        walSync = WriteAheadLogSync(databasePath: path)
        pool = try DatabasePool(path: path, configuration: config)
        // FULL: a commit is fsynced to the WAL before it returns. NORMAL could lose the last
        // commits on power loss, and those are decisions already acknowledged to workers. Set here,
        // not in `prepareDatabase`, because the pool switches its writer to NORMAL after that hook
        // when it enables WAL. The pool has a single writer connection, so this covers every write.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try StoreSchema.migrator.migrate(pool)
    }

    /// Closes the database; later calls fail. Tests use it to reopen the same file.
    /// Opens an existing store for reading only (`thresher status`, `thresher fetch` beside a
    /// running coordinator): no migration, no pragma, no write can happen through it. Throws if
    /// the file is missing or its schema is not this version's.
    public init(readingAt path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError.invalidArgument("no Thresher state at \(path)")
        }
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(5)
        self.path = path
        walSync = WriteAheadLogSync(databasePath: path)
        pool = try DatabasePool(path: path, configuration: config)
        let complete = try read { db in try StoreSchema.migrator.hasCompletedMigrations(db) }
        guard complete else {
            throw StoreError.invalidArgument("\(path) was written by another version of Thresher (schema differs)")
        }
    }

    public func close() throws { try pool.close() }

    /// Names of the applied migrations, oldest first.
    public func appliedMigrations() throws -> [String] {
        try read { db in try StoreSchema.migrator.appliedMigrations(db) }
    }

    // MARK: Text

    /// SQLite stores text holding a NUL character whole, but reading it back (`sqlite3_column_text`,
    /// a C string) stops at the NUL, so such a name would come back cut short — a different name.
    /// Identities (sweep names and specs, worker ids) holding one are refused instead.
    static func requireText(_ text: String, _ field: String) throws {
        guard !text.utf8.contains(0) else {
            throw StoreError.invalidArgument("the \(field) contains a NUL character, which the store cannot keep")
        }
    }

    /// Free-form messages (a worker's failure reason, a cancel reason) are kept with each NUL
    /// replaced by U+FFFD, so the text read back is what was stored.
    static func storableMessage(_ text: String) -> String {
        text.utf8.contains(0) ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
    }

    // MARK: Sweeps

    /// Creates an active sweep. A name or spec holding a NUL character is refused (`requireText`).
    public func createSweep(name: String, spec: String, seed: Int64, priority: Int = 0, now: Date) throws -> Sweep {
        try Self.requireText(name, "sweep name")
        try Self.requireText(spec, "sweep spec")
        return try write { db in
            try db.run(
                sql: "INSERT INTO sweeps (name, spec, seed, priority, state, createdAt) VALUES (?, ?, ?, ?, 'active', ?)",
                arguments: [name, spec, seed, priority, now.timeIntervalSince1970])
            let id = db.lastInsertedRowID
            try Self.log(db, now: now, sweep: id, trial: nil, kind: "sweep.created", ["name": .string(name), "priority": .int(Int64(priority))])
            return try Self.sweep(db, id)
        }
    }

    /// Moves a sweep between states: active ⇄ paused, and either to finished or stopped (terminal).
    /// Stopping a sweep does not touch its trials; cancel them explicitly.
    public func setSweepState(_ sweep: Int64, to state: SweepState, now: Date) throws {
        try write { db in
            let current = try Self.sweep(db, sweep).state
            let allowed: Bool = switch (current, state) {
            case (.active, .paused), (.paused, .active), (.active, .finished), (.paused, .finished),
                 (.active, .stopped), (.paused, .stopped): true
            default: false
            }
            guard allowed else { throw StoreError.invalidSweepTransition(sweep: sweep, from: current, to: state) }
            try db.run(sql: "UPDATE sweeps SET state = ? WHERE id = ?", arguments: [state, sweep])
            try Self.log(db, now: now, sweep: sweep, trial: nil, kind: "sweep.\(state.rawValue)", [:])
        }
    }

    public func sweep(_ id: Int64) throws -> Sweep { try read { db in try Self.sweep(db, id) } }

    public func sweeps() throws -> [Sweep] {
        try read { db in try Cached.records(Sweep.self, db, sql: "SELECT * FROM sweeps ORDER BY id") }
    }

    /// Ids of the active sweeps in the order they get trials: priority (highest first), then
    /// creation (FIFO), then id. Reads no spec text, so it is cheap enough for every request.
    public func activeSweepIDs() throws -> [Int64] {
        try read { db in
            try Int64.fetchAll(db.cachedStatement(sql: "SELECT id FROM sweeps WHERE state = 'active' ORDER BY priority DESC, createdAt, id"))
        }
    }

    /// True while some sweep is active or paused.
    public func hasOpenSweeps() throws -> Bool {
        try read { db in
            try Cached.value(Bool.self, db, sql: "SELECT EXISTS (SELECT 1 FROM sweeps WHERE state IN ('active', 'paused'))") ?? false
        }
    }

    /// True while some trial of the sweep has not reached a terminal state.
    public func hasOpenTrials(sweep: Int64) throws -> Bool {
        try read { db in
            try Cached.value(Bool.self, db, sql: """
                SELECT EXISTS (SELECT 1 FROM trials WHERE sweepId = ? AND state IN ('pending', 'assigned', 'running'))
                """, arguments: [sweep]) ?? false
        }
    }

    // MARK: Trials

    /// Adds a pending trial at the end of the sweep. `params` is stored as canonical JSON (sorted
    /// keys, no escaped slashes) so equal parameters give equal text.
    public func enqueue(sweep: Int64, params: some Encodable, maxAttempts: Int = 3, now: Date) throws -> Trial {
        guard maxAttempts >= 1 else { throw StoreError.invalidArgument("maxAttempts must be at least 1, got \(maxAttempts)") }
        let json: String
        if let canonical = params as? any CanonicalJSONEncodable {
            json = canonical.canonicalJSON
        } else {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            json = String(decoding: try encoder.encode(params), as: UTF8.self)
        }
        return try write { db in
            // The state only: decoding the whole row would decode the sweep file's text too.
            guard let ownerState = try Cached.value(String.self, db, sql: "SELECT state FROM sweeps WHERE id = ?", arguments: [sweep])
                .flatMap(SweepState.init(rawValue:)) else { throw StoreError.sweepNotFound(sweep) }
            guard ownerState == .active || ownerState == .paused else {
                throw StoreError.invalidArgument("sweep \(sweep) is \(ownerState.rawValue); cannot enqueue trials")
            }
            let next = try Cached.value(Int.self, db, sql: "SELECT COALESCE(MAX(indexInSweep) + 1, 0) FROM trials WHERE sweepId = ?", arguments: [sweep]) ?? 0
            try db.run(
                sql: "INSERT INTO trials (sweepId, indexInSweep, params, state, maxAttempts, createdAt) VALUES (?, ?, ?, 'pending', ?, ?)",
                arguments: [sweep, next, json, maxAttempts, now.timeIntervalSince1970])
            let id = db.lastInsertedRowID
            try Self.log(db, now: now, sweep: sweep, trial: id, kind: "trial.enqueued", ["index": .int(Int64(next))])
            return try Self.trial(db, id)
        }
    }

    public func trial(_ id: Int64) throws -> Trial { try read { db in try Self.trial(db, id) } }

    /// Trials of a sweep in index order, optionally only those in `states`.
    public func trials(sweep: Int64, states: [TrialState]? = nil) throws -> [Trial] {
        try read { db in
            var request = Trial.filter(Column("sweepId") == sweep)
            if let states { request = request.filter(states.contains(Column("state"))) }
            return try request.order(Column("indexInSweep")).fetchAll(db)
        }
    }

    /// How many trials of the sweep are in each state (states with none are absent).
    public func trialCounts(sweep: Int64) throws -> [TrialState: Int] {
        try read { db in
            let rows = try Cached.rows(db, sql: "SELECT state, COUNT(*) AS n FROM trials WHERE sweepId = ? GROUP BY state", arguments: [sweep])
            var counts: [TrialState: Int] = [:]
            for row in rows {
                if let state = TrialState(rawValue: row["state"] ?? "") { counts[state] = row["n"] }
            }
            return counts
        }
    }

    // MARK: Events

    /// Events in log order, optionally of one sweep or trial, after the id `after` (for paging).
    public func events(sweep: Int64? = nil, trial: Int64? = nil, after: Int64 = 0, limit: Int = 1000) throws -> [StoreEvent] {
        try read { db in
            var request = StoreEvent.filter(Column("id") > after)
            if let sweep { request = request.filter(Column("sweepId") == sweep) }
            if let trial { request = request.filter(Column("trialId") == trial) }
            return try request.order(Column("id")).limit(limit).fetchAll(db)
        }
    }

    // MARK: Shared helpers (run inside the caller's transaction)

    /// A value in an event's JSON detail. Written by `json(_:)` (sorted keys, unescaped slashes,
    /// non-finite doubles as strings), not `JSONEncoder`: every decision logs one, and building an
    /// encoder per event was a visible share of the coordinator's time.
    enum Detail: Encodable {
        case string(String), int(Int64), double(Double), null

        static func json(_ detail: [String: Detail]) -> String {
            var out = "{"
            for (n, key) in detail.keys.sorted().enumerated() {
                if n > 0 { out += "," }
                appendString(key, to: &out)
                out += ":"
                switch detail[key] ?? .null {
                case .string(let s): appendString(s, to: &out)
                case .int(let i): out += String(i)
                case .double(let d): if d.isFinite { out += "\(d)" } else { appendString(String(d), to: &out) }
                case .null: out += "null"
                }
            }
            return out + "}"
        }

        static func appendString(_ s: String, to out: inout String) { JSONStringLiteral.append(s, to: &out) }

        func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let s): try container.encode(s)
            case .int(let i): try container.encode(i)
            case .double(let d): if d.isFinite { try container.encode(d) } else { try container.encode(String(d)) }
            case .null: try container.encodeNil()
            }
        }
    }

    static func log(_ db: Database, now: Date, sweep: Int64?, trial: Int64?, kind: String, _ detail: [String: Detail]) throws {
        let json = Detail.json(detail)
        try db.run(
            sql: "INSERT INTO events (time, sweepId, trialId, kind, detail) VALUES (?, ?, ?, ?, ?)",
            arguments: [now.timeIntervalSince1970, sweep, trial, kind, json])
    }

    static func sweep(_ db: Database, _ id: Int64) throws -> Sweep {
        guard let sweep = try Cached.record(Sweep.self, db, sql: "SELECT * FROM sweeps WHERE id = ?", arguments: [id]) else { throw StoreError.sweepNotFound(id) }
        return sweep
    }

    static func trial(_ db: Database, _ id: Int64) throws -> Trial {
        guard let trial = try Cached.firstRow(db, sql: "SELECT \(Trial.orderedColumns) FROM trials WHERE id = ?", arguments: [id],
                                              Trial.init(orderedRow:)) else {
            throw StoreError.trialNotFound(id)
        }
        return trial
    }
}
