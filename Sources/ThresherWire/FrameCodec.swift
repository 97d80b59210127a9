/// Turns `Message`s into frames and frames back into `Message`s (docs/protocol.md).
///
/// A frame is the 16-byte `FrameHeader` followed by the payload: the message's fields and its
/// extension block, optionally zstd-compressed (u32 uncompressed length, then one zstd frame).
///
/// Guarantees:
/// - Decoding is total: for any input, `decode` returns a message or throws a `WireError`; it
///   never traps, and it allocates at most the frame plus `limits.maxDecompressedBytes`,
///   whatever sizes and counts the input declares. Checks run cheapest first: header, length
///   against `limits.maxFrameBytes`, checksum, then decompression and the payload.
/// - `decode(encode(m)) == m` for every message `m` (doubles bit-identical), and the encoding
///   is deterministic: equal messages and settings give equal bytes.
/// - The encoder only produces frames a decoder with the same limits accepts.
/// - `FrameCodec` is `Sendable`: one instance may be used from any number of threads at once.
///   Its only shared state is a lock-protected pool of zstd contexts (`ZstdContextPool`), so
///   keep one codec and share it rather than creating one per frame.
public struct FrameCodec: Sendable {
    /// Default `compressionThreshold`: payloads under 1 KiB are never compressed.
    public static let defaultCompressionThreshold = 1024
    /// Default zstd level: zstd's own default, fast with a good ratio for metric batches.
    public static let defaultCompressionLevel: Int32 = 3

    public var limits: WireLimits
    /// Payloads of at least this many bytes are compressed, if that saves ≥ 1/8 of them.
    public var compressionThreshold: Int
    /// zstd compression level (1…19; negative levels are faster still).
    public var compressionLevel: Int32

    /// zstd contexts reused across calls; copies of this codec share them.
    private let zstd = ZstdContextPool()

    public init(
        limits: WireLimits = WireLimits(),
        compressionThreshold: Int = FrameCodec.defaultCompressionThreshold,
        compressionLevel: Int32 = FrameCodec.defaultCompressionLevel
    ) {
        self.limits = limits
        self.compressionThreshold = compressionThreshold
        self.compressionLevel = compressionLevel
    }

    // MARK: Encoding

    /// Encodes `message` as one complete frame.
    ///
    /// Throws `frameTooLarge` if the frame would exceed `limits.maxFrameBytes`, `nestingTooDeep`
    /// if a parameter value is nested deeper than `limits.maxNesting`, and `valueTooLarge` if a
    /// field holds more than 2^32 - 1 bytes or elements.
    public func encode(_ message: Message) throws(WireError) -> [UInt8] {
        var writer = ByteWriter(reservingCapacity: 256, maxNesting: limits.maxNesting)
        // Reserve the header; it is filled in once the payload is known.
        writer.writeRaw([UInt8](repeating: 0, count: FrameHeader.byteCount))
        try message.encodePayload(to: &writer)

        if let compressed = compressedFrame(of: writer.bytes) {
            return try sealed(compressed, type: message.type, flags: .compressed)
        }
        return try sealed(writer.takeBytes(), type: message.type, flags: [])
    }

    /// A frame (header still blank) whose payload is `frame`'s payload compressed, or nil when
    /// compression is not worth it: payload under the threshold, over the peer's decompression
    /// limit, or saving less than 1/8 of its bytes.
    private func compressedFrame(of frame: [UInt8]) -> [UInt8]? {
        let payloadCount = frame.count - FrameHeader.byteCount
        guard payloadCount >= compressionThreshold, payloadCount <= limits.maxDecompressedBytes,
              let declared = UInt32(exactly: payloadCount)
        else { return nil }
        // Room left after the 4-byte length so that the result is at most 7/8 of the original.
        let capacity = payloadCount - (payloadCount + 7) / 8 - 4
        let compressed = zstd.withCompressor { compressor in
            frame.withUnsafeBytes { raw in
                compressor?.compress(
                    UnsafeRawBufferPointer(rebasing: raw[FrameHeader.byteCount...]),
                    level: compressionLevel, capacity: capacity)
            }
        }
        guard let compressed else { return nil }
        var writer = ByteWriter(reservingCapacity: FrameHeader.byteCount + 4 + compressed.count)
        writer.writeRaw([UInt8](repeating: 0, count: FrameHeader.byteCount))
        writer.writeU32(declared)
        writer.writeRaw(compressed)
        return writer.bytes
    }

