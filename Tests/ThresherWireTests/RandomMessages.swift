@testable import ThresherWire

/// Random messages of every type from a seeded generator, for round-trip and mutation tests.
///
/// Strings mix ASCII, accented letters, CJK, emoji and NUL; parameter values nest up to a few
/// levels; about one report in twenty is large enough to be compressed. Doubles include
/// infinities, -0.0 and NaN (compare NaN-carrying messages by their bytes, not with `==`).
struct RandomMessages {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func message() -> Message {
        let type = MessageType.allCases.randomElement(using: &rng) ?? .hello
        return message(of: type)
    }

    mutating func message(of type: MessageType) -> Message {
        switch type {
        case .hello:
            .hello(Hello(workerID: string(), slots: .random(in: .min ... .max, using: &rng),
                         capabilities: array(max: 4) { $0.string() }, clientNonce: digest()))
        case .challenge: .challenge(Challenge(serverNonce: digest()))
        case .proof: .proof(Proof(mac: digest()))
        case .welcome:
            .welcome(Welcome(sessionID: u64(), serverMac: digest(), heartbeatIntervalMs: u32(), leaseTimeoutMs: u32()))
        case .rejected: .rejected(Rejected(reason: pick(RejectReason.allCases), detail: string()))
        case .requestTrial: .requestTrial(RequestTrial(freeSlots: .random(in: .min ... .max, using: &rng)))
        case .assign:
            .assign(Assign(sweepID: u64(), trialID: u64(), leaseEpoch: u64(), params: paramMap(depth: 0),
                           run: paramMap(depth: 0),
                           resumeFrom: bool() ? ResumePoint(step: i64(), digest: digest(), byteCount: u64()) : nil))
        case .noWork: .noWork(NoWork(reason: pick(NoWorkReason.allCases), retryAfterMs: u32()))
        case .report:
            .report(Report(trialID: u64(), leaseEpoch: u64(), seq: u64(), batch: MetricBatch(records: records())))
        case .ack:
            .ack(Ack(ackedSeq: u64(), verdicts: array(max: 6) { TrialVerdict(trialID: $0.u64(), verdict: $0.verdict()) }))
        case .heartbeat:
            .heartbeat(Heartbeat(trials: array(max: 8) { HeldTrial(trialID: $0.u64(), leaseEpoch: $0.u64(), step: $0.i64()) }))
        case .checkpointChunk:
            .checkpointChunk(CheckpointChunk(
                trialID: u64(), leaseEpoch: u64(), step: i64(), offset: u64(), totalBytes: u64(), digest: digest(),
                data: chunkData()))
        case .chunkAck:
            .chunkAck(ChunkAck(trialID: u64(), step: i64(), nextOffset: u64(), status: pick(ChunkStatus.allCases)))
        case .done: .done(Done(trialID: u64(), leaseEpoch: u64(), finalStep: i64(), finalMetrics: records()))
        case .failed:
            .failed(Failed(trialID: u64(), leaseEpoch: u64(), reason: string(), exitCode: bool() ? .random(in: .min ... .max, using: &rng) : nil))
        case .submitSweep:
            .submitSweep(SubmitSweep(fileText: string(maxLength: 200), fileName: string(), baseDirectory: string(),
                                     name: bool() ? string() : nil, priority: .random(in: .min ... .max, using: &rng)))
        case .sweepSubmitted: .sweepSubmitted(SweepSubmitted(sweepID: u64(), name: string(), created: bool()))
        case .statusRequest: .statusRequest(StatusRequest(sweep: bool() ? string() : nil))
        case .statusReply: .statusReply(StatusReply(json: string(maxLength: 300)))
        case .stopRequest:
            .stopRequest(StopRequest(target: bool() ? .sweep(string()) : .trial(u64()), reason: string()))
        case .stopReply: .stopReply(StopReply(sweepID: u64(), cancelled: u32(), stopped: u32(), detail: string()))
        case .exportRequest: .exportRequest(ExportRequest(sweep: string(), after: cursor(), limit: u32()))
        case .exportPage:
            .exportPage(ExportPage(
                sweepID: u64(),
                trials: array(max: 4) { ExportTrial(trialID: $0.u64(), index: $0.i64(), state: $0.string(), params: $0.paramMap(depth: 0)) },
                rows: array(max: 40) { ExportRow(trialID: $0.u64(), seq: $0.u64(), step: $0.i64(), name: $0.string(maxLength: 8),
                                                 value: $0.double(), time: $0.double()) },
                next: cursor(), complete: bool()))
        case .bestRequest: .bestRequest(BestRequest(sweep: string(), count: u32()))
        case .bestCheckpoints:
            .bestCheckpoints(BestCheckpoints(
                sweepID: u64(), sweepName: string(), metric: string(),
                checkpoints: array(max: 4) {
                    BestCheckpoint(trialID: $0.u64(), trialIndex: $0.i64(), step: $0.i64(), value: $0.bool() ? $0.double() : nil,
                                   byteCount: $0.u64(), digest: $0.digest(), params: $0.paramMap(depth: 0))
                }))
        case .blobRead: .blobRead(BlobRead(digest: digest(), offset: u64(), maxBytes: u32()))
        case .blobData: .blobData(BlobData(digest: digest(), offset: u64(), totalBytes: u64(), data: chunkData()))
        case .reportRequest: .reportRequest(ReportRequest(sweep: string()))
        case .reportReply: .reportReply(ReportReply(html: string(maxLength: 300)))
        case .error: .error(ErrorReply(code: pick(ErrorCode.allCases), detail: string()))
        }
    }

