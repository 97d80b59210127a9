import Foundation

/// The printed form of `thresher bench cluster`: a table with the floors, or one JSON object.
struct ClusterBenchReport {
    let figures: [ClusterBenchmark.SlotFigures]
    let grid: Grid81Comparison.Result?
    let plan: ClusterBenchmark.Plan

    /// Issue 5's floors at 16 slots.
    static let trialsFloor = 2_000.0
    static let pointsFloor = 500_000.0
    static let p99CeilingMs = 20.0

    var peakRSS: Double? { figures.compactMap(\.rssMegabytes).max() }

    func table() -> String {
        var lines = ["coordinator under simulated slots (ipc://, SQLite WAL, every reply after its fsync, \(format(plan.window.seconds, 1)) s windows)",
                     pad("slots", 7) + pad("trials/s", 11) + pad("points/s", 12) + pad("p50 ms", 9) + pad("p99 ms", 9)
                         + pad("ingest p99", 12) + pad("RSS MB", 8) + pad("coord CPU", 11) + pad("slots CPU", 11) + "unexpected"]
        for f in figures {
            lines.append(pad("\(f.slots)", 7) + pad(format(f.dispatch.trialsPerSecond, 0), 11) + pad(format(f.ingest.pointsPerSecond, 0), 12)
                         + pad(optional(f.dispatch.latencyPercentile(50), 2), 9) + pad(optional(f.dispatch.latencyPercentile(99), 2), 9)
                         + pad(optional(f.ingest.latencyPercentile(99), 2), 12) + pad(optional(f.rssMegabytes, 1), 8)
                         + pad(cpuShare(f), 11) + pad(slotsShare(f), 11)
                         + "\(f.dispatch.unexpectedReplies + f.ingest.unexpectedReplies)")
        }
        lines.append("group commit (coordinator's own figures, warm-up included): requests per batch, ms per commit (no fsync), µs deciding per request, ms per WAL sync × batches it released")
        for f in figures {
            lines.append("  \(pad("\(f.slots) slots", 10)) dispatch \(batchText(f.dispatchBatches))   ingest \(batchText(f.ingestBatches))")
        }
        for f in figures {
            if let first = f.dispatch.firstUnexpected ?? f.ingest.firstUnexpected {
                lines.append("  \(f.slots) slots, first unexpected reply: \(first)")
            }
        }
        if let at16 = figures.first(where: { $0.slots == 16 }) {
            lines.append("floors at 16 slots: trials/s \(format(at16.dispatch.trialsPerSecond, 0)) "
                         + "\(verdict(at16.dispatch.trialsPerSecond >= Self.trialsFloor)) ≥ 2,000; points/s \(format(at16.ingest.pointsPerSecond, 0)) "
                         + "\(verdict(at16.ingest.pointsPerSecond >= Self.pointsFloor)) ≥ 500,000; p99 \(optional(at16.dispatch.latencyPercentile(99), 2)) ms "
                         + "\(verdict((at16.dispatch.latencyPercentile(99) ?? .infinity) <= Self.p99CeilingMs)) ≤ 20")
        }
        lines.append("coordinator peak RSS (VmHWM, largest over the runs): \(optional(peakRSS, 1)) MB")
        lines.append("coord CPU / slots CPU: CPU time of the coordinator process / of this process (the simulated slots) during the dispatch/ingest windows, % of one core (the machine has \(ProcessInfo.processInfo.activeProcessorCount)).")
        lines.append("p50/p99 are Report → Ack round trips: the ack leaves only after the rows are committed, so they bound report → durable from above.")
        if let grid {
            lines.append("")
            lines.append("81-trial no-op grid (3^4, each trial reports a few metric points and ends):")
            lines.append("  thresher run --workers \(Grid81Comparison.workers)   \(format(grid.thresherSeconds, 2)) s")
            for (name, outcome) in grid.peers {
                switch outcome {
                case .measured(let seconds, let version):
                    lines.append("  \(pad(name + " " + version, 28)) \(format(seconds, 2)) s   thresher/\(name) = \(format(grid.thresherSeconds / seconds, 2))")
                case .unavailable(let why):
                    lines.append("  \(pad(name, 28)) \(why)")
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    

    func json() throws -> String {
        var object: [String: Any] = ["window_s": plan.window.seconds]
        for f in figures {
            object["trials_per_s_\(f.slots)"] = rounded(f.dispatch.trialsPerSecond, 1)
            object["points_per_s_\(f.slots)"] = rounded(f.ingest.pointsPerSecond, 0)
            if let p50 = f.dispatch.latencyPercentile(50) { object["p50_ms_\(f.slots)"] = rounded(p50, 3) }
            if let p99 = f.dispatch.latencyPercentile(99) { object["p99_ms_\(f.slots)"] = rounded(p99, 3) }
            if let p99 = f.ingest.latencyPercentile(99) { object["ingest_p99_ms_\(f.slots)"] = rounded(p99, 3) }
            if let cpu = f.dispatch.coordinatorCPUSeconds { object["coordinator_cpu_share_dispatch_\(f.slots)"] = rounded(cpu / f.dispatch.seconds, 3) }
            if let cpu = f.ingest.coordinatorCPUSeconds { object["coordinator_cpu_share_ingest_\(f.slots)"] = rounded(cpu / f.ingest.seconds, 3) }
            if let cpu = f.dispatch.slotsCPUSeconds { object["slots_cpu_share_dispatch_\(f.slots)"] = rounded(cpu / f.dispatch.seconds, 3) }
            if let cpu = f.ingest.slotsCPUSeconds { object["slots_cpu_share_ingest_\(f.slots)"] = rounded(cpu / f.ingest.seconds, 3) }
            for (phase, b) in [("dispatch", f.dispatchBatches), ("ingest", f.ingestBatches)] {
                guard let b else { continue }
                object["\(phase)_mean_batch_\(f.slots)"] = rounded(b.meanBatch, 2)
                object["\(phase)_commit_ms_\(f.slots)"] = rounded(b.commitMs, 3)
                object["\(phase)_decide_us_per_request_\(f.slots)"] = rounded(b.processingUs, 1)
                if let sync = b.syncMs { object["\(phase)_sync_ms_\(f.slots)"] = rounded(sync, 3) }
                if let perSync = b.batchesPerSync { object["\(phase)_batches_per_sync_\(f.slots)"] = rounded(perSync, 2) }
            }
            object["unexpected_replies_\(f.slots)"] = f.dispatch.unexpectedReplies + f.ingest.unexpectedReplies
        }
        if let peakRSS { object["rss_mb"] = rounded(peakRSS, 1) }
        if let grid {
            object["thresher_grid81_s"] = rounded(grid.thresherSeconds, 3)
            for (name, outcome) in grid.peers {
                guard let seconds = outcome.seconds else { continue }
                let key = name.replacingOccurrences(of: "-", with: "_")
                object["\(key)_grid81_s"] = rounded(seconds, 3)
                object["thresher_over_\(key)_grid81"] = rounded(grid.thresherSeconds / seconds, 3)
            }
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// The coordinator's CPU use in the dispatch and ingest windows, as % of one core.
    private func cpuShare(_ f: ClusterBenchmark.SlotFigures) -> String {
        let shares = [f.dispatch, f.ingest].map { w in w.coordinatorCPUSeconds.map { format(100 * $0 / w.seconds, 0) } ?? "?" }
        return shares.joined(separator: "/") + "%"
    }

    private func batchText(_ b: CoordinatorChild.BatchFigures?) -> String {
        guard let b else { return "n/a" }
        return "\(format(b.meanBatch, 1)) req, \(format(b.commitMs, 2)) ms, \(format(b.processingUs, 0)) µs, sync \(optional(b.syncMs, 2)) ms × \(optional(b.batchesPerSync, 1))"
    }

    /// The bench process's (simulated slots') CPU use in the two windows, as % of one core.
    private func slotsShare(_ f: ClusterBenchmark.SlotFigures) -> String {
        [f.dispatch, f.ingest].map { w in w.slotsCPUSeconds.map { format(100 * $0 / w.seconds, 0) } ?? "?" }.joined(separator: "/") + "%"
    }

    private func verdict(_ ok: Bool) -> String { ok ? "(meets)" : "(MISSES)" }
    private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s.padding(toLength: n, withPad: " ", startingAt: 0) }
    private func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
    private func optional(_ value: Double?, _ digits: Int) -> String { value.map { format($0, digits) } ?? "n/a" }
    private func rounded(_ value: Double, _ digits: Int) -> Double {
        let scale = pow(10.0, Double(digits))
        return (value * scale).rounded() / scale
    }
}
