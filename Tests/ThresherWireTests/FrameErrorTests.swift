import XCTest
@testable import ThresherWire

/// One test (at least) per frame-level `WireError` case: header, size, checksum, compression.
final class FrameErrorTests: XCTestCase {
    private let codec = FrameCodec()

    func testTruncated() throws {
        let frame = try codec.encode(Samples.hello)
        XCTAssertWireError(.truncated(needed: 16, available: 0)) { try codec.decode([]) }
        XCTAssertWireError(.truncated(needed: 16, available: 15)) { try codec.decode(Array(frame.prefix(15))) }
        let payloadCount = frame.count - 16
        XCTAssertWireError(.truncated(needed: payloadCount, available: payloadCount - 1)) {
            try codec.decode(Array(frame.dropLast()))
        }
        // A field cut short inside a payload whose checksum is valid.
        let payload = try TestFrames.payload(Samples.welcome)
        XCTAssertWireError(.truncated(needed: 4, available: 2)) {
            try codec.decode(TestFrames.frame(type: .welcome, payload: Array(payload.prefix(8 + 32 + 4 + 2))))
        }
    }

    func testBadMagic() throws {
        var frame = try codec.encode(Samples.proof)
        frame[0] = 0x47  // "GHRW"
        XCTAssertWireError(.badMagic(0x4748_5257)) { try codec.decode(frame) }
        XCTAssertTrue(WireError.badMagic(0x4748_5257).description.contains("0x47485257"))
    }

    func testUnsupportedVersion() {
        let frame = TestFrames.frame(type: .proof, payload: [], major: 2, minor: 1)
        XCTAssertWireError(.unsupportedVersion(major: 2, minor: 1)) { try codec.decode(frame) }
        XCTAssertTrue(WireError.unsupportedVersion(major: 2, minor: 1).description
            .hasPrefix("peer speaks protocol 2.x; this build speaks 1.x"))
    }

    func testUnknownMessageType() {
        XCTAssertWireError(.unknownMessageType(0x66)) { try codec.decode(TestFrames.frame(rawType: 0x66, payload: [0, 0])) }
        XCTAssertWireError(.unknownMessageType(0x00)) { try codec.decode(TestFrames.frame(rawType: 0x00, payload: [0, 0])) }
    }

    func testUnknownFlags() {
        for flags: UInt8 in [0x02, 0x80, 0x03] {
            XCTAssertWireError(.unknownFlags(flags)) {
                try codec.decode(TestFrames.frame(type: .requestTrial, payload: [1, 0, 0, 0], flags: flags))
            }
        }
    }