    /// Fills in the header of `frame` (16 blank bytes then the payload): checks the size
    /// limit, then writes the length and the checksum.
    private func sealed(_ frame: consuming [UInt8], type: MessageType, flags: FrameFlags) throws(WireError) -> [UInt8] {
        let payloadCount = frame.count - FrameHeader.byteCount
        guard frame.count <= limits.maxFrameBytes, let length = UInt32(exactly: payloadCount) else {
            throw .frameTooLarge(byteCount: UInt64(frame.count), limit: limits.maxFrameBytes)
        }
        var header = FrameHeader(type: type, flags: flags, payloadLength: length, checksum: 0)
        header.checksum = frame.withUnsafeBytes { raw in
            Self.checksum(prefix: header.checksummedPrefix, payload: UnsafeRawBufferPointer(rebasing: raw[FrameHeader.byteCount...]))
        }
        // `frame` is consumed, so this writes the header in place instead of copying the frame.
        var result = frame
        result.replaceSubrange(0..<FrameHeader.byteCount, with: header.serialized)
        return result
    }

    // MARK: Decoding

    /// Decodes one complete frame; `frame` must hold exactly one frame, nothing more.
    public func decode(_ frame: [UInt8]) throws(WireError) -> Message {
        let header = try FrameHeader(parsing: frame, limits: limits)
        let available = frame.count - FrameHeader.byteCount
        let payloadCount = header.frameByteCount - FrameHeader.byteCount
        guard available >= payloadCount else { throw .truncated(needed: payloadCount, available: available) }
        guard available == payloadCount else { throw .trailingBytes(count: available - payloadCount) }
        return try decodeChecked(frame, payloadRange: FrameHeader.byteCount..<frame.count, header: header)
    }

    /// Decodes one complete frame from raw memory (for example an NNG message body). The
    /// bytes are copied once; `frame` need not outlive the call.
    public func decode(_ frame: UnsafeRawBufferPointer) throws(WireError) -> Message {
        try decode([UInt8](frame))
    }

    /// Decodes the payload of a frame whose header was parsed first with
    /// `FrameHeader(parsing:limits:)`. `payload` must be exactly `header.payloadLength` bytes.
    /// The header is validated again (it may have been built by hand) and the checksum checked.
    public func decodePayload(_ payload: [UInt8], header: FrameHeader) throws(WireError) -> Message {
        try header.validate(limits: limits)
        let expected = header.frameByteCount - FrameHeader.byteCount
        guard payload.count >= expected else { throw .truncated(needed: expected, available: payload.count) }
        guard payload.count == expected else { throw .trailingBytes(count: payload.count - expected) }
        return try decodeChecked(payload, payloadRange: payload.indices, header: header)
    }

    /// Verifies the checksum of `buffer[payloadRange]` under `header`, then decompresses if
    /// needed and parses the payload.
    private func decodeChecked(_ buffer: [UInt8], payloadRange: Range<Int>, header: FrameHeader) throws(WireError) -> Message {
        let actual = buffer.withUnsafeBytes { raw in
            Self.checksum(prefix: header.checksummedPrefix, payload: UnsafeRawBufferPointer(rebasing: raw[payloadRange]))
        }
        guard actual == header.checksum else { throw .checksumMismatch(expected: header.checksum, actual: actual) }

        guard header.flags.contains(.compressed) else {
            var reader = ByteReader(buffer, range: payloadRange, maxNesting: limits.maxNesting)
            return try Message.decodePayload(type: header.type, from: &reader)
        }
        var lengthReader = ByteReader(buffer, range: payloadRange)
        let declared = try lengthReader.readU32()
        guard let size = Int(exactly: declared), size <= limits.maxDecompressedBytes else {
            throw .decompressedTooLarge(declared: UInt64(declared), limit: limits.maxDecompressedBytes)
        }
        let zstdRange = (payloadRange.lowerBound + 4)..<payloadRange.upperBound
        let payload = try zstd.withDecompressor { (decompressor) throws(WireError) -> [UInt8] in
            // `Array.withUnsafeBytes` rethrows untyped errors; carry the typed one out in a Result.
            try buffer.withUnsafeBytes { raw in
                Result { () throws(WireError) -> [UInt8] in
                    try decompressor.decompress(UnsafeRawBufferPointer(rebasing: raw[zstdRange]), expectedSize: size)
                }
            }.get()
        }
        var reader = ByteReader(payload, maxNesting: limits.maxNesting)
        return try Message.decodePayload(type: header.type, from: &reader)
    }

    /// CRC32C over header bytes 0..11 then the payload.
    private static func checksum(prefix: [UInt8], payload: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32C()
        crc.update(prefix)
        crc.update(payload)
        return crc.checksum
    }
}
