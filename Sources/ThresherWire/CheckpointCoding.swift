// Wire encodings of the checkpoint-transfer messages (docs/protocol.md, "Messages"). Fields are
// written in declaration order; the extension block follows (see `Message.encodePayload`).

extension CheckpointChunk: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU64(trialID)
        writer.writeU64(leaseEpoch)
        writer.writeI64(step)
        writer.writeU64(offset)
        writer.writeU64(totalBytes)
        writer.writeDigest(digest)
        try writer.writeLengthPrefixed(data, field: "CheckpointChunk.data")
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(
            trialID: try reader.readU64(),
            leaseEpoch: try reader.readU64(),
            step: try reader.readI64(),
            offset: try reader.readU64(),
            totalBytes: try reader.readU64(),
            digest: try reader.readDigest(),
            data: try reader.readLengthPrefixedBytes()
        )
    }
}

extension ChunkAck: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU64(trialID)
        writer.writeI64(step)
        writer.writeU64(nextOffset)
        writer.writeU8(status.rawValue)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(
            trialID: try reader.readU64(),
            step: try reader.readI64(),
            nextOffset: try reader.readU64(),
            status: try reader.readEnum(ChunkStatus.self, field: "ChunkAck.status")
        )
    }
}
