// Wire encodings of the client messages (docs/protocol.md, "Client messages"). Fields are written
// in declaration order; the extension block follows (see `Message.encodePayload`).

extension ByteWriter {
    /// `optional<string>`: a presence byte, then the string.
    mutating func writeOptionalString(_ value: String?, field: String) throws(WireError) {
        writeBool(value != nil)
        if let value { try writeString(value, field: field) }
    }

    /// `optional<f64>`.
    mutating func writeOptionalF64(_ value: Double?) {
        writeBool(value != nil)
        if let value { writeF64(value) }
    }
}

extension ByteReader {
    mutating func readOptionalString(field: String) throws(WireError) -> String? {
        try readBool(field: field) ? try readString(field: field) : nil
    }

    mutating func readOptionalF64(field: String) throws(WireError) -> Double? {
        try readBool(field: field) ? try readF64() : nil
    }
}

extension SubmitSweep: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        try writer.writeString(fileText, field: "SubmitSweep.fileText")
        try writer.writeString(fileName, field: "SubmitSweep.fileName")
        try writer.writeString(baseDirectory, field: "SubmitSweep.baseDirectory")
        try writer.writeOptionalString(name, field: "SubmitSweep.name")
        writer.writeI32(priority)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(
            fileText: try reader.readString(field: "SubmitSweep.fileText"),
            fileName: try reader.readString(field: "SubmitSweep.fileName"),
            baseDirectory: try reader.readString(field: "SubmitSweep.baseDirectory"),
            name: try reader.readOptionalString(field: "SubmitSweep.name"),
            priority: try reader.readI32())
    }
}

extension SweepSubmitted: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU64(sweepID)
        try writer.writeString(name, field: "SweepSubmitted.name")
        writer.writeBool(created)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(sweepID: try reader.readU64(), name: try reader.readString(field: "SweepSubmitted.name"),
                  created: try reader.readBool(field: "SweepSubmitted.created"))
    }
}

extension StatusRequest: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        try writer.writeOptionalString(sweep, field: "StatusRequest.sweep")
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(sweep: try reader.readOptionalString(field: "StatusRequest.sweep"))
    }
}

extension StatusReply: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        try writer.writeString(json, field: "StatusReply.json")
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(json: try reader.readString(field: "StatusReply.json"))
    }
}

extension ReportRequest: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        try writer.writeString(sweep, field: "ReportRequest.sweep")
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(sweep: try reader.readString(field: "ReportRequest.sweep"))
    }
}

extension ReportReply: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        try writer.writeString(html, field: "ReportReply.html")
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(html: try reader.readString(field: "ReportReply.html"))
    }
}

/// StopTarget: u8 kind, 1 sweep + string reference, 2 trial + u64 id.
extension StopTarget: WireCodable {
    enum Kind: UInt8 { case sweep = 1, trial = 2 }

    func encode(to writer: inout ByteWriter) throws(WireError) {
        switch self {
        case .sweep(let reference):
            writer.writeU8(Kind.sweep.rawValue)
            try writer.writeString(reference, field: "StopTarget.sweep")
        case .trial(let id):
            writer.writeU8(Kind.trial.rawValue)
            writer.writeU64(id)
        }
    }

    init(from reader: inout ByteReader) throws(WireError) {
        switch try reader.readEnum(Kind.self, field: "StopTarget.kind") {
        case .sweep: self = .sweep(try reader.readString(field: "StopTarget.sweep"))
        case .trial: self = .trial(try reader.readU64())
        }
    }
}

extension StopRequest: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        try target.encode(to: &writer)
        try writer.writeString(reason, field: "StopRequest.reason")
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(target: try StopTarget(from: &reader), reason: try reader.readString(field: "StopRequest.reason"))
    }
}

extension StopReply: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU64(sweepID)
        writer.writeU32(cancelled)
        writer.writeU32(stopped)
        try writer.writeString(detail, field: "StopReply.detail")
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(sweepID: try reader.readU64(), cancelled: try reader.readU32(), stopped: try reader.readU32(),
                  detail: try reader.readString(field: "StopReply.detail"))
    }
}

extension ExportCursor: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU64(trialID)
        writer.writeU64(seq)
        writer.writeU32(position)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(trialID: try reader.readU64(), seq: try reader.readU64(), position: try reader.readU32())
    }
}

