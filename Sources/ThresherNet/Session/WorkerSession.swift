import ThresherWire

/// An authenticated worker connection. It is bound to one NNG pipe (one TCP/IPC connection):
/// a reconnect is a new pipe and needs a new handshake, so a stolen session id is worthless.
public struct WorkerSession: Sendable, Hashable {
    public let id: UInt64
    public let workerID: String
    public let slots: UInt16
    public let capabilities: [String]
    public let pipe: PipeID
}
