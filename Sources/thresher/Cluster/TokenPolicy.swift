import Foundation
import ThresherNet

/// Where a coordinator's or worker's cluster token comes from.
///
/// `--token-file`, then `THRESHER_TOKEN_FILE` / `THRESHER_TOKEN`. Without one, only listeners a
/// remote host cannot reach (ipc://, inproc://, tcp://127.x / localhost / [::1]) are allowed: the
/// coordinator then makes a token itself and keeps it in `<state>/cluster.token` (mode 0600), so
/// local workers started with `--token-file <state>/cluster.token` (as `thresher run` does)
/// authenticate as usual — the handshake is never switched off.
enum TokenPolicy {
    static let stateTokenName = "cluster.token"

    /// The token given explicitly (flag or environment), or nil. A token file that group or others
    /// may read is used, with a warning on stderr: anyone who reads it can join the cluster.
    static func explicit(tokenFile: String?) throws -> ClusterToken? {
        warnIfExposed(tokenFile ?? ProcessInfo.processInfo.environment["THRESHER_TOKEN_FILE"])
        if let tokenFile { return try ClusterToken(contentsOfFile: tokenFile) }
        do {
            return try ClusterToken.fromEnvironment()
        } catch {
            // (A `catch ClusterTokenError.missing` pattern here crashes Swift 6.3's ownership verifier.)
            if error == .missing { return nil }
            throw error
        }
    }

    private static func warnIfExposed(_ path: String?) {
        guard let path, !path.isEmpty, let warning = exposureWarning(path) else { return }
        StandardError.write([warning])
    }

    /// A warning when the file at `path` grants any permission to group or others, else nil.
    static func exposureWarning(_ path: String) -> String? {
        guard let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber,
              mode.intValue & 0o077 != 0 else { return nil }
        return "warning: the cluster token file \(path) has mode \(String(mode.intValue & 0o777, radix: 8)): "
            + "anyone who can read it can join the cluster as a worker; chmod 600 it"
    }

    /// True for URLs only this machine can connect to.
    static func isLocalOnly(_ url: String) -> Bool {
        let lower = url.lowercased()
        if lower.hasPrefix("ipc://") || lower.hasPrefix("inproc://") { return true }
        guard lower.hasPrefix("tcp://") else { return false }
        let rest = lower.dropFirst("tcp://".count)
        return rest.hasPrefix("127.") || rest.hasPrefix("localhost:") || rest.hasPrefix("[::1]:")
    }

    /// The coordinator's token: explicit, or generated into the state folder when every listener is
    /// local. Throws a message that says what to do otherwise.
    static func coordinatorToken(tokenFile: String?, listen: [String], stateDirectory: String) throws -> (ClusterToken, String) {
        if let token = try explicit(tokenFile: tokenFile) {
            return (token, tokenFile ?? "the environment")
        }
        let remote = listen.filter { !isLocalOnly($0) }
        guard remote.isEmpty else {
            throw CLIError("no cluster token: \(remote.joined(separator: ", ")) can be reached from other hosts, so workers must "
                + "prove a shared token. Make one with `thresher token new --out cluster.token` and pass --token-file "
                + "(or set THRESHER_TOKEN_FILE); without a token only ipc:// and loopback tcp:// listeners are allowed")
        }
        let path = (stateDirectory as NSString).appendingPathComponent(stateTokenName)
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: Data((ClusterToken.random() + "\n").utf8),
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw CLIError("cannot write a local cluster token to \(path)")
            }
        }
        return (try ClusterToken(contentsOfFile: path), path)
    }
}

/// An error the command line reports as one line and exit status 2.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
