// The client messages (docs/protocol.md, "Client messages"): what `thresher
// submit / status / stop / export / fetch` send to a coordinator, and what a worker sends to
// download a checkpoint it resumes from. Each request is answered by its reply type or by `Error`.

/// Submit a sweep file. The coordinator parses it (the same parser as `thresher sweep check`);
/// a file that does not parse is answered by `Error(invalidRequest)` with the parser's message.
/// Resubmitting a sweep of the same name and file text returns the existing sweep.
public struct SubmitSweep: Sendable, Hashable {
    /// The sweep file's YAML text, as read by the client.
    public var fileText: String
    /// The file's name (for messages and, without `name`, the sweep's name).
    public var fileName: String
    /// The folder relative paths in the file mean (they must exist where the trials run).
    public var baseDirectory: String
    /// The sweep's name; nil: the file name without its extension.
    public var name: String?
    /// Higher runs first; equal priorities run in submission order.
    public var priority: Int32
    public init(fileText: String, fileName: String, baseDirectory: String, name: String?, priority: Int32) {
        self.fileText = fileText; self.fileName = fileName; self.baseDirectory = baseDirectory
        self.name = name; self.priority = priority
    }
}

/// Reply to `SubmitSweep`: the sweep's id and name; `created` is false when an identical sweep
/// (same name, same file text) already existed and was returned instead.
public struct SweepSubmitted: Sendable, Hashable {
    public var sweepID: UInt64
    public var name: String
    public var created: Bool
    public init(sweepID: UInt64, name: String, created: Bool) { self.sweepID = sweepID; self.name = name; self.created = created }
}

/// Ask for a status document: every sweep (`sweep` nil) or one sweep's trials (`sweep` is an id or
/// a name; a name means the newest sweep of that name).
public struct StatusRequest: Sendable, Hashable {
    public var sweep: String?
    public init(sweep: String?) { self.sweep = sweep }
}

/// Reply to `StatusRequest`: the JSON document `thresher status --json` prints (schema in
/// docs/protocol.md). JSON rather than typed records: the status view grows with the product
/// (stop explanations, retention figures) and is only ever printed or read by scripts.
public struct StatusReply: Sendable, Hashable {
    public var json: String
    public init(json: String) { self.json = json }
}

/// Ask for one sweep's report (`thresher report --coordinator`): `sweep` is an id or a name (the
/// newest sweep of that name).
public struct ReportRequest: Sendable, Hashable {
    public var sweep: String
    public init(sweep: String) { self.sweep = sweep }
}

/// Reply to `ReportRequest`: the self-contained HTML page `thresher report` writes from a state
/// folder, rendered by the coordinator from its store (the same bytes a local report of the same
/// state gives, but for the time it was made).
public struct ReportReply: Sendable, Hashable {
    public var html: String
    public init(html: String) { self.html = html }
}

/// What a `StopRequest` stops.
public enum StopTarget: Sendable, Hashable {
    /// A sweep by id or name (the newest of that name).
    case sweep(String)
    /// One trial by its id.
    case trial(UInt64)
}

/// Stop a sweep (pending trials cancelled, running ones sent a stop verdict, the sweep marked
/// stopped) or one trial. `reason` is stored with each stop, e.g. "stopped by user".
public struct StopRequest: Sendable, Hashable {
    public var target: StopTarget
    public var reason: String
    public init(target: StopTarget, reason: String) { self.target = target; self.reason = reason }
}

/// Reply to `StopRequest`: how many trials were cancelled while waiting and how many running ones
/// were stopped; `detail` is one human sentence.
public struct StopReply: Sendable, Hashable {
    public var sweepID: UInt64
    public var cancelled: UInt32
    public var stopped: UInt32
    public var detail: String
    public init(sweepID: UInt64, cancelled: UInt32, stopped: UInt32, detail: String) {
        self.sweepID = sweepID; self.cancelled = cancelled; self.stopped = stopped; self.detail = detail
    }
}

/// A position in a sweep's metric rows, which are ordered by (trial id, report seq, position in
/// the report). `start` (all zero) is before every row: trial ids start at 1.
public struct ExportCursor: Sendable, Hashable {
    public var trialID: UInt64
    public var seq: UInt64
    public var position: UInt32
    public init(trialID: UInt64, seq: UInt64, position: UInt32) { self.trialID = trialID; self.seq = seq; self.position = position }
    public static let start = ExportCursor(trialID: 0, seq: 0, position: 0)
}

