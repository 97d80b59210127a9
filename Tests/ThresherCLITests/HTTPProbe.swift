#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A raw TCP client for the metrics endpoint tests: sends exactly the bytes a test gives (a whole
/// request, garbage, half a request) and reads the answer until the server closes.
enum HTTPProbe {
    struct Reply {
        var status: Int
        /// Header names lowercased.
        var headers: [String: String]
        var body: String
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// A connected IPv4 socket to 127.0.0.1:`port`, with a receive timeout so no test hangs.
    static func connect(port: UInt16, host: String = "127.0.0.1") throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "connect to \(host):\(port) failed (\(String(cString: strerror(errno))))")
        }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Sends everything (MSG_NOSIGNAL: a server that closed early must not kill the test run).
    @discardableResult
    static func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }

    /// Reads until the server closes (or the 20 s receive timeout), then closes the socket.
    static func readToEnd(_ fd: Int32) -> [UInt8] {
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { return out }
            out += buffer[0 ..< n]
        }
    }

    /// Sends `bytes` on a fresh connection and parses what comes back.
    static func exchange(port: UInt16, _ bytes: [UInt8], expectBody: Bool = true) throws -> Reply {
        let fd = try connect(port: port)
        send(fd, bytes)
        return try parse(readToEnd(fd), expectBody: expectBody)
    }

    static func get(port: UInt16, _ path: String = "/metrics", method: String = "GET") throws -> Reply {
        try exchange(port: port, Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/plain\r\n\r\n".utf8),
                     expectBody: method != "HEAD")
    }

    /// A whole HTTP/1.1 response whose body is exactly Content-Length bytes (none at all for a
    /// response to HEAD, `expectBody` false).
    static func parse(_ bytes: [UInt8], expectBody: Bool = true) throws -> Reply {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw Failure(description: "no complete response head in \(text.debugDescription)") }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, statusParts[0] == "HTTP/1.1", let status = Int(statusParts[1]) else {
            throw Failure(description: "bad status line \(lines[0].debugDescription)")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { throw Failure(description: "bad header line \(line.debugDescription)") }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let body = String(text[split.upperBound...])
        guard let length = headers["content-length"].flatMap(Int.init), length == body.utf8.count || (!expectBody && body.isEmpty) else {
            throw Failure(description: "Content-Length \(headers["content-length"] ?? "missing") but \(body.utf8.count) body bytes")
        }
        return Reply(status: status, headers: headers, body: body)
    }
}
