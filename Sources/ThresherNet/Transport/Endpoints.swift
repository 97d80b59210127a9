import CNNG

/// The parts of an NNG URL that the transport layer needs to reason about.
///
/// Guarantees: parsing never fails; anything NNG would reject is passed through unchanged and
/// rejected by NNG with a `NetError` naming the URL.
struct TransportURL: Sendable {
    let text: String
    /// Everything before `://`, e.g. `tcp`, `tls+tcp`, `ipc`, `inproc`.
    let scheme: String
    /// Host of a `tcp`/`tls+tcp` URL (without IPv6 brackets); `nil` for other schemes.
    let host: String?

    init(_ text: String) {
        self.text = text
        guard let separator = text.firstRange(of: "://") else {
            scheme = ""
            host = nil
            return
        }
        scheme = String(text[..<separator.lowerBound])
        guard scheme.contains("tcp") else {
            host = nil
            return
        }
        let authority = text[separator.upperBound...]
        let hostPart = authority.lastIndex(of: ":").map { authority[..<$0] } ?? authority
        host = String(hostPart).trimmingBrackets
    }

    var usesTLS: Bool { scheme.hasPrefix("tls+") }
    var isTCP: Bool { host != nil }

    /// The port of a `tcp`/`tls+tcp` URL.
    var port: Int? {
        guard isTCP, let colon = text.lastIndex(of: ":") else { return nil }
        return Int(text[text.index(after: colon)...])
    }

    /// The same URL with its port replaced, e.g. after binding `tcp://127.0.0.1:0`.
    func replacingPort(with port: Int) -> String {
        guard isTCP, let separator = text.firstRange(of: "://"),
              let colon = text[separator.upperBound...].lastIndex(of: ":") else { return text }
        return text[..<colon] + ":\(port)"
    }
}

private extension String {
    var trimmingBrackets: String {
        hasPrefix("[") && hasSuffix("]") ? String(dropFirst().dropLast()) : self
    }
}

/// Creates and starts listeners and dialers on a `SocketHandle`.
///
/// Guarantees: each endpoint is fully configured (size limit, TLS, backoff) before it starts.
/// A listener or dialer that fails before starting is closed here; once started it belongs to
/// the socket and is closed with it.
enum Endpoints {
    /// Starts listening on `url`; returns the URL as bound (a `:0` port replaced by the real one).
    static func listen(_ urlText: String, on handle: SocketHandle, options: TransportOptions) throws(NetError) -> String {
        let url = TransportURL(urlText)
        var listener = nng_listener()
        try nngCheck(nng_listener_create(&listener, handle.socket, urlText), "listen \(urlText)")
        do {
            try configure(url, options: options,
                          setSize: { nng_listener_set_size(listener, NNG_OPT_RECVMAXSZ, $0) },
                          applyTLS: { tls throws(NetError) in
                              try TLSConfigHandle(tls, mode: .server, defaultServerName: nil).apply(to: listener, url: urlText)
                          })
            try nngCheck(nng_listener_start(listener, 0), "listen \(urlText)")
        } catch {
            _ = nng_listener_close(listener)
            throw error
        }
        guard url.isTCP else { return urlText }
        var port: Int32 = 0
        try nngCheck(nng_listener_get_int(listener, NNG_OPT_TCP_BOUND_PORT, &port), "read bound port of \(urlText)")
        return url.replacingPort(with: Int(port))
    }

    /// Starts dialing `url` in the background: a server that is not up yet is retried with the
    /// socket's reconnect backoff instead of failing here.
    static func dial(_ urlText: String, on handle: SocketHandle, options: TransportOptions) throws(NetError) {
        let url = TransportURL(urlText)
        var dialer = nng_dialer()
        try nngCheck(nng_dialer_create(&dialer, handle.socket, urlText), "dial \(urlText)")
        do {
            try configure(url, options: options,
                          setSize: { nng_dialer_set_size(dialer, NNG_OPT_RECVMAXSZ, $0) },
                          applyTLS: { tls throws(NetError) in
                              try TLSConfigHandle(tls, mode: .client, defaultServerName: url.host).apply(to: dialer, url: urlText)
                          })
            try nngCheck(nng_dialer_set_ms(dialer, NNG_OPT_RECONNMINT, options.reconnectMin.nngMilliseconds),
                         "set reconnect backoff on \(urlText)")
            try nngCheck(nng_dialer_set_ms(dialer, NNG_OPT_RECONNMAXT, options.reconnectMax.nngMilliseconds),
                         "set reconnect backoff on \(urlText)")
            try nngCheck(nng_dialer_start(dialer, Int32(NNG_FLAG_NONBLOCK)), "dial \(urlText)")
        } catch {
            _ = nng_dialer_close(dialer)
            throw error
        }
    }

    private static func configure(_ url: TransportURL, options: TransportOptions,
                                  setSize: (Int) -> Int32,
                                  applyTLS: (TLSConfiguration) throws(NetError) -> Void) throws(NetError) {
        try nngCheck(setSize(options.maxMessageBytes), "set \(NNG_OPT_RECVMAXSZ) on \(url.text)")
        if url.usesTLS {
            guard let tls = options.tls else { throw NetError.invalid("\(url.text) needs TransportOptions.tls") }
            try applyTLS(tls)
        }
    }
}
