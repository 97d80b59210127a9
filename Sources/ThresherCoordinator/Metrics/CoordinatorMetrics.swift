import Foundation
import Synchronization
import ThresherNet
import ThresherStore
import ThresherSweep
import ThresherWire

/// The coordinator's figures in the Prometheus text format (docs/operations.md, "Prometheus").
///
/// Guarantees:
/// - **Cheap.** A scrape is one short actor call (`Coordinator.metricsSnapshot`, counters only),
///   one read transaction of four aggregate queries (`SweepStore.gauges`), and the network and
///   WAL-sync counters (each a lock); no metric history is read. A sweep's byte budget is parsed
///   from its file once and cached (a stored sweep's text never changes).
/// - **Consistent series.** Every family has HELP and TYPE; each series appears once; per-sweep
///   series carry `sweep` (the name) and `sweep_id` (names may repeat); counters with a reason or
///   kind label list every known value from 0, so `rate()` and `increase()` see the first one.
/// - **Committed only.** Store gauges are what a restarted coordinator would see; counters of
///   stored things (points, dispatches) are taken back when their batch's commit fails.
public final class CoordinatorMetrics: Sendable {
    /// The release this source tree builds (reported as `thresher_build_info{version}`).
    public static let version = ThresherRelease.version

    private let server: CoordinatorServer
    private let startTime: Date
    private let budgets = Mutex<[Int64: Int64?]>([:])

    /// `startTime`: when this coordinator process started (`process_start_time_seconds`).
    public init(server: CoordinatorServer, startTime: Date = Date()) {
        self.server = server
        self.startTime = startTime
    }

    /// The whole exposition, read now.
    public func render() async throws -> String {
        let snapshot = await server.coordinator.metricsSnapshot()
        let gauges = try server.coordinator.sweepStore.gauges()
        var out = PrometheusText()
        out.family("thresher_build_info", .gauge, help: "Always 1; the labels name this build's release and wire protocol version.")
        out.sample("thresher_build_info", ["version": Self.version,
                                           "wire_protocol": ThresherRelease.wireProtocol], 1)
        out.single("process_start_time_seconds", .gauge, startTime.timeIntervalSince1970,
                   help: "When this coordinator process started (its command began), in seconds since 1970.")
        renderTrials(gauges, snapshot: snapshot, into: &out)
        renderCheckpoints(gauges, statistics: snapshot.statistics, into: &out)
        renderSessions(gauges, into: &out)
        renderRequests(snapshot.statistics, into: &out)
        renderDurability(snapshot.statistics, into: &out)
        return out.text
    }

    private func renderTrials(_ gauges: SweepStore.Gauges, snapshot: CoordinatorMetricsSnapshot, into out: inout PrometheusText) {
        out.family("thresher_sweeps", .gauge, help: "Sweeps in the store by state.")
        for state in SweepState.allCases {
            out.sample("thresher_sweeps", ["state": state.rawValue], Double(gauges.sweeps.filter { $0.state == state }.count))
        }
        out.family("thresher_trials", .gauge, help: "Trials created so far, by sweep and state (every sweep in the store, every state).")
        for sweep in gauges.sweeps {
            let counts = gauges.trials[sweep.id] ?? [:]
            for state in TrialState.allCases {
                out.sample("thresher_trials", labels: Self.labels(sweep) + [("state", state.rawValue)], Double(counts[state] ?? 0))
            }
        }
        perSweep("thresher_sweep_trials_planned", gauges,
                 help: "The search size of each active or paused sweep with a finite search (grid); absent otherwise.",
                 into: &out) { snapshot.plannedTrials[$0.id].map(Double.init) }
        let s = snapshot.statistics
        out.single("thresher_trials_dispatched_total", .counter, Double(s.trialsDispatched),
                   help: "Trial assignments handed to workers since start (a trial assigned again after a lost lease counts again).")
        out.single("thresher_dispatch_rate_per_second", .gauge, snapshot.dispatchRatePerSecond,
                   help: "Assignments per second over the last \(DispatchRateWindow.seconds) whole seconds (the current second left out).")
        out.single("thresher_metric_points_ingested_total", .counter, Double(s.metricPointsIngested),
                   help: "Metric values stored from Reports since start (checkpoint-size announcements included; resent duplicates not).")
        out.single("thresher_reports_stored_total", .counter, Double(s.reportsStored),
                   help: "Reports stored since start.")
        out.single("thresher_reports_duplicate_total", .counter, Double(s.reportsDuplicate),
                   help: "Reports resent after a lost Ack and acknowledged again without storing.")
        out.single("thresher_stops_decided_total", .counter, Double(s.stopsDecided),
                   help: "Trials stopped early by the sweep's stopping policy since start.")
    }

