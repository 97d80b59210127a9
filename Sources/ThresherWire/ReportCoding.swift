// Wire encodings of the reporting messages and their replies (docs/protocol.md, "Messages"):
// Report, Heartbeat, and the Ack that carries verdicts back. Fields are written in declaration
// order; the extension block follows (see `Message.encodePayload`).

extension Report: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU64(trialID)
        writer.writeU64(leaseEpoch)
        writer.writeU64(seq)
        try batch.encode(to: &writer)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(
            trialID: try reader.readU64(),
            leaseEpoch: try reader.readU64(),
            seq: try reader.readU64(),
            batch: try MetricBatch(from: &reader)
        )
    }
}

/// Verdict: u8 kind, 0 proceed (no body), 1 stop + string reason, 2 upload + i64 step.
extension Verdict: WireCodable {
    enum Kind: UInt8 {
        case proceed = 0, stop = 1, upload = 2
    }

    func encode(to writer: inout ByteWriter) throws(WireError) {
        switch self {
        case .proceed:
            writer.writeU8(Kind.proceed.rawValue)
        case let .stop(reason):
            writer.writeU8(Kind.stop.rawValue)
            try writer.writeString(reason, field: "Verdict.stop.reason")
        case let .upload(step):
            writer.writeU8(Kind.upload.rawValue)
            writer.writeI64(step)
        }
    }

    init(from reader: inout ByteReader) throws(WireError) {
        switch try reader.readEnum(Kind.self, field: "Verdict.kind") {
        case .proceed: self = .proceed
        case .stop: self = .stop(reason: try reader.readString(field: "Verdict.stop.reason"))
        case .upload: self = .upload(step: try reader.readI64())
        }
    }
}

extension TrialVerdict: WireCodable {
    /// u64 trial ID + the 1-byte verdict kind.
    static let minBytes = 9

    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU64(trialID)
        try verdict.encode(to: &writer)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(trialID: try reader.readU64(), verdict: try Verdict(from: &reader))
    }
}

extension Ack: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU64(ackedSeq)
        try writer.writeArray(verdicts, field: "Ack.verdicts")
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(
            ackedSeq: try reader.readU64(),
            verdicts: try reader.readArray(TrialVerdict.self, field: "Ack.verdicts", minElementBytes: TrialVerdict.minBytes)
        )
    }
}

extension HeldTrial: WireCodable {
    /// u64 trial ID + u64 lease epoch + i64 step.
    static let byteCount = 24

    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU64(trialID)
        writer.writeU64(leaseEpoch)
        writer.writeI64(step)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(trialID: try reader.readU64(), leaseEpoch: try reader.readU64(), step: try reader.readI64())
    }
}

extension Heartbeat: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        try writer.writeArray(trials, field: "Heartbeat.trials")
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(trials: try reader.readArray(HeldTrial.self, field: "Heartbeat.trials", minElementBytes: HeldTrial.byteCount))
    }
}