/// Ask for the next page of a sweep's metric rows after `after`, at most `limit` rows (the
/// coordinator may send fewer; it caps pages at 10,000 rows).
public struct ExportRequest: Sendable, Hashable {
    public var sweep: String
    public var after: ExportCursor
    public var limit: UInt32
    public init(sweep: String, after: ExportCursor, limit: UInt32) { self.sweep = sweep; self.after = after; self.limit = limit }
}

/// A trial named by rows of an `ExportPage`, with its parameters.
public struct ExportTrial: Sendable, Hashable {
    public var trialID: UInt64
    public var index: Int64
    public var state: String
    public var params: ParamMap
    public init(trialID: UInt64, index: Int64, state: String, params: ParamMap) {
        self.trialID = trialID; self.index = index; self.state = state; self.params = params
    }
}

/// One stored metric value. `time` is seconds since 1970 when the coordinator stored it; a value
/// stored as missing (NaN) is sent as NaN.
public struct ExportRow: Sendable, Hashable {
    public var trialID: UInt64
    public var seq: UInt64
    public var step: Int64
    public var name: String
    public var value: Double
    public var time: Double
    public init(trialID: UInt64, seq: UInt64, step: Int64, name: String, value: Double, time: Double) {
        self.trialID = trialID; self.seq = seq; self.step = step; self.name = name; self.value = value; self.time = time
    }
}

/// Reply to `ExportRequest`: rows in order, every trial they name (once per page), the cursor to
/// ask from next, and `complete` when no row follows `next`.
public struct ExportPage: Sendable, Hashable {
    public var sweepID: UInt64
    public var trials: [ExportTrial]
    public var rows: [ExportRow]
    public var next: ExportCursor
    public var complete: Bool
    public init(sweepID: UInt64, trials: [ExportTrial], rows: [ExportRow], next: ExportCursor, complete: Bool) {
        self.sweepID = sweepID; self.trials = trials; self.rows = rows; self.next = next; self.complete = complete
    }
}

/// Ask for a sweep's `count` best stored checkpoints (by the sweep's metric, ties by earlier step).
public struct BestRequest: Sendable, Hashable {
    public var sweep: String
    public var count: UInt32
    public init(sweep: String, count: UInt32) { self.sweep = sweep; self.count = count }
}

/// A stored checkpoint as `BestCheckpoints` describes it; its bytes come by `BlobRead(digest)`.
public struct BestCheckpoint: Sendable, Hashable {
    public var trialID: UInt64
    public var trialIndex: Int64
    public var step: Int64
    /// The sweep metric's value at `step`, if it was a number.
    public var value: Double?
    public var byteCount: UInt64
    public var digest: Digest32
    public var params: ParamMap
    public init(trialID: UInt64, trialIndex: Int64, step: Int64, value: Double?, byteCount: UInt64, digest: Digest32, params: ParamMap) {
        self.trialID = trialID; self.trialIndex = trialIndex; self.step = step; self.value = value
        self.byteCount = byteCount; self.digest = digest; self.params = params
    }
}

/// Reply to `BestRequest`, best first.
public struct BestCheckpoints: Sendable, Hashable {
    public var sweepID: UInt64
    public var sweepName: String
    public var metric: String
    public var checkpoints: [BestCheckpoint]
    public init(sweepID: UInt64, sweepName: String, metric: String, checkpoints: [BestCheckpoint]) {
        self.sweepID = sweepID; self.sweepName = sweepName; self.metric = metric; self.checkpoints = checkpoints
    }
}

/// Read up to `maxBytes` of the stored checkpoint blob `digest` from `offset` (the coordinator caps
/// a piece at 4 MiB). Any authenticated session may read: workers download resume checkpoints.
public struct BlobRead: Sendable, Hashable {
    public var digest: Digest32
    public var offset: UInt64
    public var maxBytes: UInt32
    public init(digest: Digest32, offset: UInt64, maxBytes: UInt32) { self.digest = digest; self.offset = offset; self.maxBytes = maxBytes }
}

/// Reply to `BlobRead`: the bytes at `offset` (none at or past the end) and the blob's size. The
/// reader checks the SHA-256 of the whole file against `digest` once it has every byte.
public struct BlobData: Sendable, Hashable {
    public var digest: Digest32
    public var offset: UInt64
    public var totalBytes: UInt64
    public var data: [UInt8]
    public init(digest: Digest32, offset: UInt64, totalBytes: UInt64, data: [UInt8]) {
        self.digest = digest; self.offset = offset; self.totalBytes = totalBytes; self.data = data
    }
}

extension Digest32 {
    /// The 64 lower-case hex digits of the value (how digests are named in the store and sidecars).
    public var hex: String { SHA256.hex(bytes) }
}
