/// Flag bits of a frame header (byte 7).
///
/// Guarantees: protocol 1.x defines only bit 0; `FrameHeader` parsing rejects any other bit
/// (`WireError.unknownFlags`), so a future flag can never be silently ignored.
public struct FrameFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The payload is a u32 uncompressed length followed by one zstd frame.
    public static let compressed = FrameFlags(rawValue: 1 << 0)
    /// Every flag protocol 1.x understands.
    public static let known: FrameFlags = [.compressed]
}

/// The fixed 16-byte header that starts every frame, all integers little-endian:
///
/// | bytes  | field                                                    |
/// |--------|----------------------------------------------------------|
/// | 0..3   | magic `"THRW"` (54 48 52 57)                             |
/// | 4      | major version (1)                                        |
/// | 5      | minor version (0)                                        |
/// | 6      | message type (`MessageType` raw value)                   |
/// | 7      | flags (`FrameFlags`)                                     |
/// | 8..11  | payload length as on the wire (u32, compressed length)   |
/// | 12..15 | CRC32C over bytes 0..11 followed by the payload (u32)    |
///
/// Peers that read a stream can parse the header first, learn `frameByteCount`, then read the
/// payload and hand both to `FrameCodec.decodePayload(_:header:)`.
///
/// Guarantees: `init(parsing:limits:)` accepts only a header this build can decode — right magic,
/// major version 1 (any minor), a known type, known flags and a frame within
/// `limits.maxFrameBytes` — so a reader can trust `frameByteCount` before reading the payload.
/// It does not check the checksum, which covers the payload too.
public struct FrameHeader: Sendable, Hashable {
    /// Size of the header in bytes.
    public static let byteCount = 16
    /// The four bytes every frame starts with: ASCII "THRW".
    public static let magic: [UInt8] = [0x54, 0x48, 0x52, 0x57]
    /// The major version this build speaks; a different major version is refused.
    public static let currentMajorVersion: UInt8 = 1
    /// The minor version this build writes. Higher minors of the same major are accepted.
    public static let currentMinorVersion: UInt8 = 0

    public var majorVersion: UInt8
    public var minorVersion: UInt8
    public var type: MessageType
    public var flags: FrameFlags
    /// Length of the payload that follows the header, as on the wire (compressed length when
    /// `flags` contains `.compressed`).
    public var payloadLength: UInt32
    /// CRC32C over header bytes 0..11 followed by the payload.
    public var checksum: UInt32

    public init(
        type: MessageType, flags: FrameFlags = [], payloadLength: UInt32, checksum: UInt32,
        majorVersion: UInt8 = FrameHeader.currentMajorVersion,
        minorVersion: UInt8 = FrameHeader.currentMinorVersion
    ) {
        self.majorVersion = majorVersion; self.minorVersion = minorVersion
        self.type = type; self.flags = flags
        self.payloadLength = payloadLength; self.checksum = checksum
    }

    /// Parses and validates the first 16 bytes of `bytes` (more may follow; they are not read).
    public init(parsing bytes: [UInt8], limits: WireLimits = WireLimits()) throws(WireError) {
        var reader = ByteReader(bytes)
        try reader.require(Self.byteCount)
        let magic = try reader.readBytes(count: 4)
        guard magic == Self.magic else {
            throw .badMagic(magic.reduce(0) { $0 << 8 | UInt32($1) })
        }
        let major = try reader.readU8()
        let minor = try reader.readU8()
        // The version comes first: a 2.x frame may use types and flags 1.x does not know.
        guard major == Self.currentMajorVersion else { throw .unsupportedVersion(major: major, minor: minor) }
        let rawType = try reader.readU8()
        guard let type = MessageType(rawValue: rawType) else { throw .unknownMessageType(rawType) }
        self.init(
            type: type, flags: FrameFlags(rawValue: try reader.readU8()),
            payloadLength: try reader.readU32(), checksum: try reader.readU32(),
            majorVersion: major, minorVersion: minor
        )
        try validate(limits: limits)
    }

    /// Parses and validates the first 16 bytes of `bytes` (more may follow; they are not read).
    public init(parsing bytes: UnsafeRawBufferPointer, limits: WireLimits = WireLimits()) throws(WireError) {
        try self.init(parsing: [UInt8](bytes.prefix(Self.byteCount)), limits: limits)
    }

    /// Header plus payload, in bytes. Exact for every parsed header (parsing bounds it by
    /// `maxFrameBytes`); saturates at `Int.max` only for a hand-built header on a 32-bit host.
    public var frameByteCount: Int {
        Int(clamping: UInt64(Self.byteCount) + UInt64(payloadLength))
    }

    /// The 16 header bytes as they go on the wire.
    public var serialized: [UInt8] {
        var writer = ByteWriter(reservingCapacity: Self.byteCount)
        writeChecksummedPrefix(to: &writer)
        writer.writeU32(checksum)
        return writer.bytes
    }

    /// Header bytes 0..11: everything the checksum covers besides the payload.
    var checksummedPrefix: [UInt8] {
        var writer = ByteWriter(reservingCapacity: 12)
        writeChecksummedPrefix(to: &writer)
        return writer.bytes
    }

    private func writeChecksummedPrefix(to writer: inout ByteWriter) {
        writer.writeRaw(Self.magic)
        writer.writeU8(majorVersion)
        writer.writeU8(minorVersion)
        writer.writeU8(type.rawValue)
        writer.writeU8(flags.rawValue)
        writer.writeU32(payloadLength)
    }

    /// Throws unless this build can decode a frame with this header: major version 1, only
    /// known flags, and a frame within `limits.maxFrameBytes`. (The type is valid by construction.)
    public func validate(limits: WireLimits = WireLimits()) throws(WireError) {
        guard majorVersion == Self.currentMajorVersion else {
            throw .unsupportedVersion(major: majorVersion, minor: minorVersion)
        }
        guard FrameFlags.known.isSuperset(of: flags) else { throw .unknownFlags(flags.rawValue) }
        let total = UInt64(Self.byteCount) + UInt64(payloadLength)
        guard total <= UInt64(max(0, limits.maxFrameBytes)) else {
            throw .frameTooLarge(byteCount: total, limit: limits.maxFrameBytes)
        }
    }
}