    func testFrameTooLargeIsCheckedFromTheHeaderAlone() {
        // Only the 16 header bytes exist; the declared 4 GiB payload is refused before reading on.
        var header = TestFrames.frame(type: .checkpointChunk, payload: [])
        header.replaceSubrange(8..<12, with: [0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertWireError(.frameTooLarge(byteCount: 0xFFFF_FFFF + 16, limit: WireLimits.defaultMaxFrameBytes)) {
            try codec.decode(header)
        }
        XCTAssertWireError(.frameTooLarge(byteCount: 0xFFFF_FFFF + 16, limit: WireLimits.defaultMaxFrameBytes)) {
            try FrameHeader(parsing: header)
        }
    }

    func testFrameTooLargeOnEncode() {
        let small = FrameCodec(limits: WireLimits(maxFrameBytes: 64))
        let chunk = CheckpointChunk(trialID: 1, leaseEpoch: 1, step: 1, offset: 0, totalBytes: 100, digest: .zero,
                                    data: [UInt8](repeating: 7, count: 100))
        XCTAssertWireError(.frameTooLarge(byteCount: 16 + 72 + 4 + 100 + 2, limit: 64)) {
            try small.encode(.checkpointChunk(chunk))
        }
    }

    func testHeaderFirstDecodingRevalidatesTheHeaderAndLength() throws {
        let frame = try codec.encode(Samples.noWork)
        let payload = Array(frame.dropFirst(16))
        var header = try FrameHeader(parsing: frame)
        header.flags = FrameFlags(rawValue: 0x40)
        XCTAssertWireError(.unknownFlags(0x40)) { try codec.decodePayload(payload, header: header) }
        header = try FrameHeader(parsing: frame)
        XCTAssertWireError(.truncated(needed: 7, available: 6)) { try codec.decodePayload(Array(payload.dropLast()), header: header) }
        XCTAssertWireError(.trailingBytes(count: 1)) { try codec.decodePayload(payload + [0], header: header) }
    }

    func testChecksumMismatch() throws {
        var frame = try codec.encode(Samples.heartbeat)
        let expected = UInt32(frame[12]) | UInt32(frame[13]) << 8 | UInt32(frame[14]) << 16 | UInt32(frame[15]) << 24
        frame[20] ^= 0x01
        var crc = CRC32C()
        crc.update(Array(frame[0..<12])); crc.update(Array(frame[16...]))
        XCTAssertWireError(.checksumMismatch(expected: expected, actual: crc.checksum)) { try codec.decode(frame) }
    }

    func testChecksumCoversTheHeader() throws {
        // Changing the type byte to another valid type is caught by the CRC, not misparsed.
        var frame = try codec.encode(Samples.challenge)
        frame[6] = MessageType.proof.rawValue
        XCTAssertThrowsError(try codec.decode(frame)) { error in
            guard case .checksumMismatch = error as? WireError else { return XCTFail("\(error)") }
        }
    }

    func testTrailingBytesAfterFrameAndAfterExtensionBlock() throws {
        let frame = try codec.encode(Samples.noWork)
        XCTAssertWireError(.trailingBytes(count: 3)) { try codec.decode(frame + [1, 2, 3]) }
        let payload = try TestFrames.payload(Samples.noWork) + [0xAA]
        XCTAssertWireError(.trailingBytes(count: 1)) { try codec.decode(TestFrames.frame(type: .noWork, payload: payload)) }
    }

    func testExtensionLengthPastThePayloadIsTruncated() {
        // freeSlots, then one extension entry claiming 100 bytes with 1 present.
        let payload: [UInt8] = [1, 0, 1, 0, 9, 0, 100, 0, 0, 0, 0xEE]
        XCTAssertWireError(.truncated(needed: 100, available: 1)) {
            try codec.decode(TestFrames.frame(type: .requestTrial, payload: payload))
        }
    }

    // MARK: Compression

    func testZstdBombDeclaringOneGiBIsRefusedBeforeAllocating() {
        // u32 uncompressed length = 1 GiB, then a few garbage bytes; the limit check comes first.
        let payload: [UInt8] = [0x00, 0x00, 0x00, 0x40, 0x28, 0xB5, 0x2F, 0xFD]
        let frame = TestFrames.frame(type: .report, payload: payload, flags: 1)
        XCTAssertWireError(.decompressedTooLarge(declared: 1 << 30, limit: WireLimits.defaultMaxDecompressedBytes)) {
            try codec.decode(frame)
        }
    }

    func testZstdBombUnderstatingItsSizeStopsAtTheDeclaredCapacity() throws {
        // 32 MiB of zeros compress to about a kilobyte; the frame claims 1 KiB.
        let zeros = [UInt8](repeating: 0, count: 32 << 20)
        let bomb = try XCTUnwrap(zeros.withUnsafeBytes { ZstdCompressor()?.compress($0, level: 3, capacity: 1 << 20) })
        XCTAssertLessThan(bomb.count, 64 << 10)
        let frame = TestFrames.frame(type: .report, payload: [0x00, 0x04, 0x00, 0x00] + bomb, flags: 1)
        XCTAssertThrowsError(try codec.decode(frame)) { error in
            guard case .decompressionFailed = error as? WireError else { return XCTFail("\(error)") }
        }
    }

    func testDecompressedTooLargeWithCustomLimit() throws {
        let limited = FrameCodec(limits: WireLimits(maxDecompressedBytes: 1000))
        let frame = try codec.encode(Samples.compressedReport)
        XCTAssertThrowsError(try limited.decode(frame)) { error in
            guard case .decompressedTooLarge(_, 1000) = error as? WireError else { return XCTFail("\(error)") }
        }
        // The same limit keeps the encoder from compressing what that peer would refuse.
        XCTAssertEqual(try limited.encode(Samples.compressedReport)[7], 0)
    }

    func testDecompressionFailed() {
        let frame = TestFrames.frame(type: .report, payload: [10, 0, 0, 0, 1, 2, 3, 4, 5, 6], flags: 1)
        XCTAssertThrowsError(try codec.decode(frame)) { error in
            guard case .decompressionFailed(let reason) = error as? WireError else { return XCTFail("\(error)") }
            XCTAssertFalse(reason.isEmpty)
        }
        XCTAssertWireError(.truncated(needed: 4, available: 2)) {
            try codec.decode(TestFrames.frame(type: .report, payload: [1, 0], flags: 1))
        }
    }

    func testDecompressedSizeMismatch() throws {
        let content = [UInt8](repeating: 0x41, count: 50)
        let zstd = try XCTUnwrap(content.withUnsafeBytes { ZstdCompressor()?.compress($0, level: 3, capacity: 100) })
        let frame = TestFrames.frame(type: .report, payload: [100, 0, 0, 0] + zstd, flags: 1)
        XCTAssertWireError(.decompressedSizeMismatch(declared: 100, actual: 50)) { try codec.decode(frame) }
    }

    // MARK: Descriptions

    func testEveryErrorHasADistinctNameAndAPlainDescription() {
        let all: [WireError] = [
            .truncated(needed: 4, available: 1), .badMagic(0), .unsupportedVersion(major: 2, minor: 0),
            .unknownMessageType(9), .unknownFlags(2), .frameTooLarge(byteCount: 99, limit: 10),
            .checksumMismatch(expected: 1, actual: 2), .trailingBytes(count: 1),
            .decompressedTooLarge(declared: 9, limit: 1), .decompressionFailed(reason: "x"),
            .decompressedSizeMismatch(declared: 2, actual: 1), .invalidUTF8(field: "f"),
            .invalidBool(field: "f", value: 2), .unknownEnumValue(field: "f", value: 9),
            .countExceedsInput(field: "f", count: 9, remaining: 1), .duplicateMapKey("k"),
            .nestingTooDeep(limit: 3), .metricNameIndexOutOfRange(index: 3, nameCount: 1),
            .valueTooLarge(field: "f", count: 1 << 33),
        ]
        XCTAssertEqual(Set(all.map(\.reasonName)).count, all.count)
        for error in all {
            XCTAssertGreaterThan(error.description.count, 20, error.reasonName)
        }
    }
}
