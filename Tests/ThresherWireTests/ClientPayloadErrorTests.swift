import XCTest
@testable import ThresherWire

/// Malformed client messages: every frame has a correct checksum, so the payload parser is what
/// rejects it, with the error docs/protocol.md names.
final class ClientPayloadErrorTests: XCTestCase {
    private let codec = FrameCodec()

    private func decode(_ type: MessageType, _ build: (inout ByteWriter) -> Void) throws(WireError) -> Message {
        var writer = ByteWriter()
        build(&writer)
        return try codec.decode(TestFrames.frame(type: type, payload: writer.bytes))
    }

    func testEveryClientMessageRoundTripsAndRejectsEachTruncation() throws {
        let samples: [Message] = [
            Samples.submitSweep, Samples.sweepSubmitted, Samples.statusRequest, Samples.statusReply, Samples.stopRequest,
            Samples.stopReply, Samples.exportRequest, Samples.exportPage, Samples.bestRequest, Samples.bestCheckpoints,
            Samples.blobRead, Samples.blobData, Samples.reportRequest, Samples.reportReply,
        ]
        for message in samples {
            XCTAssertEqual(try codec.decode(codec.encode(message)), message)
            // Every proper prefix of the payload is refused (never a trap, never a wrong message).
            let payload = try TestFrames.payload(message)
            for cut in 0..<payload.count {
                XCTAssertThrowsError(try codec.decode(TestFrames.frame(type: message.type, payload: Array(payload[0..<cut]))),
                                     "\(message.type) cut at \(cut)")
            }
            XCTAssertWireError(.trailingBytes(count: 1)) {
                try codec.decode(TestFrames.frame(type: message.type, payload: payload + [0]))
            }
        }
    }

    func testUnknownStopTargetKindAndBadPresenceBytes() {
        XCTAssertWireError(.unknownEnumValue(field: "StopTarget.kind", value: 3)) {
            try decode(.stopRequest) { w in w.writeU8(3); w.writeU64(1); w.string("x"); w.writeU16(0) }
        }
        XCTAssertWireError(.invalidBool(field: "StatusRequest.sweep", value: 2)) {
            try decode(.statusRequest) { w in w.writeU8(2); w.writeU16(0) }
        }
        XCTAssertWireError(.invalidBool(field: "ExportPage.complete", value: 7)) {
            try decode(.exportPage) { w in
                w.writeU64(1); w.writeU32(0); w.writeU32(0)
                w.writeU64(0); w.writeU64(0); w.writeU32(0)
                w.writeU8(7); w.writeU16(0)
            }
        }
        XCTAssertWireError(.invalidUTF8(field: "SubmitSweep.fileText")) {
            try decode(.submitSweep) { w in w.writeU32(2); w.writeRaw([0xC3, 0x28]) }
        }
    }

    func testForgedCountsFailBeforeAllocating() {
        // Each element needs at least its minimum size (docs/protocol.md §5.1): 44 per export row,
        // 24 per export trial, 69 per best checkpoint.
        XCTAssertWireError(.countExceedsInput(field: "ExportPage.rows", count: 2, remaining: 87)) {
            try decode(.exportPage) { w in
                w.writeU64(1); w.writeU32(0); w.writeU32(2)
                w.writeRaw([UInt8](repeating: 0, count: 87))
            }
        }
        XCTAssertWireError(.countExceedsInput(field: "ExportPage.trials", count: 0xFFFF_FFFF, remaining: 23)) {
            try decode(.exportPage) { w in w.writeU64(1); w.writeU32(0xFFFF_FFFF); w.writeRaw([UInt8](repeating: 0, count: 23)) }
        }
        XCTAssertWireError(.countExceedsInput(field: "BestCheckpoints.checkpoints", count: 1, remaining: 68)) {
            try decode(.bestCheckpoints) { w in
                w.writeU64(1); w.string("s"); w.string("loss"); w.writeU32(1)
                w.writeRaw([UInt8](repeating: 0, count: 68))
            }
        }
    }

    func testBlobDataLengthPastTheEndIsTruncated() {
        XCTAssertWireError(.truncated(needed: 100, available: 2)) {
            try decode(.blobData) { w in
                w.writeRaw([UInt8](repeating: 0xAB, count: 32)); w.writeU64(0); w.writeU64(100)
                w.writeU32(100); w.writeU16(0)
            }
        }
    }
}
