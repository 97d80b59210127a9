// Wire encodings of the trial-ending messages and the error reply (docs/protocol.md,
// "Messages"). Fields are written in declaration order; the extension block follows (see
// `Message.encodePayload`).

extension Done: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU64(trialID)
        writer.writeU64(leaseEpoch)
        writer.writeI64(finalStep)
        // Final metrics use the MetricBatch layout (interned names).
        try MetricBatch.encode(finalMetrics, to: &writer)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(
            trialID: try reader.readU64(),
            leaseEpoch: try reader.readU64(),
            finalStep: try reader.readI64(),
            finalMetrics: try MetricBatch.decodeRecords(from: &reader)
        )
    }
}

extension Failed: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU64(trialID)
        writer.writeU64(leaseEpoch)
        try writer.writeString(reason, field: "Failed.reason")
        writer.writeBool(exitCode != nil)
        if let exitCode { writer.writeI32(exitCode) }
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(
            trialID: try reader.readU64(),
            leaseEpoch: try reader.readU64(),
            reason: try reader.readString(field: "Failed.reason"),
            exitCode: try reader.readBool(field: "Failed.exitCode") ? try reader.readI32() : nil
        )
    }
}

extension ErrorReply: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU8(code.rawValue)
        try writer.writeString(detail, field: "ErrorReply.detail")
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(
            code: try reader.readEnum(ErrorCode.self, field: "ErrorReply.code"),
            detail: try reader.readString(field: "ErrorReply.detail")
        )
    }
}