    // MARK: Pieces

    mutating func u64() -> UInt64 { edgeBiased(UInt64.random(in: .min ... .max, using: &rng), edges: [0, 1, .max]) }
    mutating func u32() -> UInt32 { edgeBiased(UInt32.random(in: .min ... .max, using: &rng), edges: [0, .max]) }
    mutating func i64() -> Int64 { edgeBiased(Int64.random(in: .min ... .max, using: &rng), edges: [0, -1, .min, .max]) }
    mutating func bool() -> Bool { Bool.random(using: &rng) }
    mutating func cursor() -> ExportCursor { ExportCursor(trialID: u64(), seq: u64(), position: u32()) }

    mutating func double() -> Double {
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: pick([0.0, -0.0, .infinity, -.infinity, .nan, .ulpOfOne, .leastNonzeroMagnitude, .greatestFiniteMagnitude])
        case 1: Double(bitPattern: rng.next())
        default: Double.random(in: -1e6...1e6, using: &rng)
        }
    }

    mutating func digest() -> Digest32 { Digest32(unchecked: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }) }

    private static let alphabet: [String] = [
        "a", "b", "z", "0", "_", "-", " ", "é", "ß", "Ω", "日", "本", "語", "🙂", "👩‍💻", "\u{0}", "\n", "e\u{301}",
    ]

    mutating func string(maxLength: Int = 24) -> String {
        let length = Int.random(in: 0...maxLength, using: &rng)
        return (0..<length).map { _ in pick(Self.alphabet) }.joined()
    }

    mutating func verdict() -> Verdict {
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: .proceed
        case 1: .stop(reason: string())
        default: .upload(step: i64())
        }
    }

    mutating func records() -> [MetricRecord] {
        let names = array(max: 5) { $0.string(maxLength: 10) }
        guard !names.isEmpty else { return [] }
        // Mostly small batches; sometimes thousands of records, which the codec compresses.
        let count = Int.random(in: 0..<20, using: &rng) == 0 ? Int.random(in: 200...3000, using: &rng)
            : Int.random(in: 0...12, using: &rng)
        var records: [MetricRecord] = []
        records.reserveCapacity(count)
        for step in 0..<count {
            let value = Int.random(in: 0..<4, using: &rng) == 0 ? double() : Double(step % 97) / 8
            records.append(MetricRecord(step: Int64(step / names.count), name: pick(names), value: value))
        }
        return records
    }

    mutating func chunkData() -> [UInt8] {
        let count = Int.random(in: 0..<10, using: &rng) == 0 ? Int.random(in: 1024...8192, using: &rng)
            : Int.random(in: 0...64, using: &rng)
        let repetitive = bool()
        return (0..<count).map { i in repetitive ? UInt8(truncatingIfNeeded: i / 16) : UInt8.random(in: 0...255, using: &rng) }
    }

    mutating func paramValue(depth: Int) -> ParamValue {
        let choice = Int.random(in: 0..<(depth < 4 ? 7 : 5), using: &rng)
        switch choice {
        case 0: return .null
        case 1: return .bool(bool())
        case 2: return .int(i64())
        case 3: return .double(double())
        case 4: return .string(string())
        case 5: return .list(array(max: 4) { $0.paramValue(depth: depth + 1) })
        default: return .map(paramMap(depth: depth + 1))
        }
    }

    mutating func paramMap(depth: Int) -> ParamMap {
        let count = Int.random(in: 0...5, using: &rng)
        var map = ParamMap()
        for _ in 0..<count { map[string(maxLength: 8)] = paramValue(depth: depth) }
        return map
    }

    // MARK: Helpers

    mutating func array<T>(max: Int, _ element: (inout RandomMessages) -> T) -> [T] {
        let count = Int.random(in: 0...max, using: &rng)
        var result: [T] = []
        for _ in 0..<count { result.append(element(&self)) }
        return result
    }

    mutating func pick<T>(_ choices: [T]) -> T {
        choices[Int.random(in: 0..<choices.count, using: &rng)]
    }

    private mutating func edgeBiased<T>(_ value: T, edges: [T]) -> T {
        Int.random(in: 0..<8, using: &rng) == 0 ? pick(edges) : value
    }
}
