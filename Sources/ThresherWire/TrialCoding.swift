// Wire encodings of the trial-assignment messages (docs/protocol.md, "Messages"). Fields are
// written in declaration order; the extension block follows (see `Message.encodePayload`).

extension RequestTrial: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU16(freeSlots)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(freeSlots: try reader.readU16())
    }
}

extension ResumePoint: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeI64(step)
        writer.writeDigest(digest)
        writer.writeU64(byteCount)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(step: try reader.readI64(), digest: try reader.readDigest(), byteCount: try reader.readU64())
    }
}

extension Assign: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU64(sweepID)
        writer.writeU64(trialID)
        writer.writeU64(leaseEpoch)
        try params.encode(to: &writer)
        try run.encode(to: &writer)
        try writer.writeOptional(resumeFrom)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(
            sweepID: try reader.readU64(),
            trialID: try reader.readU64(),
            leaseEpoch: try reader.readU64(),
            params: try ParamMap(from: &reader),
            run: try ParamMap(from: &reader),
            resumeFrom: try reader.readOptional(ResumePoint.self, field: "Assign.resumeFrom")
        )
    }
}

extension NoWork: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU8(reason.rawValue)
        writer.writeU32(retryAfterMs)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(
            reason: try reader.readEnum(NoWorkReason.self, field: "NoWork.reason"),
            retryAfterMs: try reader.readU32()
        )
    }
}
