/// A bounds-checked little-endian cursor over a payload.
///
/// Guarantees: every read checks the bytes remaining first and throws `WireError.truncated`
/// instead of trapping; lengths and counts read from the input are converted with
/// `Int(exactly:)`, so no input can overflow an `Int`; the reader never looks outside
/// `range` of the underlying array. It also carries the per-payload decoding limits.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset: Int
    private let end: Int
    /// Deepest `ParamValue` nesting accepted (`WireLimits.maxNesting`).
    let maxNesting: Int

    /// A reader over `bytes[range]`. `range` must lie within `bytes.indices`.
    init(_ bytes: [UInt8], range: Range<Int>? = nil, maxNesting: Int = WireLimits.defaultMaxNesting) {
        let range = range ?? bytes.indices
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "reader range outside its buffer")
        self.bytes = bytes
        self.offset = range.lowerBound
        self.end = range.upperBound
        self.maxNesting = maxNesting
    }

    /// Bytes not read yet.
    var remaining: Int { end - offset }

    /// Throws unless `count` more bytes are available.
    func require(_ count: Int) throws(WireError) {
        guard count >= 0, count <= remaining else {
            throw .truncated(needed: count, available: remaining)
        }
    }

    /// Throws `trailingBytes` unless everything was read.
    func expectEnd() throws(WireError) {
        guard remaining == 0 else { throw .trailingBytes(count: remaining) }
    }

    // MARK: Fixed-width values

    mutating func readU8() throws(WireError) -> UInt8 {
        try require(1)
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readU16() throws(WireError) -> UInt16 { try readInteger(UInt16.self) }
    mutating func readU32() throws(WireError) -> UInt32 { try readInteger(UInt32.self) }
    mutating func readU64() throws(WireError) -> UInt64 { try readInteger(UInt64.self) }
    mutating func readI32() throws(WireError) -> Int32 { try readInteger(Int32.self) }
    mutating func readI64() throws(WireError) -> Int64 { try readInteger(Int64.self) }

    /// An IEEE 754 binary64 from its little-endian bit pattern; every pattern (NaNs included) is kept.
    mutating func readF64() throws(WireError) -> Double {
        Double(bitPattern: try readInteger(UInt64.self))
    }

    private mutating func readInteger<T: FixedWidthInteger>(_: T.Type) throws(WireError) -> T {
        let size = MemoryLayout<T>.size
        try require(size)
        let start = offset
        offset += size
        return bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: start, as: T.self)) }
    }

    // MARK: Checked values

    /// A u8 that must be 0 or 1.
    mutating func readBool(field: String) throws(WireError) -> Bool {
        switch try readU8() {
        case 0: return false
        case 1: return true
        case let other: throw .invalidBool(field: field, value: other)
        }
    }

    /// A u8 raw value that must name a case of `E`.
    mutating func readEnum<E: RawRepresentable>(_: E.Type, field: String) throws(WireError) -> E
    where E.RawValue == UInt8 {
        let raw = try readU8()
        guard let value = E(rawValue: raw) else { throw .unknownEnumValue(field: field, value: raw) }
        return value
    }

    /// 32 raw bytes.
    mutating func readDigest() throws(WireError) -> Digest32 {
        Digest32(unchecked: try readBytes(count: 32))
    }

    /// Exactly `count` raw bytes.
    mutating func readBytes(count: Int) throws(WireError) -> [UInt8] {
        try require(count)
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// A u32 byte length followed by that many bytes.
    mutating func readLengthPrefixedBytes() throws(WireError) -> [UInt8] {
        try readBytes(count: try readLength())
    }

    /// A u32 byte length followed by that many bytes of UTF-8.
    mutating func readString(field: String) throws(WireError) -> String {
        let count = try readLength()
        try require(count)
        defer { offset += count }
        guard let string = String(validating: bytes[offset..<offset + count], as: UTF8.self) else {
            throw .invalidUTF8(field: field)
        }
        return string
    }

    /// A u32 element count, checked against the bytes left: each element occupies at least
    /// `minElementBytes` (≥ 1), so a forged count fails here, before anything is allocated.
    mutating func readCount(field: String, minElementBytes: Int) throws(WireError) -> Int {
        let raw = try readU32()
        let needed = UInt64(raw) * UInt64(max(1, minElementBytes))
        guard needed <= UInt64(remaining), let count = Int(exactly: raw) else {
            throw .countExceedsInput(field: field, count: raw, remaining: remaining)
        }
        return count
    }

    /// Skips `count` bytes.
    mutating func skip(_ count: Int) throws(WireError) {
        try require(count)
        offset += count
    }

    /// A u32 length whose bytes must follow in the input.
    private mutating func readLength() throws(WireError) -> Int {
        let raw = try readU32()
        guard let count = Int(exactly: raw), count <= remaining else {
            throw .truncated(needed: Int(clamping: raw), available: remaining)
        }
        return count
    }
}
