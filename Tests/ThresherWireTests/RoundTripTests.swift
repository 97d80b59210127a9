import XCTest
@testable import ThresherWire

/// decode(encode(m)) == m for many random messages of every type, from a fixed seed.
final class RoundTripTests: XCTestCase {
    private let codec = FrameCodec()

    func testTenThousandRandomMessagesRoundTrip() throws {
        var generator = RandomMessages(seed: 0x7448_5257_0001)
        var perType: [MessageType: Int] = [:]
        var compressed = 0
        for index in 0..<10_000 {
            let message = generator.message()
            let frame = try codec.encode(message)
            let decoded = try codec.decode(frame)
            // Byte equality also covers NaN payloads and -0.0, which `==` on Double cannot.
            let again = try codec.encode(decoded)
            guard again == frame else {
                return XCTFail("message #\(index) (\(message.type)) does not round-trip:\n\(message)\n\(decoded)")
            }
            if !containsNaN(message) { XCTAssertEqual(decoded, message, "message #\(index)") }
            perType[message.type, default: 0] += 1
            if frame[7] & FrameFlags.compressed.rawValue != 0 { compressed += 1 }
        }
        XCTAssertEqual(Set(perType.keys), Set(MessageType.allCases), "every type generated")
        XCTAssertGreaterThan(compressed, 50, "big batches should be compressed")
    }

    func testEncodingIsDeterministic() throws {
        var a = RandomMessages(seed: 99), b = RandomMessages(seed: 99)
        for _ in 0..<200 {
            XCTAssertEqual(try codec.encode(a.message()), try codec.encode(b.message()))
        }
    }

    func testMetricNamesAreInternedInFirstAppearanceOrder() throws {
        let batch = MetricBatch(records: [
            MetricRecord(step: 1, name: "b", value: 1), MetricRecord(step: 1, name: "a", value: 2),
            MetricRecord(step: 2, name: "b", value: 3),
        ])
        var writer = ByteWriter()
        try batch.encode(to: &writer)
        var reader = ByteReader(writer.bytes)
        XCTAssertEqual(try reader.readStrings(field: "names"), ["b", "a"])
        XCTAssertEqual(try reader.readU32(), 3)
        let indices: [UInt32] = try (0..<3).map { _ in
            _ = try reader.readI64(); let index = try reader.readU32(); _ = try reader.readF64(); return index
        }
        XCTAssertEqual(indices, [0, 1, 0])
    }

    func testCompressionOnlyWhenItPays() throws {
        // Random bytes do not compress: sent plain even above the threshold.
        var rng = SplitMix64(seed: 5)
        let noise = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let chunk = CheckpointChunk(trialID: 1, leaseEpoch: 1, step: 1, offset: 0, totalBytes: 4096, digest: .zero, data: noise)
        XCTAssertEqual(try codec.encode(.checkpointChunk(chunk))[7], 0)
        // Zeros compress well: compressed above the threshold, plain below it.
        var zeros = chunk
        zeros.data = [UInt8](repeating: 0, count: 4096)
        XCTAssertEqual(try codec.encode(.checkpointChunk(zeros))[7], 1)
        XCTAssertEqual(try FrameCodec(compressionThreshold: 8192).encode(.checkpointChunk(zeros))[7], 0)
        XCTAssertEqual(try codec.decode(codec.encode(.checkpointChunk(zeros))), .checkpointChunk(zeros))
    }

    func testHigherMinorVersionAndUnknownExtensionsAreAccepted() throws {
        // A 1.3 peer appends two extension entries this build does not know.
        var writer = ByteWriter()
        try RequestTrial(freeSlots: 3).encode(to: &writer)
        writer.writeU16(2)
        writer.writeU16(0x0001); writer.writeU32(3); writer.writeRaw([1, 2, 3])
        writer.writeU16(0xBEEF); writer.writeU32(0)
        let frame = TestFrames.frame(type: .requestTrial, payload: writer.bytes, minor: 3)
        XCTAssertEqual(try codec.decode(frame), .requestTrial(RequestTrial(freeSlots: 3)))
    }

    func testHeaderFirstDecoding() throws {
        let frame = try codec.encode(Samples.assign)
        let header = try FrameHeader(parsing: Array(frame.prefix(16)))
        XCTAssertEqual(header.type, .assign)
        XCTAssertEqual(header.frameByteCount, frame.count)
        XCTAssertEqual(header.serialized, Array(frame.prefix(16)))
        XCTAssertEqual(try codec.decodePayload(Array(frame.dropFirst(16)), header: header), Samples.assign)
        XCTAssertEqual(try frame.withUnsafeBytes { try codec.decode($0) }, Samples.assign)
    }

    private func containsNaN(_ message: Message) -> Bool {
        func nan(_ value: ParamValue) -> Bool {
            switch value {
            case let .double(d): d.isNaN
            case let .list(values): values.contains(where: nan)
            case let .map(map): map.entries.contains { nan($0.value) }
            default: false
            }
        }
        switch message {
        case let .assign(a): return a.params.entries.contains { nan($0.value) } || a.run.entries.contains { nan($0.value) }
        case let .report(r): return r.batch.records.contains { $0.value.isNaN }
        case let .done(d): return d.finalMetrics.contains { $0.value.isNaN }
        case let .exportPage(p):
            return p.rows.contains { $0.value.isNaN || $0.time.isNaN } || p.trials.contains { $0.params.entries.contains { nan($0.value) } }
        case let .bestCheckpoints(b):
            return b.checkpoints.contains { ($0.value?.isNaN ?? false) || $0.params.entries.contains { nan($0.value) } }
        default: return false
        }
    }
}
