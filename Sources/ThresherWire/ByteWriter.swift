/// An append-only little-endian byte buffer for building payloads.
///
/// Guarantees: writes integers in little-endian order whatever the host; every length or count
/// prefix is checked to fit its u32 field (`WireError.valueTooLarge` otherwise), so the writer
/// never emits a prefix that disagrees with the bytes that follow. It carries the nesting limit
/// so the encoder refuses values a peer would refuse.
struct ByteWriter {
    private(set) var bytes: [UInt8]
    /// Deepest `ParamValue` nesting allowed (`WireLimits.maxNesting`).
    let maxNesting: Int

    init(reservingCapacity capacity: Int = 256, maxNesting: Int = WireLimits.defaultMaxNesting) {
        bytes = []
        bytes.reserveCapacity(capacity)
        self.maxNesting = maxNesting
    }

    /// The bytes written, handed over without a copy; the writer is used up.
    consuming func takeBytes() -> [UInt8] { bytes }

    mutating func writeU8(_ value: UInt8) { bytes.append(value) }
    mutating func writeU16(_ value: UInt16) { writeInteger(value) }
    mutating func writeU32(_ value: UInt32) { writeInteger(value) }
    mutating func writeU64(_ value: UInt64) { writeInteger(value) }
    mutating func writeI32(_ value: Int32) { writeInteger(value) }
    mutating func writeI64(_ value: Int64) { writeInteger(value) }
    /// The IEEE 754 bit pattern, so NaN payloads and -0.0 survive the trip.
    mutating func writeF64(_ value: Double) { writeInteger(value.bitPattern) }
    mutating func writeBool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    private mutating func writeInteger<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Raw bytes, no prefix.
    mutating func writeRaw(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }

    /// Raw bytes, no prefix.
    mutating func writeRaw(_ raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }

    mutating func writeDigest(_ digest: Digest32) { bytes.append(contentsOf: digest.bytes) }

    /// A u32 byte length, then the bytes.
    mutating func writeLengthPrefixed(_ raw: [UInt8], field: String) throws(WireError) {
        try writeCount(raw.count, field: field)
        bytes.append(contentsOf: raw)
    }

    /// A u32 UTF-8 byte length, then the UTF-8 bytes.
    mutating func writeString(_ string: String, field: String) throws(WireError) {
        let utf8 = string.utf8
        try writeCount(utf8.count, field: field)
        bytes.append(contentsOf: utf8)
    }

    /// A u32 element count or byte length.
    mutating func writeCount(_ count: Int, field: String) throws(WireError) {
        guard let value = UInt32(exactly: count) else { throw .valueTooLarge(field: field, count: count) }
        writeU32(value)
    }
}
