import Foundation
import GRDB

/// The database schema as an ordered list of named migrations.
///
/// A migration, once released, is never edited: later changes are new migrations ("v2", …), so a
/// coordinator restarted on an older state file upgrades it in place. GRDB records applied
/// migrations in `grdb_migrations` and runs each pending one in its own transaction.
enum StoreSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1", migrate: v1)
        migrator.registerMigration("v2", migrate: v2)
        return migrator
    }

    /// Tables, keys and indexes of the first release. Times are REAL seconds since 1970; states are
    /// checked by CHECK constraints so a bug cannot store a state the Swift enums cannot read.
    private static func v1(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE sweeps (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL,
                spec TEXT NOT NULL,
                seed INTEGER NOT NULL,
                priority INTEGER NOT NULL DEFAULT 0,
                state TEXT NOT NULL CHECK (state IN ('active', 'paused', 'finished', 'stopped')),
                createdAt REAL NOT NULL
            );
            CREATE INDEX sweeps_queue ON sweeps (state, priority DESC, createdAt, id);

            CREATE TABLE trials (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                sweepId INTEGER NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE,
                indexInSweep INTEGER NOT NULL,
                params TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN
                    ('pending', 'assigned', 'running', 'completed', 'stopped', 'failed', 'cancelled')),
                leaseId TEXT,
                leaseEpoch INTEGER NOT NULL DEFAULT 0,
                workerId TEXT,
                leaseExpiry REAL,
                attempts INTEGER NOT NULL DEFAULT 0,
                maxAttempts INTEGER NOT NULL CHECK (maxAttempts >= 1),
                lastError TEXT,
                resumeCheckpointId INTEGER REFERENCES checkpoints (id) ON DELETE SET NULL,
                stopExplanation TEXT,
                createdAt REAL NOT NULL,
                startedAt REAL,
                endedAt REAL,
                UNIQUE (sweepId, indexInSweep)
            );
            CREATE INDEX trials_by_state ON trials (state, sweepId, indexInSweep);
            CREATE INDEX trials_by_expiry ON trials (leaseExpiry) WHERE leaseExpiry IS NOT NULL;

            CREATE TABLE metric_reports (
                trialId INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
                seq INTEGER NOT NULL,
                epoch INTEGER NOT NULL,
                points INTEGER NOT NULL,
                receivedAt REAL NOT NULL,
                PRIMARY KEY (trialId, seq)
            ) WITHOUT ROWID;

            CREATE TABLE metrics (
                trialId INTEGER NOT NULL,
                seq INTEGER NOT NULL,
                position INTEGER NOT NULL,
                step INTEGER NOT NULL,
                name TEXT NOT NULL,
                value REAL,
                time REAL NOT NULL,
                PRIMARY KEY (trialId, seq, position),
                FOREIGN KEY (trialId, seq) REFERENCES metric_reports (trialId, seq) ON DELETE CASCADE
            ) WITHOUT ROWID;
            CREATE INDEX metrics_by_name ON metrics (trialId, name, step);

            CREATE TABLE checkpoints (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                trialId INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
                step INTEGER NOT NULL,
                metric REAL,
                bytes INTEGER NOT NULL CHECK (bytes >= 0),
                digest TEXT,
                state TEXT NOT NULL CHECK (state IN ('local', 'uploading', 'stored', 'evicted')),
                createdAt REAL NOT NULL,
                updatedAt REAL NOT NULL,
                UNIQUE (trialId, step)
            );
            CREATE INDEX checkpoints_by_state ON checkpoints (state, trialId);
            CREATE INDEX checkpoints_by_digest ON checkpoints (digest) WHERE digest IS NOT NULL;

            CREATE TABLE events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                time REAL NOT NULL,
                sweepId INTEGER,
                trialId INTEGER,
                kind TEXT NOT NULL,
                detail TEXT NOT NULL
            );
            CREATE INDEX events_by_sweep ON events (sweepId, id);
            CREATE INDEX events_by_trial ON events (trialId, id);
            """)
    }

    /// One row per report: the points move from `metrics` (a row per point, two B-trees and a
    /// foreign-key check each) into a `MetricReportBlob` in `metric_reports.body`; checkpoint size
    /// announcements are also kept in `checkpoint_sizes`, so the coordinator's per-report check
    /// reads a few rows instead of decoding the trial's whole history. Existing data is converted.
    private static func v2(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE metric_reports_v2 (
                trialId INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
                seq INTEGER NOT NULL,
                epoch INTEGER NOT NULL,
                points INTEGER NOT NULL,
                receivedAt REAL NOT NULL,
                body BLOB NOT NULL,
                PRIMARY KEY (trialId, seq)
            ) WITHOUT ROWID;

            CREATE TABLE checkpoint_sizes (
                trialId INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
                step INTEGER NOT NULL,
                bytes REAL,
                seq INTEGER NOT NULL,
                PRIMARY KEY (trialId, step)
            ) WITHOUT ROWID;
            """)
        let reports = try Row.fetchCursor(db, sql: "SELECT trialId, seq, epoch, points, receivedAt FROM metric_reports ORDER BY trialId, seq")
        while let report = try reports.next() {
            let trial: Int64 = report[0], seq: Int64 = report[1]
            let points = try Row.fetchAll(db, sql: """
                SELECT step, name, value, time FROM metrics WHERE trialId = ? AND seq = ? ORDER BY position
                """, arguments: [trial, seq]).map { row in
                MetricPoint(step: row[0], name: row[1], value: (row[2] as Double?) ?? .nan, time: Date(timeIntervalSince1970: row[3]))
            }
            try db.execute(sql: """
                INSERT INTO metric_reports_v2 (trialId, seq, epoch, points, receivedAt, body) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [trial, seq, report[2] as Int64, report[3] as Int64, report[4] as Double,
                                 Data(MetricReportBlob.encode(points))])
        }
        // In report order, so the last announcement of a step wins, as in `recordCheckpointSizes`.
        try db.execute(sql: """
            INSERT OR REPLACE INTO checkpoint_sizes (trialId, step, bytes, seq)
            SELECT trialId, step, value, seq FROM metrics WHERE name = ? ORDER BY trialId, seq, position
            """, arguments: [SweepStore.checkpointSizeMetric])
        try db.execute(sql: """
            DROP INDEX metrics_by_name;
            DROP TABLE metrics;
            DROP TABLE metric_reports;
            ALTER TABLE metric_reports_v2 RENAME TO metric_reports;
            """)
    }
}