extension ExportRequest: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        try writer.writeString(sweep, field: "ExportRequest.sweep")
        try after.encode(to: &writer)
        writer.writeU32(limit)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(sweep: try reader.readString(field: "ExportRequest.sweep"), after: try ExportCursor(from: &reader),
                  limit: try reader.readU32())
    }
}

extension ExportTrial: WireCodable {
    /// u64 id + i64 index + 4-byte state length + 4-byte params count.
    static let minBytes = 24

    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU64(trialID)
        writer.writeI64(index)
        try writer.writeString(state, field: "ExportTrial.state")
        try params.encode(to: &writer)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(trialID: try reader.readU64(), index: try reader.readI64(), state: try reader.readString(field: "ExportTrial.state"),
                  params: try ParamMap(from: &reader))
    }
}

extension ExportRow: WireCodable {
    /// u64 trial + u64 seq + i64 step + 4-byte name length + f64 value + f64 time.
    static let minBytes = 44

    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU64(trialID)
        writer.writeU64(seq)
        writer.writeI64(step)
        try writer.writeString(name, field: "ExportRow.name")
        writer.writeF64(value)
        writer.writeF64(time)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(trialID: try reader.readU64(), seq: try reader.readU64(), step: try reader.readI64(),
                  name: try reader.readString(field: "ExportRow.name"), value: try reader.readF64(), time: try reader.readF64())
    }
}

extension ExportPage: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU64(sweepID)
        try writer.writeArray(trials, field: "ExportPage.trials")
        try writer.writeArray(rows, field: "ExportPage.rows")
        try next.encode(to: &writer)
        writer.writeBool(complete)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(
            sweepID: try reader.readU64(),
            trials: try reader.readArray(ExportTrial.self, field: "ExportPage.trials", minElementBytes: ExportTrial.minBytes),
            rows: try reader.readArray(ExportRow.self, field: "ExportPage.rows", minElementBytes: ExportRow.minBytes),
            next: try ExportCursor(from: &reader),
            complete: try reader.readBool(field: "ExportPage.complete"))
    }
}

extension BestRequest: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        try writer.writeString(sweep, field: "BestRequest.sweep")
        writer.writeU32(count)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(sweep: try reader.readString(field: "BestRequest.sweep"), count: try reader.readU32())
    }
}

extension BestCheckpoint: WireCodable {
    /// u64 trial + i64 index + i64 step + 1-byte absent value + u64 bytes + 32-byte digest + 4-byte params count.
    static let minBytes = 69

    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU64(trialID)
        writer.writeI64(trialIndex)
        writer.writeI64(step)
        writer.writeOptionalF64(value)
        writer.writeU64(byteCount)
        writer.writeDigest(digest)
        try params.encode(to: &writer)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(trialID: try reader.readU64(), trialIndex: try reader.readI64(), step: try reader.readI64(),
                  value: try reader.readOptionalF64(field: "BestCheckpoint.value"), byteCount: try reader.readU64(),
                  digest: try reader.readDigest(), params: try ParamMap(from: &reader))
    }
}

extension BestCheckpoints: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU64(sweepID)
        try writer.writeString(sweepName, field: "BestCheckpoints.sweepName")
        try writer.writeString(metric, field: "BestCheckpoints.metric")
        try writer.writeArray(checkpoints, field: "BestCheckpoints.checkpoints")
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(
            sweepID: try reader.readU64(), sweepName: try reader.readString(field: "BestCheckpoints.sweepName"),
            metric: try reader.readString(field: "BestCheckpoints.metric"),
            checkpoints: try reader.readArray(BestCheckpoint.self, field: "BestCheckpoints.checkpoints", minElementBytes: BestCheckpoint.minBytes))
    }
}

extension BlobRead: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeDigest(digest)
        writer.writeU64(offset)
        writer.writeU32(maxBytes)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(digest: try reader.readDigest(), offset: try reader.readU64(), maxBytes: try reader.readU32())
    }
}

extension BlobData: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeDigest(digest)
        writer.writeU64(offset)
        writer.writeU64(totalBytes)
        try writer.writeLengthPrefixed(data, field: "BlobData.data")
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(digest: try reader.readDigest(), offset: try reader.readU64(), totalBytes: try reader.readU64(),
                  data: try reader.readLengthPrefixedBytes())
    }
}
