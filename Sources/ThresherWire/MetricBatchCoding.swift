/// Wire encoding of `MetricBatch` (docs/protocol.md, "MetricBatch").
///
/// Layout: u32 name count, that many strings (the name table), u32 record count, then per
/// record i64 step, u32 name index, f64 value (20 bytes). Names are interned per batch: a run
/// that reports `loss` and `accuracy` every step pays for each name once, and a batch of many
/// steps compresses well.
///
/// Guarantees: the encoder lists each distinct name once, in order of first appearance, so
/// equal batches give equal bytes; the decoder refuses a record whose name index is outside the
/// table (`metricNameIndexOutOfRange`) and bounds both counts by the bytes remaining. A table
/// that repeats a name or holds an unused one is accepted (it still decodes to one meaning).
extension MetricBatch: WireCodable {
    /// i64 step + u32 name index + f64 value.
    static let recordBytes = 20

    func encode(to writer: inout ByteWriter) throws(WireError) {
        try Self.encode(records, to: &writer)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(records: try Self.decodeRecords(from: &reader))
    }

    /// Encodes `records` as a batch; also used for `Done.finalMetrics`.
    static func encode(_ records: [MetricRecord], to writer: inout ByteWriter) throws(WireError) {
        var names: [String] = []
        var indexByName: [String: UInt32] = [:]
        var indices: [UInt32] = []
        indices.reserveCapacity(records.count)
        for record in records {
            if let index = indexByName[record.name] {
                indices.append(index)
            } else {
                // At most records.count names, and a record count over u32 is refused below.
                let index = UInt32(truncatingIfNeeded: names.count)
                indexByName[record.name] = index
                names.append(record.name)
                indices.append(index)
            }
        }
        try writer.writeStrings(names, field: "MetricBatch.names")
        try writer.writeCount(records.count, field: "MetricBatch.records")
        for (record, index) in zip(records, indices) {
            writer.writeI64(record.step)
            writer.writeU32(index)
            writer.writeF64(record.value)
        }
    }

    /// Decodes a batch's records; also used for `Done.finalMetrics`.
    static func decodeRecords(from reader: inout ByteReader) throws(WireError) -> [MetricRecord] {
        let names = try reader.readStrings(field: "MetricBatch.names")
        let count = try reader.readCount(field: "MetricBatch.records", minElementBytes: recordBytes)
        var records: [MetricRecord] = []
        records.reserveCapacity(count)
        for _ in 0..<count {
            let step = try reader.readI64()
            let index = try reader.readU32()
            let value = try reader.readF64()
            guard let position = Int(exactly: index), position < names.count else {
                throw .metricNameIndexOutOfRange(index: index, nameCount: names.count)
            }
            records.append(MetricRecord(step: step, name: names[position], value: value))
        }
        return records
    }
}
