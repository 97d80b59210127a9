import ArgumentParser
import Foundation
import ThresherNet

/// `--tls-cert`, `--tls-key`, `--tls-ca`, `--tls-server-name`, `--tls-require-client-cert`: the
/// PEM files for `tls+tcp://` URLs, shared by the coordinator, the worker and every client command.
///
/// Guarantees: a `tls+tcp://` URL never runs without what it needs — a coordinator needs its
/// certificate and key, a worker or client needs the CA that signed the coordinator's certificate
/// (the server is always verified) — and TLS flags beside URLs that are not `tls+tcp://` are an
/// error, not silently ignored. Files are read when the socket opens, so a missing one fails at
/// start with its path.
struct TLSFlags: ParsableArguments {
    @Option(name: .customLong("tls-cert"), help: ArgumentHelp(
        "PEM certificate chain of this end (a coordinator on tls+tcp:// needs one; a worker or client for mutual TLS).",
        valueName: "FILE"))
    var certificate: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("PEM private key of --tls-cert.", valueName: "FILE"))
    var key: String?

    @Option(name: .customLong("tls-ca"), help: ArgumentHelp(
        "PEM CA certificates: a worker or client verifies the coordinator against them (required with tls+tcp://); "
            + "a coordinator verifies client certificates against them.",
        valueName: "FILE"))
    var ca: String?

    @Option(name: .customLong("tls-server-name"), help: ArgumentHelp(
        "Worker or client: the DNS name the coordinator's certificate must carry (default: the URL's host).",
        valueName: "NAME"))
    var serverName: String?

    @Flag(name: .customLong("tls-require-client-cert"),
          help: "Coordinator: refuse TLS connections without a client certificate signed by --tls-ca (mutual TLS).")
    var requireClientCertificate = false

    private var anyGiven: Bool { certificate != nil || key != nil || ca != nil || serverName != nil || requireClientCertificate }

    static func isTLS(_ url: String) -> Bool { url.lowercased().hasPrefix("tls+") }

    /// The listener side (`thresher coordinator`).
    func server(listening urls: [String]) throws -> TLSConfiguration? {
        guard urls.contains(where: Self.isTLS) else {
            if anyGiven { throw CLIError("--tls-* options are given but no --listen URL is tls+tcp://") }
            return nil
        }
        guard let certificate, let key else {
            throw CLIError("a tls+tcp:// listener needs --tls-cert and --tls-key (scripts/make-test-certs makes a test set)")
        }
        if serverName != nil { throw CLIError("--tls-server-name is for workers and clients, not the coordinator") }
        if requireClientCertificate && ca == nil {
            throw CLIError("--tls-require-client-cert needs --tls-ca to verify client certificates against")
        }
        return TLSConfiguration(certificateFile: certificate, keyFile: key, caFile: ca,
                                requirePeerCertificate: requireClientCertificate)
    }

    /// The dialing side (`thresher worker`, `submit`, `status`, `stop`, `export`, `fetch`).
    func client(connecting url: String) throws -> TLSConfiguration? {
        guard Self.isTLS(url) else {
            if anyGiven { throw CLIError("--tls-* options are given but \(url) is not a tls+tcp:// URL") }
            return nil
        }
        guard let ca else {
            throw CLIError("\(url) needs --tls-ca: the CA certificate that signed the coordinator's certificate")
        }
        if (certificate == nil) != (key == nil) { throw CLIError("--tls-cert and --tls-key go together") }
        if requireClientCertificate { throw CLIError("--tls-require-client-cert is for the coordinator") }
        return TLSConfiguration(certificateFile: certificate, keyFile: key, caFile: ca, serverName: serverName,
                                requirePeerCertificate: true)
    }
}
