import Foundation

/// The shared secret of a cluster. It authenticates workers and coordinator to each other through
/// an HMAC challenge–response and never crosses the network.
///
/// Loaded from a file (first choice: `--token-file`, or `THRESHER_TOKEN_FILE`) or from the
/// environment (`THRESHER_TOKEN`). Leading and trailing whitespace is ignored, so a file written by
/// `echo` works. `description` never prints the secret.
public struct ClusterToken: Sendable, CustomStringConvertible {
    /// Tokens shorter than this are refused: an HMAC key of a few characters can be brute-forced
    /// offline from one captured handshake.
    public static let minimumLength = 16

    let secret: [UInt8]

    /// Wraps a token given as text; throws when it is too short.
    public init(_ text: String, source: String = "token") throws(ClusterTokenError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.utf8.count >= Self.minimumLength else {
            throw .tooShort(source: source, length: trimmed.utf8.count)
        }
        secret = Array(trimmed.utf8)
    }

    /// Reads a token from a file.
    public init(contentsOfFile path: String) throws(ClusterTokenError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path)
        }
        guard let text = String(data: data, encoding: .utf8) else { throw .notText(path: path) }
        try self.init(text, source: path)
    }

    /// The token named by the environment: `THRESHER_TOKEN_FILE` (a path) or `THRESHER_TOKEN`.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws(ClusterTokenError) -> ClusterToken {
        if let path = env["THRESHER_TOKEN_FILE"], !path.isEmpty {
            return try ClusterToken(contentsOfFile: path)
        }
        if let text = env["THRESHER_TOKEN"], !text.isEmpty {
            return try ClusterToken(text, source: "THRESHER_TOKEN")
        }
        throw .missing
    }

    /// A new random token (64 hex characters) for `thresher token new` and tests.
    public static func random() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
    }

    public var description: String { "ClusterToken(\(secret.count) bytes, redacted)" }
}

/// Why a cluster token could not be loaded.
public enum ClusterTokenError: Error, Sendable, CustomStringConvertible, Equatable {
    case missing
    case unreadable(path: String)
    case notText(path: String)
    case tooShort(source: String, length: Int)

    public var description: String {
        switch self {
        case .missing:
            "no cluster token: pass --token-file PATH, or set THRESHER_TOKEN_FILE or THRESHER_TOKEN (make one with `thresher token new`)"
        case .unreadable(let path):
            "cannot read the cluster token file \(path)"
        case .notText(let path):
            "the cluster token file \(path) is not UTF-8 text"
        case .tooShort(let source, let length):
            "the cluster token from \(source) has \(length) characters; at least \(ClusterToken.minimumLength) are required"
        }
    }
}
