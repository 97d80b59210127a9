import Foundation
import Synchronization
import ThresherNet
import ThresherWire

/// What one simulated trial sends: `reports` Reports of `pointsPerReport` metric records each,
/// then Done.
struct NoOpTrialShape: Sendable {
    var reports: Int
    var pointsPerReport: Int
}

/// Counts and latencies gathered by simulated slots during one measured window.
struct SlotWindowResult: Sendable {
    var seconds: Double
    var trials: Int
    var points: Int
    /// Report → Ack round trips, in milliseconds, of Reports sent inside the window.
    var reportLatenciesMs: [Double]
    /// Replies that were neither what the conversation expects (Assign/NoWork, Ack) nor a success.
    var unexpectedReplies: Int
    var firstUnexpected: String?
    /// CPU seconds the coordinator process used during the window, when known.
    var coordinatorCPUSeconds: Double?
    /// CPU seconds this process (the simulated slots) used during the window.
    var slotsCPUSeconds: Double?

    var trialsPerSecond: Double { Double(trials) / seconds }
    var pointsPerSecond: Double { Double(points) / seconds }

    func latencyPercentile(_ p: Double) -> Double? {
        guard !reportLatenciesMs.isEmpty else { return nil }
        let sorted = reportLatenciesMs.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}

/// Simulated worker slots speaking the real protocol to a coordinator over real NNG sockets: each
/// slot loops RequestTrial → Assign → Report × n → Done without running anything, so the figures
/// are the coordinator's (and the transport's) cost per trial and per metric point.
///
/// Slots are grouped 16 to a `ClusterClient` (one worker process with 16 slots); 1 slot is one
/// client. Counting happens only inside the measured window, after a warm-up: trials and points
/// whose acknowledgement arrived inside it, and latencies of Reports sent and acknowledged inside it.
struct SimulatedSlots {
    let url: String
    let token: ClusterToken
    let slots: Int
    let shape: NoOpTrialShape
    let label: String

    static let slotsPerClient = 16
    /// Generous: an overloaded coordinator should show up as low throughput and high latency, not abort the run.
    static let timeout: Duration = .seconds(120)

    /// `coordinatorCPU` reads the coordinator's CPU seconds so far (sampled at the window's edges).
    func measure(warmup: Duration, window: Duration, coordinatorCPU: @Sendable () -> Double? = { nil }) async throws -> SlotWindowResult {
        let clientCount = (slots + Self.slotsPerClient - 1) / Self.slotsPerClient
        var clients: [ClusterClient] = []
        defer { for client in clients { client.close() } }
        for i in 0..<clientCount {
            let share = min(Self.slotsPerClient, slots - i * Self.slotsPerClient)
            let client = try ClusterClient(connect: url, token: token,
                                           identity: WorkerIdentity(workerID: "bench-\(label)-\(i)", slots: UInt16(share)))
            try await client.handshake(timeout: .seconds(20))
            clients.append(client)
        }
        let gate = WindowGate()
        let batch = Self.batch(shape.pointsPerReport)
        let shape = self.shape
        let perSlot = try await withThrowingTaskGroup(of: SlotTally.self) { group in
            for slot in 0..<slots {
                let client = clients[slot / Self.slotsPerClient]
                group.addTask { try await Self.runSlot(client: client, gate: gate, shape: shape, batch: batch) }
            }
            let clock = ContinuousClock()
            try await Task.sleep(for: warmup)
            let start = clock.now
            let cpuBefore = coordinatorCPU()
            let ownBefore = Self.ownCPUSeconds()
            gate.open(at: start)
            try await Task.sleep(for: window)
            let end = clock.now
            gate.close(at: end)
            let cpuAfter = coordinatorCPU()
            let ownAfter = Self.ownCPUSeconds()
            var tallies: [SlotTally] = []
            for try await tally in group { tallies.append(tally) }
            return (tallies, (end - start).seconds, cpuAfter.flatMap { after in cpuBefore.map { after - $0 } }, ownAfter - ownBefore)
        }
        var result = SlotWindowResult(seconds: perSlot.1, trials: 0, points: 0, reportLatenciesMs: [], unexpectedReplies: 0,
                                      coordinatorCPUSeconds: perSlot.2, slotsCPUSeconds: perSlot.3)
        for tally in perSlot.0 {
            result.trials += tally.trials
            result.points += tally.points
            result.reportLatenciesMs += tally.latenciesMs
            result.unexpectedReplies += tally.unexpected
            if result.firstUnexpected == nil { result.firstUnexpected = tally.firstUnexpected }
        }
        return result
    }

