import CNNG

/// A failed NNG operation: the NNG error number, what was being attempted, and NNG's own text.
///
/// Guarantees: `code` is always an NNG error number (`nng_errno_enum`, possibly with
/// `NNG_ESYSERR`/`NNG_ETRANERR` bits), never zero. The classification properties
/// (`isTimedOut`, `isClosed`, ...) depend only on `code`, so they stay stable however the
/// operation text is worded.
public struct NetError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The NNG error number.
    public let code: Int32
    /// What was being attempted, e.g. `"dial tcp://h:7700"` or `"request"`.
    public let operation: String

    public init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
    }

    init(_ code: nng_errno_enum, operation: String) {
        self.init(code: Int32(code.rawValue), operation: operation)
    }

    /// NNG's description of `code` (`nng_strerror`).
    public var message: String {
        guard let text = nng_strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    public var description: String { "\(operation): \(message) (nng error \(code))" }

    /// The operation's deadline passed (`NNG_ETIMEDOUT`).
    public var isTimedOut: Bool { matches(NNG_ETIMEDOUT) }
    /// The socket (or context) was closed under the operation (`NNG_ECLOSED`).
    public var isClosed: Bool { matches(NNG_ECLOSED) }
    /// The operation was cancelled, usually by Swift task cancellation (`NNG_ECANCELED`).
    public var isCancelled: Bool { matches(NNG_ECANCELED) }
    /// The peer refused or reset the connection.
    public var isConnectionLost: Bool {
        matches(NNG_ECONNREFUSED) || matches(NNG_ECONNRESET) || matches(NNG_ECONNSHUT) || matches(NNG_ECONNABORTED)
    }
    /// The address could not be used (`NNG_EADDRINUSE`, `NNG_EADDRINVAL`).
    public var isAddressProblem: Bool { matches(NNG_EADDRINUSE) || matches(NNG_EADDRINVAL) }
    /// A message exceeded a size limit (`NNG_EMSGSIZE`).
    public var isMessageTooLarge: Bool { matches(NNG_EMSGSIZE) }
    /// TLS setup or peer authentication failed (`NNG_ECRYPTO`, `NNG_EPEERAUTH`).
    public var isSecurityFailure: Bool { matches(NNG_ECRYPTO) || matches(NNG_EPEERAUTH) }

    /// Task cancellation, for callers that need one without an NNG operation at hand.
    public static var cancelled: NetError { NetError(NNG_ECANCELED, operation: "cancelled") }
    /// An operation on a transport that was already closed.
    public static func closed(_ operation: String) -> NetError { NetError(NNG_ECLOSED, operation: operation) }
    /// Invalid configuration or argument detected before calling NNG.
    public static func invalid(_ operation: String) -> NetError { NetError(NNG_EINVAL, operation: operation) }

    private func matches(_ errno: nng_errno_enum) -> Bool { code == Int32(errno.rawValue) }
}

/// Turns an NNG return code into a thrown `NetError`; `operation` is evaluated only on failure.
@inline(__always)
func nngCheck(_ rv: Int32, _ operation: @autoclosure () -> String) throws(NetError) {
    if rv != 0 { throw NetError(code: rv, operation: operation()) }
}
