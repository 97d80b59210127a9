/// A value with a ThresherWire payload encoding (docs/protocol.md, "Payload encodings").
///
/// Guarantees for every conformer: `init(from:)` consumes exactly the bytes `encode(to:)`
/// produced, and for any input either returns a value or throws a `WireError`, never traps;
/// `encode(to:)` then `init(from:)` gives back an equal value (bit-identical doubles).
protocol WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError)
    init(from reader: inout ByteReader) throws(WireError)
}

extension ByteWriter {
    /// A u32 count, then each element.
    mutating func writeArray<T: WireCodable>(_ elements: [T], field: String) throws(WireError) {
        try writeCount(elements.count, field: field)
        for element in elements { try element.encode(to: &self) }
    }

    /// A u8 presence flag (0 absent, 1 present), then the value if present.
    mutating func writeOptional<T: WireCodable>(_ value: T?) throws(WireError) {
        guard let value else { return writeBool(false) }
        writeBool(true)
        try value.encode(to: &self)
    }

    /// A u32 count, then each string.
    mutating func writeStrings(_ strings: [String], field: String) throws(WireError) {
        try writeCount(strings.count, field: field)
        for string in strings { try writeString(string, field: field) }
    }
}

extension ByteReader {
    /// A u32 count, then that many elements; `minElementBytes` is the smallest encoding of one
    /// element and bounds the count by the bytes remaining before anything is allocated.
    mutating func readArray<T: WireCodable>(_: T.Type, field: String, minElementBytes: Int) throws(WireError) -> [T] {
        let count = try readCount(field: field, minElementBytes: minElementBytes)
        var elements: [T] = []
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.append(try T(from: &self)) }
        return elements
    }

    /// A u8 presence flag, then the value if present.
    mutating func readOptional<T: WireCodable>(_: T.Type, field: String) throws(WireError) -> T? {
        try readBool(field: field) ? try T(from: &self) : nil
    }

    /// A u32 count, then that many strings (each at least its 4-byte length).
    mutating func readStrings(field: String) throws(WireError) -> [String] {
        let count = try readCount(field: field, minElementBytes: 4)
        var strings: [String] = []
        strings.reserveCapacity(count)
        for _ in 0..<count { strings.append(try readString(field: field)) }
        return strings
    }
}
