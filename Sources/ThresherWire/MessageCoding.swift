/// Payload encoding of a whole `Message`: the message's fields, then the extension block.
///
/// Guarantees: `decodePayload` consumes the whole payload or throws (`trailingBytes` when bytes
/// follow the extension block); it chooses the layout from the header's type byte alone.
extension Message {
    /// Writes the payload of this message (no frame header).
    func encodePayload(to writer: inout ByteWriter) throws(WireError) {
        switch self {
        case let .hello(body): try body.encode(to: &writer)
        case let .challenge(body): try body.encode(to: &writer)
        case let .proof(body): try body.encode(to: &writer)
        case let .welcome(body): try body.encode(to: &writer)
        case let .rejected(body): try body.encode(to: &writer)
        case let .requestTrial(body): try body.encode(to: &writer)
        case let .assign(body): try body.encode(to: &writer)
        case let .noWork(body): try body.encode(to: &writer)
        case let .report(body): try body.encode(to: &writer)
        case let .ack(body): try body.encode(to: &writer)
        case let .heartbeat(body): try body.encode(to: &writer)
        case let .checkpointChunk(body): try body.encode(to: &writer)
        case let .chunkAck(body): try body.encode(to: &writer)
        case let .done(body): try body.encode(to: &writer)
        case let .failed(body): try body.encode(to: &writer)
        case let .submitSweep(body): try body.encode(to: &writer)
        case let .sweepSubmitted(body): try body.encode(to: &writer)
        case let .statusRequest(body): try body.encode(to: &writer)
        case let .statusReply(body): try body.encode(to: &writer)
        case let .stopRequest(body): try body.encode(to: &writer)
        case let .stopReply(body): try body.encode(to: &writer)
        case let .exportRequest(body): try body.encode(to: &writer)
        case let .exportPage(body): try body.encode(to: &writer)
        case let .bestRequest(body): try body.encode(to: &writer)
        case let .bestCheckpoints(body): try body.encode(to: &writer)
        case let .blobRead(body): try body.encode(to: &writer)
        case let .blobData(body): try body.encode(to: &writer)
        case let .reportRequest(body): try body.encode(to: &writer)
        case let .reportReply(body): try body.encode(to: &writer)
        case let .error(body): try body.encode(to: &writer)
        }
        ExtensionBlock.writeEmpty(to: &writer)
    }

    /// Reads a whole payload of the given type: fields, extension block, end of input.
    static func decodePayload(type: MessageType, from reader: inout ByteReader) throws(WireError) -> Message {
        let message: Message =
            switch type {
            case .hello: .hello(try Hello(from: &reader))
            case .challenge: .challenge(try Challenge(from: &reader))
            case .proof: .proof(try Proof(from: &reader))
            case .welcome: .welcome(try Welcome(from: &reader))
            case .rejected: .rejected(try Rejected(from: &reader))
            case .requestTrial: .requestTrial(try RequestTrial(from: &reader))
            case .assign: .assign(try Assign(from: &reader))
            case .noWork: .noWork(try NoWork(from: &reader))
            case .report: .report(try Report(from: &reader))
            case .ack: .ack(try Ack(from: &reader))
            case .heartbeat: .heartbeat(try Heartbeat(from: &reader))
            case .checkpointChunk: .checkpointChunk(try CheckpointChunk(from: &reader))
            case .chunkAck: .chunkAck(try ChunkAck(from: &reader))
            case .done: .done(try Done(from: &reader))
            case .failed: .failed(try Failed(from: &reader))
            case .submitSweep: .submitSweep(try SubmitSweep(from: &reader))
            case .sweepSubmitted: .sweepSubmitted(try SweepSubmitted(from: &reader))
            case .statusRequest: .statusRequest(try StatusRequest(from: &reader))
            case .statusReply: .statusReply(try StatusReply(from: &reader))
            case .stopRequest: .stopRequest(try StopRequest(from: &reader))
            case .stopReply: .stopReply(try StopReply(from: &reader))
            case .exportRequest: .exportRequest(try ExportRequest(from: &reader))
            case .exportPage: .exportPage(try ExportPage(from: &reader))
            case .bestRequest: .bestRequest(try BestRequest(from: &reader))
            case .bestCheckpoints: .bestCheckpoints(try BestCheckpoints(from: &reader))
            case .blobRead: .blobRead(try BlobRead(from: &reader))
            case .blobData: .blobData(try BlobData(from: &reader))
            case .reportRequest: .reportRequest(try ReportRequest(from: &reader))
            case .reportReply: .reportReply(try ReportReply(from: &reader))
            case .error: .error(try ErrorReply(from: &reader))
            }
        try ExtensionBlock.skip(from: &reader)
        try reader.expectEnd()
        return message
    }
}
