import XCTest
@testable import ThresherWire

/// Every `WireLimits` bound at its limit (accepted) and one past it (refused with its own error),
/// on both the decoding and the encoding side.
final class WireLimitBoundaryTests: XCTestCase {
    func testFrameBytesAtTheLimitDecodeAndOneByteOverIsRefused() throws {
        let frame = try FrameCodec().encode(Samples.compressedReport)
        XCTAssertNoThrow(try FrameCodec(limits: WireLimits(maxFrameBytes: frame.count)).decode(frame))
        XCTAssertWireError(.frameTooLarge(byteCount: UInt64(frame.count), limit: frame.count - 1)) {
            try FrameCodec(limits: WireLimits(maxFrameBytes: frame.count - 1)).decode(frame)
        }
        XCTAssertWireError(.frameTooLarge(byteCount: UInt64(frame.count), limit: frame.count - 1)) {
            try FrameCodec(limits: WireLimits(maxFrameBytes: frame.count - 1)).encode(Samples.compressedReport)
        }
    }

    func testDecompressedBytesAtTheLimitDecodeAndOneByteOverIsRefused() throws {
        let frame = try FrameCodec().encode(Samples.compressedReport)
        XCTAssertEqual(frame[7] & FrameFlags.compressed.rawValue, FrameFlags.compressed.rawValue, "the sample must be compressed")
        let declared = Int(frame[16]) | Int(frame[17]) << 8 | Int(frame[18]) << 16 | Int(frame[19]) << 24
        XCTAssertNoThrow(try FrameCodec(limits: WireLimits(maxDecompressedBytes: declared)).decode(frame))
        XCTAssertWireError(.decompressedTooLarge(declared: UInt64(declared), limit: declared - 1)) {
            try FrameCodec(limits: WireLimits(maxDecompressedBytes: declared - 1)).decode(frame)
        }
    }

    func testNestingAtTheLimitRoundTripsAndOneLevelMoreIsRefused() throws {
        func nested(_ lists: Int) -> ParamValue { (0..<lists).reduce(ParamValue.int(1)) { value, _ in .list([value]) } }
        let limit = WireLimits.defaultMaxNesting
        // The Assign's parameter map is one level: limit − 1 lists inside it fill the limit.
        let atLimit = Message.assign(Assign(sweepID: 1, trialID: 1, leaseEpoch: 1, params: ["a": nested(limit - 1)], run: [:], resumeFrom: nil))
        let codec = FrameCodec()
        XCTAssertEqual(try codec.decode(try codec.encode(atLimit)), atLimit)
        let over = Message.assign(Assign(sweepID: 1, trialID: 1, leaseEpoch: 1, params: ["a": nested(limit)], run: [:], resumeFrom: nil))
        XCTAssertWireError(.nestingTooDeep(limit: limit)) { try codec.encode(over) }
        // A peer with a higher limit can build the frame; this side still refuses to decode it.
        let frame = try FrameCodec(limits: WireLimits(maxNesting: limit + 1)).encode(over)
        XCTAssertWireError(.nestingTooDeep(limit: limit)) { try codec.decode(frame) }
    }
}
