#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A plain POSIX TCP client for throwing bytes at a server that expects NNG's SP protocol.
enum RawTCPClient {
    struct Failure: Error, CustomStringConvertible {
        let step: String
        let code: Int32
        var description: String { "\(step) failed: errno \(code)" }
    }

    /// Connects to 127.0.0.1:`port`, writes `bytes` (ignoring a peer that hangs up early),
    /// optionally lingers so the server reads them, and closes.
    static func send(_ bytes: [UInt8], toPort port: Int, linger: Duration = .milliseconds(50)) async throws {
        #if os(Linux)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(step: "socket", code: errno) }
        defer { close(fd) }

        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure(step: "connect", code: errno) }

        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { break }  // the server hung up on us: that is a valid reaction
            offset += written
        }
        try await Task.sleep(for: linger)
    }

    /// The 8-byte SP connection header for protocol `protocolID` (REQ is 0x30).
    static func spHeader(protocolID: UInt16 = 0x30) -> [UInt8] {
        [0x00, 0x53, 0x50, 0x00, UInt8(protocolID >> 8), UInt8(protocolID & 0xFF), 0x00, 0x00]
    }

    /// An SP frame: 8-byte big-endian length, then the body.
    static func frame(length: UInt64, body: [UInt8]) -> [UInt8] {
        (0..<8).reversed().map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) } + body
    }
}