    /// One slot's loop until the window closes.
    private static func runSlot(client: ClusterClient, gate: WindowGate, shape: NoOpTrialShape, batch: MetricBatch) async throws -> SlotTally {
        var tally = SlotTally()
        let clock = ContinuousClock()
        let timeout = Self.timeout
        while !gate.isClosed {
            let reply = try await client.send(.requestTrial(RequestTrial(freeSlots: 1)), timeout: timeout)
            guard case .assign(let assign) = reply else {
                if case .noWork = reply { try await Task.sleep(for: .milliseconds(5)); continue }
                tally.unexpected(reply)
                continue
            }
            var seq = UInt64(1)
            if case .int(let first)? = assign.run["first_seq"], first > 0 { seq = UInt64(first) }
            var stopped = false
            for _ in 0..<shape.reports {
                // After the window nothing is counted: leave the trial unfinished (its coordinator
                // is about to be stopped) instead of waiting for a long ingest to drain.
                if gate.isClosed { return tally }
                let sent = clock.now
                let ack = try await client.send(.report(Report(trialID: assign.trialID, leaseEpoch: assign.leaseEpoch, seq: seq, batch: batch)), timeout: timeout)
                let received = clock.now
                seq += 1
                guard case .ack(let a) = ack else { tally.unexpected(ack); stopped = true; break }
                // Throughput counts every ack received inside the window; latency only exchanges
                // that both started and ended in it.
                if gate.contains(received, received) { tally.points += batch.records.count }
                if gate.contains(sent, received) { tally.latenciesMs.append((received - sent).seconds * 1000) }
                if a.verdicts.contains(where: { if case .stop = $0.verdict { $0.trialID == assign.trialID } else { false } }) {
                    stopped = true
                    break
                }
            }
            if stopped { continue }
            let done = try await client.send(.done(Done(trialID: assign.trialID, leaseEpoch: assign.leaseEpoch,
                                                        finalStep: Int64(shape.reports), finalMetrics: [])), timeout: timeout)
            guard case .ack = done else { tally.unexpected(done); continue }
            let finished = clock.now
            if gate.contains(finished, finished) { tally.trials += 1 }
        }
        return tally
    }

    /// User + system CPU seconds of this process so far.
    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// The metric records every Report carries: `count` values of "loss" at increasing steps.
    static func batch(_ count: Int) -> MetricBatch {
        MetricBatch(records: (0..<count).map { i in MetricRecord(step: Int64(i + 1), name: "loss", value: 1.0 / Double(i + 1)) })
    }
}

/// One slot's counts.
private struct SlotTally: Sendable {
    var trials = 0
    var points = 0
    var latenciesMs: [Double] = []
    var unexpected = 0
    var firstUnexpected: String?

    mutating func unexpected(_ reply: Message) {
        unexpected += 1
        if firstUnexpected == nil { firstUnexpected = "\(reply)" }
    }
}

/// The measured window, shared by every slot: opened after the warm-up, closed at its end.
private final class WindowGate: Sendable {
    private let bounds = Mutex<(start: ContinuousClock.Instant?, end: ContinuousClock.Instant?)>((nil, nil))

    func open(at instant: ContinuousClock.Instant) { bounds.withLock { $0.start = instant } }
    func close(at instant: ContinuousClock.Instant) { bounds.withLock { $0.end = instant } }
    var isClosed: Bool { bounds.withLock { $0.end != nil } }

    /// True when [from, to] lies inside the window.
    func contains(_ from: ContinuousClock.Instant, _ to: ContinuousClock.Instant) -> Bool {
        bounds.withLock { b in
            guard let start = b.start, from >= start else { return false }
            if let end = b.end { return to <= end }
            return true
        }
    }
}
