import Foundation
import ThresherSweep

/// The soak's faults: which one comes next and when, drawn from one seeded generator, so a seed
/// names one sequence of faults (their effect still depends on the timing of real processes).
struct SoakFaultSchedule {
    /// One kind of fault the soak injects.
    enum Kind: String, CaseIterable {
        /// SIGKILL one worker process, restart it (same id and folder) a moment later.
        case workerKill = "worker SIGKILL + restart"
        /// SIGKILL the coordinator, restart it on the same state folder a moment later.
        case coordinatorKill = "coordinator SIGKILL + restart"
        /// Reset every connection through the proxy.
        case connectionCut = "proxy: every connection cut"
        /// Hold every byte through the proxy for a while shorter than the lease timeout.
        case stall = "proxy: stall"
        /// Every byte through the proxy held for longer than the lease timeout, then released: the
        /// proxied workers' leases run out, their trials go to other workers, and when the held
        /// bytes arrive their Reports are refused under the stale epochs (fencing).
        case partition = "proxy: stall longer than the lease"
        /// Every connection through the proxy cut and new ones refused (reset) for 1–3 s: the
        /// coordinator's host unreachable while the coordinator itself keeps running.
        case refuse = "proxy: connections refused"
        /// 100 ± 80 ms per chunk through the proxy for a few seconds.
        case delayBurst = "proxy: delay/jitter burst"
        /// iptables `statistic` DROP of 10–30 % of the packets of a worker host (a network
        /// namespace) for a few seconds; only where namespaces are permitted.
        case packetLoss = "netns: packet loss burst"
    }

    private var generator: SeededGenerator
    /// Relative weights: process kills are the most damaging, so rarer than network blips.
    private let weights: [(Kind, Int)]

    /// `packetLoss`: whether that kind is drawn (it needs a worker in a network namespace).
    init(seed: UInt64, packetLoss: Bool) {
        generator = SeededGenerator(seed: seed)
        weights = [(.workerKill, 3), (.coordinatorKill, 1), (.connectionCut, 3), (.stall, 2), (.partition, 1), (.refuse, 2), (.delayBurst, 2)]
            + (packetLoss ? [(.packetLoss, 2)] : [])
    }

    /// Seconds until the next fault: uniform in [`minimum`, `maximum`).
    mutating func nextPause(minimum: Double = 1.5, maximum: Double = 4) -> Double {
        minimum + generator.nextDouble() * (maximum - minimum)
    }

    /// The next fault's kind.
    mutating func nextKind() -> Kind {
        var pick = Int(generator.nextInt(below: UInt64(weights.reduce(0) { $0 + $1.1 })))
        for (kind, weight) in weights {
            if pick < weight { return kind }
            pick -= weight
        }
        return .connectionCut
    }

    /// A duration in [`low`, `high`) for the fault being injected (a restart delay, a stall).
    mutating func duration(_ low: Double, _ high: Double) -> Double { low + generator.nextDouble() * (high - low) }

    /// An index below `count` (which worker to kill).
    mutating func index(below count: Int) -> Int { Int(generator.nextInt(below: UInt64(count))) }
}