    private func renderCheckpoints(_ gauges: SweepStore.Gauges, statistics s: CoordinatorStatistics, into out: inout PrometheusText) {
        perSweep("thresher_checkpoints_stored", gauges, help: "Checkpoints held in the blob store, by sweep.",
                 into: &out) { Double(gauges.storedCheckpoints[$0.id]?.count ?? 0) }
        perSweep("thresher_checkpoint_bytes_stored", gauges, help: "Bytes of the checkpoints held in the blob store, by sweep.",
                 into: &out) { Double(gauges.storedCheckpoints[$0.id]?.bytes ?? 0) }
        perSweep("thresher_checkpoint_bytes_budget", gauges,
                 help: "The sweep's thresher.retention.max_bytes; absent for a sweep without one.",
                 into: &out) { budget(of: $0.id).map(Double.init) }
        out.single("thresher_checkpoint_uploads_requested_total", .counter, Double(s.uploadsRequested),
                   help: "Checkpoint uploads the coordinator asked workers for.")
        out.single("thresher_checkpoint_uploads_abandoned_total", .counter, Double(s.uploadsAbandoned),
                   help: "Uploads given up because their lease ended or they stopped moving before the last chunk.")
        out.single("thresher_corrupt_blobs_total", .counter, Double(s.corruptBlobs),
                   help: "Stored checkpoints found not to match their digest, and evicted.")
    }

    /// A gauge family with one sample per sweep in the store (`value` nil: no sample for that sweep).
    private func perSweep(_ name: String, _ gauges: SweepStore.Gauges, help: String, into out: inout PrometheusText,
                          _ value: (SweepStore.SweepLabel) -> Double?) {
        out.family(name, .gauge, help: help)
        for sweep in gauges.sweeps {
            if let value = value(sweep) { out.sample(name, labels: Self.labels(sweep), value) }
        }
    }

    private func renderSessions(_ gauges: SweepStore.Gauges, into out: inout PrometheusText) {
        let active = server.cluster.activeSessions
        out.single("thresher_workers_connected", .gauge, Double(active.workers),
                   help: "Worker sessions (Hello with at least one slot) that are authenticated, on an open connection, and sent a request within the lease timeout.")
        out.single("thresher_worker_slots_connected", .gauge, Double(active.workerSlots),
                   help: "Trial slots the connected workers declared.")
        out.single("thresher_clients_connected", .gauge, Double(active.clients),
                   help: "Client sessions (no slots: status, submit, export, fetch) active the same way.")
        out.single("thresher_workers_holding_leases", .gauge, Double(gauges.workersHoldingLeases),
                   help: "Distinct worker ids holding a lease on a trial (assigned or running), from the store.")
        let network = server.cluster.statistics
        out.single("thresher_sessions_opened_total", .counter, Double(network.sessionsOpened),
                   help: "Successful handshakes since start.")
        out.family("thresher_frames_rejected_total", .counter, help: "Frames that failed to decode and were answered Error(malformedFrame), by reason.")
        for reason in Self.names(known: WireError.reasonNames, seen: network.framesRejected) {
            out.sample("thresher_frames_rejected_total", ["reason": reason], Double(network.framesRejected[reason] ?? 0))
        }
        out.family("thresher_handshakes_rejected_total", .counter, help: "Handshakes refused, by reason (badProof: wrong token).")
        for reason in Self.names(known: Self.rejectReasons, seen: network.handshakesRejected) {
            out.sample("thresher_handshakes_rejected_total", ["reason": reason], Double(network.handshakesRejected[reason] ?? 0))
        }
        out.single("thresher_unauthenticated_requests_total", .counter, Double(network.unauthenticatedRequests),
                   help: "Requests on connections that had not completed the handshake.")
    }

