import Foundation
import Logging
import ThresherStore
import ThresherSweep
import ThresherWire

/// Settings of a `Coordinator`. Every time the coordinator uses comes from `clock`, so tests
/// control lease expiry exactly and never depend on wall-clock speed.
public struct CoordinatorOptions: Sendable {
    /// How long a lease lives without a heartbeat or report (told to workers in `Welcome`).
    public var leaseTimeout: TimeInterval
    /// How often workers heartbeat (told to workers in `Welcome`). At most a third of
    /// `leaseTimeout`, so a live worker's lease is renewed at least twice before it could expire
    /// even when one heartbeat is lost.
    public var heartbeatInterval: TimeInterval
    /// Attempts (reported failures plus lost leases) before a trial fails for good.
    public var maxAttempts: Int
    /// `NoWork.retryAfterMs` when nothing is pending.
    public var retryAfterMs: UInt32
    /// The coordinator's only source of time.
    public var clock: @Sendable () -> Date
    public var logger: Logger

    /// `heartbeatInterval` is capped at `leaseTimeout / 3`: with the defaults (15 s, 5 s) nothing
    /// changes, and `--lease-timeout 2` gives heartbeats every 0.67 s instead of leases that expire
    /// between two 5 s heartbeats.
    public init(leaseTimeout: TimeInterval = 15, heartbeatInterval: TimeInterval = 5, maxAttempts: Int = 3,
                retryAfterMs: UInt32 = 1000, clock: @escaping @Sendable () -> Date = { Date() },
                logger: Logger = Logger(label: "thresher.coordinator")) {
        self.leaseTimeout = leaseTimeout
        self.heartbeatInterval = leaseTimeout.isFinite && leaseTimeout > 0 ? min(heartbeatInterval, leaseTimeout / 3) : heartbeatInterval
        self.maxAttempts = max(1, maxAttempts); self.retryAfterMs = retryAfterMs
        self.clock = clock; self.logger = logger
    }
}

/// Why `Coordinator.submit` refused a sweep file. Nothing was stored in either case.
public enum CoordinatorError: Error, Sendable, CustomStringConvertible {
    case invalidSweepFile(String)
    case unsearchable(String)

    public var description: String {
        switch self {
        case .invalidSweepFile(let text): "invalid sweep file:\n\(text)"
        case .unsearchable(let text): "the sweep cannot be searched: \(text)"
        }
    }
}

/// Counters of requests the coordinator could not act on, by reason (e.g. `staleLease`,
/// `unknownTrial`, `unexpectedMessage`). A hostile or confused worker shows up here, never as a crash.
public struct CoordinatorStatistics: Sendable, Equatable {
    public var rejected: [String: Int] = [:]
    public var reportsStored = 0
    /// Points (values) stored from those reports, checkpoint-size announcements included.
    public var metricPointsIngested = 0
    /// Assignments handed out (a trial assigned again after a lost lease counts again).
    public var trialsDispatched = 0
    /// Requests of authenticated sessions handed to the coordinator, by message type.
    public var requests: [MessageType: Int] = [:]
    public var reportsDuplicate = 0
    public var stopsDecided = 0
    public var uploadsRequested = 0
    /// Uploads given up because their lease ended before the last chunk (see `abandonUploads`).
    public var uploadsAbandoned = 0
    /// Stored blobs found not to match their digest (`BlobRead` from offset 0) and evicted.
    public var corruptBlobs = 0
    /// Group commits (`handle(batch:)`) that succeeded, and the requests they answered.
    public var batchesCommitted = 0
    public var requestsBatched = 0
    /// Wall time spent deciding inside batches, and committing them (seconds, summed over batches):
    /// the two halves of a request's time in the coordinator, for `thresher bench cluster`.
    public var batchProcessingSeconds = 0.0
    public var batchCommitSeconds = 0.0
    public init() {}

    /// One line for the log: how group commit went.
    public var batchSummary: String {
        guard batchesCommitted > 0 else { return "no batches committed" }
        let perBatch = Double(requestsBatched) / Double(batchesCommitted)
        let commitMs = 1000 * batchCommitSeconds / Double(batchesCommitted)
        let processingUs = requestsBatched > 0 ? 1e6 * batchProcessingSeconds / Double(requestsBatched) : 0
        return "batches \(batchesCommitted), requests \(requestsBatched), mean batch \(String(format: "%.2f", perBatch)), "
            + "mean commit \(String(format: "%.3f", commitMs)) ms, processing \(String(format: "%.1f", processingUs)) us/request"
    }
}

/// Names of the report records the coordinator reads besides the sweep's metric.
public enum ReservedMetric {
    /// A record with this name at step N says "I saved the checkpoint of step N; it is `value`
    /// bytes". The wire has no checkpoint announcement message, so the worker sends this in a
    /// Report (before or with step N's metrics); the coordinator decides on an upload once it knows
    /// both the size and the sweep metric at N.
    public static let checkpointBytes = SweepStore.checkpointSizeMetric
}

/// A trial's parameters as kept in `trials.params`: the searcher's index and the exact typed
/// values, so a restarted coordinator hands the searcher back exactly what it suggested
/// (`1` stays an int, `1.0` a double, NaN survives, map order is kept).
struct StoredTrialParams: Codable, Equatable {
    var index: Int
    var params: TypedValue

    init(index: Int, params: ParamMap) { self.index = index; self.params = TypedValue(.map(params)) }

    var paramMap: ParamMap? { if case .map(let map) = params.value { map } else { nil } }

    static func decode(_ json: String) -> StoredTrialParams? {
        try? JSONDecoder().decode(StoredTrialParams.self, from: Data(json.utf8))
    }
}

