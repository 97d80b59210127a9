import Foundation
import Logging
import ThresherNet
import ThresherSweep
import ThresherWire

/// The measurements behind `thresher bench wire`.
struct WireBenchmark {
    struct Plan {
        var quick: Bool
        var zstdLevel: Int32
        var rounds: Int
        var codecIterations: Int { quick ? 300 : 3000 }
        var roundTrips: Int { quick ? 300 : 1000 }
        var bulkChunks: Int { quick ? 64 : 512 }
    }

    struct RoundTrip {
        var payload: Int
        var thresher: Duration   // median time per round trip
        var bare: Duration
        var ratio: Double { thresher / bare }
    }

    struct Result {
        var plan: Plan
        var reportBytes: Int
        var encodeMBs: Double, decodeMBs: Double
        var encodeMsgs: Double, decodeMsgs: Double
        var zstdRatio: Double, zstdCompressMBs: Double, zstdDecompressMBs: Double
        var roundTrips: [RoundTrip]
        var bulkMBs: Double
        var bareBulkMBs: Double
        /// A Report of 100 records through ClusterClient → ClusterServer → Ack: framing, CRC,
        /// session lookup and the client actor on top of the transport.
        var stackReportRTT: Duration
    }

    let plan: Plan

    func run() async throws -> Result {
        let report = Self.sampleReport()
        let plain = FrameCodec(compressionThreshold: Int.max)
        let frame = try plain.encode(.report(report))

        let encodeTime = Self.time(plan.codecIterations) { _ = try? plain.encode(.report(report)) }
        let decodeTime = Self.time(plan.codecIterations) { _ = try? plain.decode(frame) }
        let (ratio, compressMBs, decompressMBs) = try zstdFigures(report)

        var roundTrips: [RoundTrip] = []
        for payload in [64, 64 * 1024] {
            roundTrips.append(try await measureRoundTrips(payload: payload))
        }
        let (bulk, bareBulk) = try await measureBulk()
        let stack = try await measureFullStack()

        let mb = Double(frame.count) / 1e6
        return Result(
            plan: plan, reportBytes: frame.count,
            encodeMBs: mb * Double(plan.codecIterations) / encodeTime.seconds,
            decodeMBs: mb * Double(plan.codecIterations) / decodeTime.seconds,
            encodeMsgs: Double(plan.codecIterations) / encodeTime.seconds,
            decodeMsgs: Double(plan.codecIterations) / decodeTime.seconds,
            zstdRatio: ratio, zstdCompressMBs: compressMBs, zstdDecompressMBs: decompressMBs,
            roundTrips: roundTrips, bulkMBs: bulk, bareBulkMBs: bareBulk, stackReportRTT: stack)
    }

    /// A Report of 1,000 records as a training loop produces them: a few names, rising steps.
    static func sampleReport() -> Report {
        let names = ["train/loss", "train/accuracy", "val/loss", "val/balanced_accuracy", "lr"]
        var records: [MetricRecord] = []
        var rng = SeededGenerator(seed: 42)
        for i in 0..<1000 {
            let step = Int64(i / names.count * 10)
            let value = 1.0 / Double(step + 1) + Double(rng.next() % 1000) / 1e5
            records.append(MetricRecord(step: step, name: names[i % names.count], value: value))
        }
        return Report(trialID: 17, leaseEpoch: 3, seq: 99, batch: MetricBatch(records: records))
    }

    private func zstdFigures(_ report: Report) throws -> (ratio: Double, compressMBs: Double, decompressMBs: Double) {
        let plain = FrameCodec(compressionThreshold: Int.max)
        let packed = FrameCodec(compressionThreshold: 0, compressionLevel: plan.zstdLevel)
        let raw = try plain.encode(.report(report))
        let compressed = try packed.encode(.report(report))
        let n = plan.codecIterations
        let c = Self.time(n) { _ = try? packed.encode(.report(report)) }
        let d = Self.time(n) { _ = try? packed.decode(compressed) }
        let mb = Double(raw.count) / 1e6
        return (Double(raw.count) / Double(compressed.count), mb * Double(n) / c.seconds, mb * Double(n) / d.seconds)
    }