    private func renderRequests(_ s: CoordinatorStatistics, into out: inout PrometheusText) {
        out.family("thresher_requests_total", .counter, help: "Requests of authenticated sessions the coordinator handled, by message type.")
        for (kind, name) in Self.requestKinds {
            out.sample("thresher_requests_total", ["kind": name], Double(s.requests[kind] ?? 0))
        }
        out.family("thresher_requests_refused_total", .counter,
                   help: "Requests the coordinator answered with Error, by code (staleLease: a lost worker's late message).")
        for reason in Self.names(known: Self.errorCodes, seen: s.rejected) {
            out.sample("thresher_requests_refused_total", ["reason": reason], Double(s.rejected[reason] ?? 0))
        }
    }

    private func renderDurability(_ s: CoordinatorStatistics, into out: inout PrometheusText) {
        out.family("thresher_batch_commit_seconds", .summary, help: "Group commits (one SQLite commit answers a batch of requests) and the time they took.")
        out.sample("thresher_batch_commit_seconds_sum", [:], s.batchCommitSeconds)
        out.sample("thresher_batch_commit_seconds_count", [:], Double(s.batchesCommitted))
        out.single("thresher_batch_requests_total", .counter, Double(s.requestsBatched),
                   help: "Requests answered by group commits.")
        let d = server.durability
        out.family("thresher_wal_sync_seconds", .histogram, help: "Write-ahead-log syncs (fdatasync) that release batches' replies, by duration.")
        var cumulative = 0
        for (bound, count) in zip(DurabilityFigures.syncBucketBounds, d.syncBuckets) {
            cumulative += count
            out.sample("thresher_wal_sync_seconds_bucket", ["le": PrometheusText.format(bound)], Double(cumulative))
        }
        out.sample("thresher_wal_sync_seconds_bucket", ["le": "+Inf"], Double(d.syncs))
        out.sample("thresher_wal_sync_seconds_sum", [:], d.syncSeconds)
        out.sample("thresher_wal_sync_seconds_count", [:], Double(d.syncs))
        out.single("thresher_wal_batches_released_total", .counter, Double(d.batchesReleased),
                   help: "Batches whose replies a WAL sync released.")
        out.single("thresher_durability_failed", .gauge, server.durabilityFailure == nil ? 0 : 1,
                   help: "1 once a WAL sync failed: every request is refused until the coordinator restarts.")
    }

    /// The message types a session sends as requests after the handshake, with their label values.
    /// Names are made once: describing an enum case goes through runtime reflection.
    static let requestKinds: [(MessageType, String)] = [
        MessageType.requestTrial, .report, .heartbeat, .checkpointChunk, .done, .failed,
        .submitSweep, .statusRequest, .stopRequest, .exportRequest, .bestRequest, .blobRead, .reportRequest,
    ].map { ($0, "\($0)") }
    static let errorCodes = ErrorCode.allCases.map { "\($0)" }
    static let rejectReasons = RejectReason.allCases.map { "\($0)" }

    static func labels(_ sweep: SweepStore.SweepLabel) -> [(key: String, value: String)] {
        [("sweep", sweep.name), ("sweep_id", String(sweep.id))]
    }

    /// The known names, then any other name seen (sorted), each once.
    static func names(known: [String], seen: [String: Int]) -> [String] {
        known + seen.keys.filter { !known.contains($0) }.sorted()
    }

    /// The sweep's `max_bytes`, parsed once from its stored file (nil: none, or unreadable).
    private func budget(of sweep: Int64) -> Int64? {
        if let cached = budgets.withLock({ $0[sweep] }) { return cached }
        var budget: Int64?
        if let stored = try? server.coordinator.sweepStore.sweep(sweep),
           let spec = try? StoredSweepSpec.parse(stored) {
            budget = spec.thresher.retention.maxBytes
        }
        budgets.withLock { $0[sweep] = .some(budget) }
        return budget
    }
}