extension StoredTrialParams: CanonicalJSONEncodable {
    /// The same bytes `JSONEncoder` (sorted keys, slashes unescaped) writes for this value
    /// (tested against it): one trial is enqueued per suggestion, and the encoder was a visible
    /// share of the coordinator's time per trial.
    var canonicalJSON: String {
        var out = "{\"index\":\(index),\"params\":"
        params.appendJSON(to: &out)
        return out + "}"
    }
}

extension TypedValue {
    func appendJSON(to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .string(let s): JSONStringLiteral.append(s, to: &out)
        case .list(let items):
            out += "["
            for (n, item) in items.enumerated() {
                if n > 0 { out += "," }
                TypedValue(item).appendJSON(to: &out)
            }
            out += "]"
        case .double(let d):
            out += "{\"f\":"
            JSONStringLiteral.append(d.description, to: &out)
            out += "}"
        case .map(let map):
            out += "{\"m\":["
            for (n, entry) in map.entries.enumerated() {
                if n > 0 { out += "," }
                out += "{\"k\":"
                JSONStringLiteral.append(entry.key, to: &out)
                out += ",\"v\":"
                TypedValue(entry.value).appendJSON(to: &out)
                out += "}"
            }
            out += "]}"
        }
    }
}

/// `ParamValue` as JSON: null, bools, ints, strings and lists as themselves; a double as
/// `{"f": "<Swift description>"}` (exact, and NaN/∞ survive); a map as `{"m": [{"k":…, "v":…}, …]}`
/// (order kept).
struct TypedValue: Codable, Equatable {
    var value: ParamValue
    init(_ value: ParamValue) { self.value = value }

    private struct Entry: Codable { var k: String; var v: TypedValue }
    private enum Keys: String, CodingKey { case f, m }

    func encode(to encoder: Encoder) throws {
        switch value {
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case .bool(let b): var c = encoder.singleValueContainer(); try c.encode(b)
        case .int(let i): var c = encoder.singleValueContainer(); try c.encode(i)
        case .string(let s): var c = encoder.singleValueContainer(); try c.encode(s)
        case .list(let items): var c = encoder.singleValueContainer(); try c.encode(items.map(TypedValue.init))
        case .double(let d): var c = encoder.container(keyedBy: Keys.self); try c.encode(d.description, forKey: .f)
        case .map(let map):
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(map.entries.map { Entry(k: $0.key, v: TypedValue($0.value)) }, forKey: .m)
        }
    }

    init(from decoder: Decoder) throws {
        if let c = try? decoder.singleValueContainer() {
            if c.decodeNil() { value = .null; return }
            if let b = try? c.decode(Bool.self) { value = .bool(b); return }
            if let i = try? c.decode(Int64.self) { value = .int(i); return }
            if let s = try? c.decode(String.self) { value = .string(s); return }
            if let items = try? c.decode([TypedValue].self) { value = .list(items.map(\.value)); return }
        }
        let c = try decoder.container(keyedBy: Keys.self)
        if let text = try c.decodeIfPresent(String.self, forKey: .f) {
            guard let d = Double(text) else {
                throw DecodingError.dataCorruptedError(forKey: .f, in: c, debugDescription: "not a double: \(text)")
            }
            value = .double(d)
            return
        }
        let entries = try c.decode([Entry].self, forKey: .m)
        value = .map(ParamMap(entries: entries.map { ($0.k, $0.v.value) }))
    }
}

/// The spec text as stored: the sweep file preceded by one YAML comment line holding the folder
/// that relative paths in it are resolved against, because the store has no column for it and a
/// restarted coordinator must build the same argv. A comment changes nothing the parser sees.
enum StoredSpec {
    static let prefix = "# thresher-base-directory: "

    static func compose(text: String, baseDirectory: String) -> String {
        prefix + baseDirectory.replacingOccurrences(of: "\n", with: " ") + "\n" + text
    }

    static func split(_ stored: String) -> (text: String, baseDirectory: String) {
        guard stored.hasPrefix(prefix), let newline = stored.firstIndex(of: "\n") else { return (stored, ".") }
        let base = String(stored[stored.index(stored.startIndex, offsetBy: prefix.count) ..< newline])
        return (String(stored[stored.index(after: newline)...]), base)
    }
}

/// The `Assign.run` map — a convention shared with the worker (docs/coordinator.md):
/// `argv` (engine sweeps omit the executable and start with `train`), `engine`, `metric`, `goal`,
/// `seed`, `sweep_name`, and `first_seq` (the report seq the attempt must start from).
enum RunMap {
    static func make(spec: SweepSpec, sweepName: String, params: ParamMap, index: Int, baseDirectory: String,
                     firstSeq: Int64) throws(TrialProgramError) -> ParamMap {
        let program = try TrialProgram.resolve(spec: spec, params: params, trialIndex: index,
                                               thresherExecutable: "thresher", baseDirectory: baseDirectory)
        let isEngine = spec.thresher.engine != nil
        // The worker prepends its own `thresher` binary: the coordinator's path means nothing there.
        let argv = isEngine ? Array(program.argv.dropFirst()) : program.argv
        let seed = spec.thresher.seed &+ UInt64(max(0, index))
        return ParamMap(entries: [
            ("argv", .list(argv.map { .string($0) })),
            ("engine", .bool(isEngine)),
            ("metric", .string(spec.metric?.name ?? "")),
            ("goal", .string((spec.metric?.goal ?? .minimize).rawValue)),
            ("seed", .int(Int64(bitPattern: seed))),
            ("sweep_name", .string(sweepName)),
            // Seqs start at 1 (the worker's numbering); an attempt after a lost lease starts past
            // every seq its predecessors used, which the store refuses to reuse.
            ("first_seq", .int(max(1, firstSeq))),
        ])
    }
}
