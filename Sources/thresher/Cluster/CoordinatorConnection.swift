import ArgumentParser
import Foundation
import ThresherCoordinator
import ThresherNet
import ThresherWire

/// A command-line client's session with a coordinator: the worker handshake with the capability
/// `client`, zero slots and a fresh id, then one request at a time.
///
/// Guarantees: every failure becomes a `CLIError` that names what to fix — the URL and the NNG
/// error when the coordinator cannot be reached, "wrong token" when the handshake is refused, the
/// coordinator's own sentence for a refused request — and the command exits 2 with it.
final class CoordinatorConnection: Sendable {
    let url: String
    private let client: ClusterClient
    static let timeout: Duration = .seconds(10)

    /// Connects lazily: NNG dials in the background and the first request does the handshake.
    init(url: String, tokenFile: String?, tls: TLSFlags) throws {
        self.url = url
        let token = try Self.token(url: url, tokenFile: tokenFile)
        var host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        host = String(host.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) || $0 == "-" })
        let id = "client-\(host.isEmpty ? "host" : host)-\(getpid())-\(String(UInt32.random(in: 0 ... .max), radix: 16))"
        var transport = TransportOptions(tls: try tls.client(connecting: url))
        // A client is short-lived: fail fast instead of retrying a dial for ever.
        transport.reconnectMin = .milliseconds(100)
        do {
            client = try ClusterClient(connect: url, token: token,
                                       identity: WorkerIdentity(workerID: id, slots: 0, capabilities: [Coordinator.clientCapability]),
                                       transport: transport)
        } catch {
            throw CLIError("cannot connect to the coordinator at \(url): \(error)")
        }
    }

    deinit { client.close() }

    /// The client's token: --token-file, THRESHER_TOKEN_FILE / THRESHER_TOKEN, or for an ipc://
    /// coordinator the `cluster.token` next to its socket (where `thresher run` keeps it).
    static func token(url: String, tokenFile: String?) throws -> ClusterToken {
        do {
            if let token = try TokenPolicy.explicit(tokenFile: tokenFile) { return token }
        } catch {
            throw CLIError("cannot read the cluster token: \(error)")
        }
        if url.lowercased().hasPrefix("ipc://") {
            let socket = String(url.dropFirst("ipc://".count))
            let beside = ((socket as NSString).deletingLastPathComponent as NSString).appendingPathComponent(TokenPolicy.stateTokenName)
            if FileManager.default.fileExists(atPath: beside) {
                do { return try ClusterToken(contentsOfFile: beside) } catch { throw CLIError("cannot read the cluster token \(beside): \(error)") }
            }
        }
        throw CLIError("no cluster token for \(url): pass --token-file (the coordinator's token file; for a local coordinator "
            + "STATE/cluster.token) or set THRESHER_TOKEN_FILE or THRESHER_TOKEN")
    }

    /// Sends one request; returns the reply unless it is an `Error`, which becomes a `CLIError`.
    func request(_ message: Message) async throws -> Message {
        let reply: Message
        do {
            reply = try await client.send(message, timeout: Self.timeout)
        } catch {
            throw describe(error)
        }
        if case .error(let error) = reply {
            if error.code == .malformedFrame, error.detail.contains("unknown message type") {
                throw CLIError("the coordinator at \(url) does not know \(message.type) (it predates the client messages); upgrade it")
            }
            throw CLIError("the coordinator at \(url) refused \(message.type) (\(error.code)): \(error.detail)")
        }
        return reply
    }

    func close() { client.close() }

    private func describe(_ error: ClusterError) -> CLIError {
        switch error {
        case .rejected(let rejected) where rejected.reason == .badProof:
            CLIError("the coordinator at \(url) refused the cluster token (wrong token): \(rejected.detail)")
        case .rejected(let rejected):
            CLIError("the coordinator at \(url) refused the handshake (\(rejected.reason)): \(rejected.detail)")
        case .serverNotAuthenticated:
            CLIError("the server at \(url) does not hold this cluster's token (wrong token, or not the coordinator you meant)")
        case .transport(let net) where net.isTimedOut:
            CLIError("cannot reach the coordinator at \(url): no answer within \(Self.timeout) (\(net)); "
                + "is it running, listening there and reachable from here? (a coordinator busy storing a large upload can also be late)")
        case .transport(let net):
            CLIError("cannot reach the coordinator at \(url): \(net) (is it running and listening there?)")
        default:
            CLIError("talking to the coordinator at \(url): \(error)")
        }
    }
}

/// `--coordinator URL`, `--token-file FILE` and the `--tls-*` flags: how a client command reaches a
/// running coordinator. One group, so every command spells and checks them the same way.
struct CoordinatorAccess: ParsableArguments {
    @Option(help: "The coordinator's URL (tcp://HOST:7700, tls+tcp://…, ipc:///path).")
    var coordinator: String?

    @Option(help: "Cluster token file (default: THRESHER_TOKEN_FILE, THRESHER_TOKEN, or an ipc:// coordinator's own).")
    var tokenFile: String?

    @OptionGroup var tls: TLSFlags

    /// The coordinator's URL, required by commands that only talk to one (submit, stop).
    func requiredURL() throws -> String {
        guard let coordinator else { throw CLIError("give --coordinator URL (the coordinator's tcp://, tls+tcp:// or ipc:// address)") }
        return coordinator
    }

    func connect(_ url: String) throws -> CoordinatorConnection {
        try CoordinatorConnection(url: url, tokenFile: tokenFile, tls: tls)
    }
}

/// Where a command reads sweeps from: a coordinator's state folder (`--state`, read-only, on its
/// host) or a coordinator on the network (`--coordinator` and its access flags) — exactly one.
struct StateOrCoordinator: ParsableArguments {
    @Option(help: "The coordinator's state folder (read-only; safe beside a running coordinator).")
    var state: String?

    @OptionGroup var access: CoordinatorAccess

    var coordinator: String? { access.coordinator }

    /// Exactly one of the two, or a message that says so (exit 2, like every other input error).
    func checked() throws -> StateOrCoordinator {
        switch (state, access.coordinator) {
        case (nil, nil): throw CLIError("give --state DIR (a coordinator's state folder) or --coordinator URL")
        case (.some, .some): throw CLIError("give either --state or --coordinator, not both")
        default: return self
        }
    }

    /// A connection when the source is a coordinator on the network.
    func connection() throws -> CoordinatorConnection? {
        try access.coordinator.map { try access.connect($0) }
    }
}
