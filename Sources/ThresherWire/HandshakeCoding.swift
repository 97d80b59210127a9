// Wire encodings of the handshake messages (docs/protocol.md, "Messages"). Fields are written
// in declaration order; each message's payload then ends with the extension block written by
// `Message.encodePayload`.

extension Hello: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        try writer.writeString(workerID, field: "Hello.workerID")
        writer.writeU16(slots)
        try writer.writeStrings(capabilities, field: "Hello.capabilities")
        writer.writeDigest(clientNonce)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(
            workerID: try reader.readString(field: "Hello.workerID"),
            slots: try reader.readU16(),
            capabilities: try reader.readStrings(field: "Hello.capabilities"),
            clientNonce: try reader.readDigest()
        )
    }
}

extension Challenge: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeDigest(serverNonce)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(serverNonce: try reader.readDigest())
    }
}

extension Proof: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeDigest(mac)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(mac: try reader.readDigest())
    }
}

extension Welcome: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU64(sessionID)
        writer.writeDigest(serverMac)
        writer.writeU32(heartbeatIntervalMs)
        writer.writeU32(leaseTimeoutMs)
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(
            sessionID: try reader.readU64(),
            serverMac: try reader.readDigest(),
            heartbeatIntervalMs: try reader.readU32(),
            leaseTimeoutMs: try reader.readU32()
        )
    }
}

extension Rejected: WireCodable {
    func encode(to writer: inout ByteWriter) throws(WireError) {
        writer.writeU8(reason.rawValue)
        try writer.writeString(detail, field: "Rejected.detail")
    }

    init(from reader: inout ByteReader) throws(WireError) {
        self.init(
            reason: try reader.readEnum(RejectReason.self, field: "Rejected.reason"),
            detail: try reader.readString(field: "Rejected.detail")
        )
    }
}
