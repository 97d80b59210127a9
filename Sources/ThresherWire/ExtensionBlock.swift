/// The extension block that ends every message payload: how minor versions add fields.
///
/// Layout: u16 count, then count × (u16 tag, u32 length, length bytes). Protocol 1.0 defines no
/// tags, so a 1.0 encoder writes `00 00`. A later 1.y may define tags carrying optional fields;
/// a decoder skips every tag it does not know, bounded by the payload (a length past the end is
/// `truncated`). Anything after the block is `trailingBytes`: fields are never appended after
/// it, which keeps "unknown data" and "corrupt data" distinguishable.
///
/// Guarantees: `skip` consumes exactly one well-formed block or throws; it never allocates.
enum ExtensionBlock {
    /// u16 tag + u32 length.
    static let entryHeaderBytes = 6

    /// Writes the empty block of protocol 1.0.
    static func writeEmpty(to writer: inout ByteWriter) {
        writer.writeU16(0)
    }

    /// Reads and discards a block; 1.0 knows no tags, so every entry is skipped.
    static func skip(from reader: inout ByteReader) throws(WireError) {
        let count = try reader.readU16()
        for _ in 0..<count {
            _ = try reader.readU16()
            let length = try reader.readU32()
            guard let byteCount = Int(exactly: length) else {
                throw .truncated(needed: Int.max, available: reader.remaining)
            }
            try reader.skip(byteCount)
        }
    }
}