    /// Alternates bare NNG and ThresherNet echo round trips over tcp loopback; medians per stack.
    private func measureRoundTrips(payload: Int) async throws -> RoundTrip {
        let bytes = [UInt8](repeating: 0xA5, count: payload)
        let echo = try await EchoPair.start()
        defer { echo.stop() }
        var ours: [Duration] = [], bare: [Duration] = []
        // Warm-up: connection set-up and first-touch allocations out of the figures.
        _ = try await echo.roundTrips(bytes, count: 50)
        let bareURL = "tcp://127.0.0.1:\(try LoopbackPort.free())"
        for _ in 0..<plan.rounds {
            bare.append(try NNGBaseline.roundTrip(url: bareURL, payloadBytes: payload, count: plan.roundTrips, warmup: 50))
            ours.append(try await echo.roundTrips(bytes, count: plan.roundTrips))
        }
        return RoundTrip(payload: payload, thresher: Self.median(ours), bare: Self.median(bare))
    }

    private func measureBulk() async throws -> (Double, Double) {
        let chunk = [UInt8](repeating: 0x3C, count: 1 << 20)
        let sink = try await EchoPair.start(replyBytes: 8)
        defer { sink.stop() }
        _ = try await sink.roundTrips(chunk, count: 8)
        let t = try await sink.roundTrips(chunk, count: plan.bulkChunks)
        let bare = try NNGBaseline.upload(url: "tcp://127.0.0.1:\(try LoopbackPort.free())", messageBytes: chunk.count, count: plan.bulkChunks, warmup: 8)
        let mb = Double(chunk.count) / 1e6
        return (mb / t.seconds, mb / bare.seconds)
    }

    private func measureFullStack() async throws -> Duration {
        let token = try ClusterToken(ClusterToken.random())
        var quiet = Logger(label: "thresher.bench")
        quiet.logLevel = .warning
        let server = try ClusterServer(listen: ["tcp://127.0.0.1:0"], token: token, options: ClusterServerOptions(logger: quiet))
        guard let port = server.transport.port else { throw BenchError("cluster server did not report its port") }
        let serving = Task { await server.serve { _, _ in .ack(Ack(ackedSeq: 1, verdicts: [])) } }
        let client = try ClusterClient(connect: "tcp://127.0.0.1:\(port)", token: token,
                                       identity: WorkerIdentity(workerID: "bench", slots: 1))
        defer { client.close(); server.close(); serving.cancel() }
        let full = Self.sampleReport()
        let report = Message.report(Report(trialID: full.trialID, leaseEpoch: full.leaseEpoch, seq: full.seq,
                                           batch: MetricBatch(records: Array(full.batch.records.prefix(100)))))
        try await client.handshake()
        let clock = ContinuousClock()
        var times: [Duration] = []
        for _ in 0..<plan.rounds {
            let start = clock.now
            for _ in 0..<plan.roundTrips { _ = try await client.send(report) }
            times.append((clock.now - start) / plan.roundTrips)
        }
        return Self.median(times)
    }

    static func time(_ n: Int, _ body: () -> Void) -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<n { body() }
        return clock.now - start
    }

    static func median(_ xs: [Duration]) -> Duration {
        let s = xs.sorted()
        return s[s.count / 2]
    }
}

/// A ThresherNet REP server answering every request on tcp loopback, and one client.
private struct EchoPair {
    let server: ReplyServer
    let client: RequestClient
    let serving: Task<Void, Never>

    static func start(replyBytes: Int? = nil) async throws -> EchoPair {
        let server = try ReplyServer(listen: ["tcp://127.0.0.1:0"], options: TransportOptions())
        guard let port = server.port else { throw BenchError("echo server did not report its port") }
        let fixed = replyBytes.map { [UInt8](repeating: 0, count: $0) }
        let serving = Task { await server.serve(contexts: 4) { request in fixed ?? request.bytes } }
        let client = try RequestClient(dial: "tcp://127.0.0.1:\(port)", options: TransportOptions())
        return EchoPair(server: server, client: client, serving: serving)
    }

    /// Time per round trip over `count` sequential requests.
    func roundTrips(_ bytes: [UInt8], count: Int) async throws -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<count {
            let reply = try await client.request(bytes, timeout: .seconds(10))
            guard !reply.isEmpty else { throw BenchError("empty reply") }
        }
        return (clock.now - start) / count
    }

    func stop() {
        client.close()
        server.close()
        serving.cancel()
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on right now (bind to port 0, read it, close).
enum LoopbackPort {
    static func free() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket(): errno \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw BenchError("cannot bind a loopback port: errno \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
