#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Where the metrics endpoint listens: `HOST:PORT`, parsed before anything is bound.
///
/// Accepted forms: `127.0.0.1:9464`, `0.0.0.0:9464`, `[::1]:9464`, `[::]:0`, `localhost:9464`
/// (a name is resolved once, when the socket is bound), and `:9464` for every IPv4 interface.
/// Port 0 asks the kernel for a free port (the bound one is reported by `MetricsHTTPServer`).
///
/// Guarantees: `parse` either returns an address whose port is 0...65535 and whose host is
/// non-empty, or throws a `MetricsAddressError` saying what is wrong; it never traps on any text.
public struct MetricsListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// The host as given (without brackets); `0.0.0.0` for `:PORT`.
    public let host: String
    public let port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    public static func parse(_ text: String) throws(MetricsAddressError) -> MetricsListenAddress {
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .init(text, "an IPv6 address needs its closing ']'") }
            host = text[text.index(after: text.startIndex) ..< close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .init(text, "expected ':PORT' after ']'") }
            portText = rest.dropFirst()
            guard host.contains(":") else { throw .init(text, "brackets are for IPv6 addresses; write an IPv4 address or name without them") }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .init(text, "expected HOST:PORT, e.g. 127.0.0.1:9464") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else { throw .init(text, "put an IPv6 address in brackets, e.g. [::1]:9464") }
        }
        guard !portText.isEmpty, portText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), portText.utf8.count <= 5,
              let port = Int(portText), port <= 65535 else {
            throw .init(text, "the port must be a number 0...65535 (0 picks a free one)")
        }
        guard !host.utf8.contains(where: { $0 <= 32 || $0 == 0x7F || $0 == UInt8(ascii: "/") }) else {
            throw .init(text, "the host must be an IP address or a host name (no spaces, slashes or scheme)")
        }
        return MetricsListenAddress(host: host.isEmpty ? "0.0.0.0" : String(host), port: UInt16(port))
    }

    /// `127.0.0.1:9464` or `[::1]:9464`.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Why a `--metrics-listen` address was refused or could not be bound.
public struct MetricsAddressError: Error, Sendable, CustomStringConvertible {
    public let address: String
    public let reason: String

    init(_ address: String, _ reason: String) {
        self.address = address
        self.reason = reason
    }

    public var description: String { "'\(address)': \(reason)" }
}
