@testable import ThresherWire

/// Hand-built frames for error-case and mutation tests: any header values, a correct CRC.
enum TestFrames {
    /// A frame with the given header fields and payload, its checksum computed correctly
    /// (so the decoder gets past the checksum to the check under test).
    static func frame(
        type: MessageType, payload: [UInt8], flags: UInt8 = 0, major: UInt8 = 1, minor: UInt8 = 0
    ) -> [UInt8] {
        frame(rawType: type.rawValue, payload: payload, flags: flags, major: major, minor: minor)
    }

    static func frame(rawType: UInt8, payload: [UInt8], flags: UInt8 = 0, major: UInt8 = 1, minor: UInt8 = 0) -> [UInt8] {
        var writer = ByteWriter()
        writer.writeRaw(FrameHeader.magic)
        writer.writeU8(major); writer.writeU8(minor); writer.writeU8(rawType); writer.writeU8(flags)
        writer.writeU32(UInt32(payload.count))
        writer.writeU32(0)
        writer.writeRaw(payload)
        var bytes = writer.bytes
        fixChecksum(&bytes)
        return bytes
    }

    /// Recomputes bytes 12..15 from bytes 0..11 and everything after byte 15.
    static func fixChecksum(_ frame: inout [UInt8]) {
        guard frame.count >= 16 else { return }
        var crc = CRC32C()
        crc.update(Array(frame[0..<12]))
        crc.update(Array(frame[16...]))
        let value = crc.checksum
        for i in 0..<4 { frame[12 + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }

    /// Payload bytes of a message, extension block included.
    static func payload(_ message: Message) throws -> [UInt8] {
        var writer = ByteWriter()
        try message.encodePayload(to: &writer)
        return writer.bytes
    }
}
