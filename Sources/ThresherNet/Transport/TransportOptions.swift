import CNNG

/// The NNG pipe (one connection) a request arrived on.
///
/// Guarantees: equal values name the same connection for as long as it is open; NNG does not
/// hand the same id to another pipe of the process while this one is alive.
public struct PipeID: Hashable, Sendable, CustomStringConvertible {
    public let raw: UInt32
    public init(raw: UInt32) { self.raw = raw }
    public var description: String { "pipe#\(raw)" }
}

/// What happened to a connection, as reported by `nng_pipe_notify`.
///
/// Each connection is reported `added` once and `removed` once, but NNG runs the two
/// notifications on different threads without ordering them: requests may arrive on a pipe
/// before its `added`, and a connection that closes at once may be reported `removed` first.
public enum PipeEvent: Sendable, Hashable {
    /// The connection is established and attached to the socket.
    case added
    /// The connection is gone; no further request will arrive on it.
    case removed
}

/// One request as received by a `ReplyServer`: the bytes the client sent, and its connection.
public struct IncomingRequest: Sendable {
    public let bytes: [UInt8]
    public let pipe: PipeID
    public init(bytes: [UInt8], pipe: PipeID) {
        self.bytes = bytes
        self.pipe = pipe
    }
}

/// TLS material for `tls+tcp://` URLs, as PEM files on disk.
///
/// Guarantees: the files are read when the listener or dialer is created, so a missing or
/// unreadable file fails `ReplyServer.init`/`RequestClient.init` with a `NetError`, not a later
/// request. `requirePeerCertificate` means the peer must present a certificate that verifies
/// against `caFile` (server: mutual TLS; client: the server's certificate is verified); without
/// it a peer certificate is verified only when one is presented and a CA is configured.
public struct TLSConfiguration: Sendable, Hashable {
    /// Our own certificate chain (required on a server, optional on a client).
    public var certificateFile: String?
    /// The private key for `certificateFile`.
    public var keyFile: String?
    /// CA certificates that peer certificates are verified against.
    public var caFile: String?
    /// Client only: the name the server's certificate must carry. Defaults to the URL's host.
    /// NNG's TLS engine here (mbed TLS 2.28) matches this against DNS names only, so a server
    /// dialed by IP address needs that address as a DNS subject-alternative name too (as
    /// `scripts/make-test-certs` does), or a `serverName` its certificate carries.
    public var serverName: String?
    public var requirePeerCertificate: Bool

    public init(certificateFile: String? = nil, keyFile: String? = nil, caFile: String? = nil,
                serverName: String? = nil, requirePeerCertificate: Bool = true) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.caFile = caFile
        self.serverName = serverName
        self.requirePeerCertificate = requirePeerCertificate
    }
}

/// Settings shared by `ReplyServer` and `RequestClient`.
///
/// Guarantees: every value is applied to the socket, listener or dialer before it starts, so no
/// connection ever exists with NNG's defaults instead of these.
public struct TransportOptions: Sendable, Hashable {
    /// Largest message a socket accepts (`NNG_OPT_RECVMAXSZ`). A peer that sends more is
    /// disconnected by NNG; other connections are unaffected. 64 MiB + 64 KiB by default.
    public var maxMessageBytes: Int
    /// Used for `tls+tcp://` URLs; required for them.
    public var tls: TLSConfiguration?
    /// Dialer reconnect backoff: first retry after `reconnectMin`, doubling up to `reconnectMax`.
    public var reconnectMin: Duration
    public var reconnectMax: Duration
    /// Server: how long a reply may wait for a busy connection before it is dropped.
    /// `nil` waits as long as the connection lives.
    public var sendTimeout: Duration?
    /// Client: a request that got no reply in this time is sent again (`NNG_OPT_REQ_RESENDTIME`),
    /// which also covers a server that restarted. `nil` keeps NNG's default (one minute).
    public var resendInterval: Duration?

    public static let defaultMaxMessageBytes = 64 * 1024 * 1024 + 64 * 1024

    public init(maxMessageBytes: Int = TransportOptions.defaultMaxMessageBytes,
                tls: TLSConfiguration? = nil,
                reconnectMin: Duration = .milliseconds(100),
                reconnectMax: Duration = .seconds(5),
                sendTimeout: Duration? = nil,
                resendInterval: Duration? = nil) {
        self.maxMessageBytes = maxMessageBytes
        self.tls = tls
        self.reconnectMin = reconnectMin
        self.reconnectMax = reconnectMax
        self.sendTimeout = sendTimeout
        self.resendInterval = resendInterval
    }
}

extension Duration {
    /// Whole milliseconds as an `nng_duration`, rounded up so a small positive duration never
    /// becomes "no wait", and clamped to NNG's 32-bit range.
    var nngMilliseconds: nng_duration {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        let millis = seconds.multipliedReportingOverflow(by: 1000)
        let fraction = (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        guard !millis.overflow, millis.partialValue < Int64(Int32.max) - fraction else { return Int32.max }
        return nng_duration(millis.partialValue + fraction)
    }
}

/// `NNG_DURATION_INFINITE` with the type NNG's setters take.
let nngForever: nng_duration = -1
