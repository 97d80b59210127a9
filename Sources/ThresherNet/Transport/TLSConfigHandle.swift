import CNNG
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Sole owner of one reference to an `nng_tls_config` built from a `TLSConfiguration`.
///
/// Guarantees: the reference is released exactly once, in `deinit`. Listeners and dialers take
/// their own reference when the configuration is set on them (`NNG_OPT_TLS_CONFIG` holds it),
/// so this handle may go away as soon as `apply(to:)` has returned.
final class TLSConfigHandle {
    enum Mode { case server, client }

    private let config: OpaquePointer

    init(_ settings: TLSConfiguration, mode: Mode, defaultServerName: String?) throws(NetError) {
        var config: OpaquePointer?
        let nngMode = mode == .server ? NNG_TLS_MODE_SERVER : NNG_TLS_MODE_CLIENT
        try nngCheck(nng_tls_config_alloc(&config, nngMode), "allocate TLS configuration")
        guard let config else { throw NetError(NNG_ENOMEM, operation: "allocate TLS configuration") }
        self.config = config
        // From here on `deinit` releases the configuration if anything below throws.

        switch (settings.certificateFile, settings.keyFile) {
        case let (certificate?, key?):
            // nng_tls_config_cert_key_file wants certificate and key in one file; ours are two.
            let certificatePEM = try Self.readPEM(certificate, what: "certificate")
            let keyPEM = try Self.readPEM(key, what: "key")
            try nngCheck(nng_tls_config_own_cert(config, certificatePEM, keyPEM, nil),
                         "load TLS certificate \(certificate) with key \(key)")
        case (nil, nil):
            if mode == .server { throw NetError.invalid("TLS server needs certificateFile and keyFile") }
        default:
            throw NetError.invalid("TLS certificateFile and keyFile must be given together")
        }
        if let ca = settings.caFile {
            try nngCheck(nng_tls_config_ca_file(config, ca), "load TLS CA file \(ca)")
        }
        if mode == .client, let name = settings.serverName ?? defaultServerName {
            try nngCheck(nng_tls_config_server_name(config, name), "set TLS server name \(name)")
        }
        let auth: nng_tls_auth_mode
        if settings.requirePeerCertificate {
            guard settings.caFile != nil else {
                throw NetError.invalid("TLS requirePeerCertificate needs caFile to verify the peer against")
            }
            auth = NNG_TLS_AUTH_MODE_REQUIRED
        } else {
            auth = settings.caFile != nil ? NNG_TLS_AUTH_MODE_OPTIONAL : NNG_TLS_AUTH_MODE_NONE
        }
        try nngCheck(nng_tls_config_auth_mode(config, auth), "set TLS authentication mode")
    }

    func apply(to listener: nng_listener, url: String) throws(NetError) {
        try nngCheck(nng_listener_set_ptr(listener, NNG_OPT_TLS_CONFIG, UnsafeMutableRawPointer(config)),
                     "set TLS configuration on listener \(url)")
    }

    func apply(to dialer: nng_dialer, url: String) throws(NetError) {
        try nngCheck(nng_dialer_set_ptr(dialer, NNG_OPT_TLS_CONFIG, UnsafeMutableRawPointer(config)),
                     "set TLS configuration on dialer \(url)")
    }

    deinit { nng_tls_config_free(config) }

    private static func readPEM(_ path: String, what: String) throws(NetError) -> String {
        do {
            return String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        } catch {
            throw NetError(NNG_ENOENT, operation: "read TLS \(what) \(path) (\(error))")
        }
    }
}
