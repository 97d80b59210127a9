import XCTest
@testable import ThresherWire

extension ByteWriter {
    /// A length-prefixed string, for hand-built test payloads.
    mutating func string(_ value: String) {
        writeU32(UInt32(value.utf8.count))
        writeRaw(Array(value.utf8))
    }

    /// A counted array of strings, for hand-built test payloads.
    mutating func strings(_ values: [String]) {
        writeU32(UInt32(values.count))
        for value in values { string(value) }
    }
}

/// One test (at least) per payload-level `WireError` case. Every frame here has a correct
/// checksum, so the payload parser itself is what rejects it.
final class PayloadErrorTests: XCTestCase {
    private let codec = FrameCodec()

    private func decode(_ type: MessageType, _ build: (inout ByteWriter) -> Void) throws(WireError) -> Message {
        var writer = ByteWriter()
        build(&writer)
        return try codec.decode(TestFrames.frame(type: type, payload: writer.bytes))
    }

    func testInvalidUTF8() {
        XCTAssertWireError(.invalidUTF8(field: "Hello.workerID")) {
            try decode(.hello) { w in w.writeU32(2); w.writeRaw([0xC3, 0x28]) }
        }
        XCTAssertWireError(.invalidUTF8(field: "ErrorReply.detail")) {
            try decode(.error) { w in w.writeU8(1); w.writeU32(1); w.writeRaw([0xFF]) }
        }
    }

    func testInvalidBool() {
        XCTAssertWireError(.invalidBool(field: "Failed.exitCode", value: 2)) {
            try decode(.failed) { w in w.writeU64(1); w.writeU64(1); w.string("x"); w.writeU8(2) }
        }
        XCTAssertWireError(.invalidBool(field: "ParamValue.bool", value: 7)) {
            try decode(.assign) { w in
                w.writeU64(1); w.writeU64(1); w.writeU64(1)
                w.writeU32(1); w.string("flag"); w.writeU8(1); w.writeU8(7)
            }
        }
    }

    func testUnknownEnumValue() {
        XCTAssertWireError(.unknownEnumValue(field: "Rejected.reason", value: 99)) {
            try decode(.rejected) { w in w.writeU8(99); w.writeU32(0); w.writeU16(0) }
        }
        XCTAssertWireError(.unknownEnumValue(field: "Verdict.kind", value: 3)) {
            try decode(.ack) { w in w.writeU64(0); w.writeU32(1); w.writeU64(5); w.writeU8(3) }
        }
        XCTAssertWireError(.unknownEnumValue(field: "ChunkAck.status", value: 0)) {
            try decode(.chunkAck) { w in w.writeU64(1); w.writeI64(1); w.writeU64(1); w.writeU8(0) }
        }
        XCTAssertWireError(.unknownEnumValue(field: "ParamValue.tag", value: 9)) {
            try decode(.assign) { w in
                w.writeU64(1); w.writeU64(1); w.writeU64(1)
                w.writeU32(1); w.string("x"); w.writeU8(9)
            }
        }
    }

    func testForgedArrayCountFailsBeforeAllocating() {
        // 4 billion held trials promised, 8 bytes present.
        XCTAssertWireError(.countExceedsInput(field: "Heartbeat.trials", count: 0xFFFF_FFFF, remaining: 8)) {
            try decode(.heartbeat) { w in w.writeU32(0xFFFF_FFFF); w.writeU64(0) }
        }
        XCTAssertWireError(.countExceedsInput(field: "MetricBatch.records", count: 2, remaining: 21)) {
            try decode(.report) { w in
                w.writeU64(1); w.writeU64(1); w.writeU64(1)
                w.writeU32(0); w.writeU32(2); w.writeRaw([UInt8](repeating: 0, count: 21))
            }
        }
        XCTAssertWireError(.countExceedsInput(field: "ParamValue.list", count: 1 << 30, remaining: 0)) {
            try decode(.assign) { w in
                w.writeU64(1); w.writeU64(1); w.writeU64(1)
                w.writeU32(1); w.string("x"); w.writeU8(5); w.writeU32(1 << 30)
            }
        }
    }

    func testDuplicateMapKey() {
        XCTAssertWireError(.duplicateMapKey("lr")) {
            try decode(.assign) { w in
                w.writeU64(1); w.writeU64(1); w.writeU64(1)
                w.writeU32(2)
                w.string("lr"); w.writeU8(0)
                w.string("lr"); w.writeU8(0)
            }
        }
    }

    func testNestingTooDeepOnDecode() {
        let limit = WireLimits.defaultMaxNesting
        // The params map is level 1; each list one more: `limit` lists make limit + 1 levels.
        XCTAssertWireError(.nestingTooDeep(limit: limit)) {
            try decode(.assign) { w in
                w.writeU64(1); w.writeU64(1); w.writeU64(1)
                w.writeU32(1); w.string("deep")
                for _ in 0..<limit { w.writeU8(5); w.writeU32(1) }
                w.writeU8(0)
            }
        }
    }

    func testNestingAtTheLimitIsAccepted() throws {
        var value = ParamValue.null
        for _ in 0..<(WireLimits.defaultMaxNesting - 1) { value = .list([value]) }
        let message = Message.assign(Assign(sweepID: 1, trialID: 1, leaseEpoch: 1, params: ["v": value], run: [:], resumeFrom: nil))
        XCTAssertEqual(try codec.decode(codec.encode(message)), message)
        let deeper = Message.assign(Assign(sweepID: 1, trialID: 1, leaseEpoch: 1, params: ["v": .list([value])], run: [:], resumeFrom: nil))
        XCTAssertWireError(.nestingTooDeep(limit: WireLimits.defaultMaxNesting)) { try codec.encode(deeper) }
    }

    func testMetricNameIndexOutOfRange() {
        XCTAssertWireError(.metricNameIndexOutOfRange(index: 1, nameCount: 1)) {
            try decode(.done) { w in
                w.writeU64(1); w.writeU64(1); w.writeI64(1)
                w.strings(["loss"])
                w.writeU32(1); w.writeI64(0); w.writeU32(1); w.writeF64(0)
            }
        }
    }

    func testValueTooLarge() {
        var writer = ByteWriter()
        let count = Int(UInt32.max) + 1
        XCTAssertWireError(.valueTooLarge(field: "CheckpointChunk.data", count: count)) {
            try writer.writeCount(count, field: "CheckpointChunk.data")
        }
    }

    func testStringLengthPastTheEndIsTruncated() {
        XCTAssertWireError(.truncated(needed: 1000, available: 3)) {
            try decode(.rejected) { w in w.writeU8(1); w.writeU32(1000); w.writeRaw([1, 2, 3]) }
        }
    }
}
