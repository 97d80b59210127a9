/// Wire encoding of `ParamValue` and `ParamMap` (docs/protocol.md, "ParamValue").
///
/// A value is a u8 tag then its body: 0 null (no body), 1 bool (u8 0/1), 2 int (i64),
/// 3 double (f64 bit pattern, NaN allowed), 4 string, 5 list (u32 count + values),
/// 6 map (u32 count + (string key, value) pairs, in order). A `ParamMap` outside a value
/// (as in `Assign`) is the map body without the tag.
///
/// Guarantees: nesting deeper than `WireLimits.maxNesting` lists/maps is refused on both sides
/// (`nestingTooDeep`), so decoding recursion is bounded; a decoded map never repeats a key
/// (`duplicateMapKey`; keys compare as Swift strings, i.e. under Unicode canonical equivalence).
extension ParamValue: WireCodable {
    /// The tag byte of each case. Values are part of the protocol.
    enum Tag: UInt8 {
        case null = 0, bool = 1, int = 2, double = 3, string = 4, list = 5, map = 6
    }

    func encode(to writer: inout ByteWriter) throws(WireError) {
        try encode(to: &writer, enclosingContainers: 0)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self = try Self.decode(from: &reader, enclosingContainers: 0)
    }

    /// Encodes the value; `enclosingContainers` counts the lists and maps around it.
    func encode(to writer: inout ByteWriter, enclosingContainers depth: Int) throws(WireError) {
        switch self {
        case .null:
            writer.writeU8(Tag.null.rawValue)
        case let .bool(value):
            writer.writeU8(Tag.bool.rawValue)
            writer.writeBool(value)
        case let .int(value):
            writer.writeU8(Tag.int.rawValue)
            writer.writeI64(value)
        case let .double(value):
            writer.writeU8(Tag.double.rawValue)
            writer.writeF64(value)
        case let .string(value):
            writer.writeU8(Tag.string.rawValue)
            try writer.writeString(value, field: "ParamValue.string")
        case let .list(values):
            guard depth < writer.maxNesting else { throw .nestingTooDeep(limit: writer.maxNesting) }
            writer.writeU8(Tag.list.rawValue)
            try writer.writeCount(values.count, field: "ParamValue.list")
            for value in values { try value.encode(to: &writer, enclosingContainers: depth + 1) }
        case let .map(map):
            writer.writeU8(Tag.map.rawValue)
            try map.encode(to: &writer, enclosingContainers: depth)
        }
    }

    /// Decodes a value; `enclosingContainers` counts the lists and maps around it.
    static func decode(from reader: inout ByteReader, enclosingContainers depth: Int) throws(WireError) -> ParamValue {
        switch try reader.readEnum(Tag.self, field: "ParamValue.tag") {
        case .null:
            return .null
        case .bool:
            return .bool(try reader.readBool(field: "ParamValue.bool"))
        case .int:
            return .int(try reader.readI64())
        case .double:
            return .double(try reader.readF64())
        case .string:
            return .string(try reader.readString(field: "ParamValue.string"))
        case .list:
            guard depth < reader.maxNesting else { throw .nestingTooDeep(limit: reader.maxNesting) }
            // Every value is at least its 1-byte tag.
            let count = try reader.readCount(field: "ParamValue.list", minElementBytes: 1)
            var values: [ParamValue] = []
            values.reserveCapacity(count)
            for _ in 0..<count {
                values.append(try decode(from: &reader, enclosingContainers: depth + 1))
            }
            return .list(values)
        case .map:
            return .map(try ParamMap.decode(from: &reader, enclosingContainers: depth))
        }
    }
}

extension ParamMap: WireCodable {
    /// Smallest encoded entry: a 4-byte key length and a 1-byte value tag.
    private static let minEntryBytes = 5

    func encode(to writer: inout ByteWriter) throws(WireError) {
        try encode(to: &writer, enclosingContainers: 0)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self = try Self.decode(from: &reader, enclosingContainers: 0)
    }

    /// Encodes the map body (count + entries); the map itself is one more level of nesting.
    func encode(to writer: inout ByteWriter, enclosingContainers depth: Int) throws(WireError) {
        guard depth < writer.maxNesting else { throw .nestingTooDeep(limit: writer.maxNesting) }
        try writer.writeCount(entries.count, field: "ParamMap")
        for entry in entries {
            try writer.writeString(entry.key, field: "ParamMap.key")
            try entry.value.encode(to: &writer, enclosingContainers: depth + 1)
        }
    }

    /// Decodes a map body (count + entries), refusing repeated keys.
    static func decode(from reader: inout ByteReader, enclosingContainers depth: Int) throws(WireError) -> ParamMap {
        guard depth < reader.maxNesting else { throw .nestingTooDeep(limit: reader.maxNesting) }
        let count = try reader.readCount(field: "ParamMap", minElementBytes: minEntryBytes)
        var entries: [(key: String, value: ParamValue)] = []
        entries.reserveCapacity(count)
        var seen = Set<String>(minimumCapacity: count)
        for _ in 0..<count {
            let key = try reader.readString(field: "ParamMap.key")
            guard seen.insert(key).inserted else { throw .duplicateMapKey(key) }
            let value = try ParamValue.decode(from: &reader, enclosingContainers: depth + 1)
            entries.append((key: key, value: value))
        }
        return ParamMap(uniqueEntries: entries)
    }
}
