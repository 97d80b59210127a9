/// The request line of an HTTP/1.x request head; header fields are read past and ignored (every
/// response closes the connection, and no request field changes what is answered).
///
/// Guarantees: `parse` accepts only `METHOD SP TARGET SP HTTP/1.x` with a token method and an
/// origin-form target (starting with `/`), and otherwise says why in a failure — never a trap.
struct HTTPRequestHead: Equatable {
    var method: String
    var target: String

    /// The length of the head up to and including its blank line (`CRLF CRLF`, or bare `LF LF`
    /// as RFC 9112 permits a server to accept), or nil while it is incomplete.
    static func endOfHead(_ bytes: [UInt8]) -> Int? {
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x0A {
                if index + 1 < bytes.count, bytes[index + 1] == 0x0A { return index + 2 }
                if index + 2 < bytes.count, bytes[index + 1] == 0x0D, bytes[index + 2] == 0x0A { return index + 3 }
            }
            index += 1
        }
        return nil
    }

    static func parse(_ head: [UInt8]) -> Result<HTTPRequestHead, HTTPHeadError> {
        guard let lineEnd = head.firstIndex(of: 0x0A) else { return .failure("no request line") }
        var line = head[..<lineEnd]
        if line.last == 0x0D { line = line.dropLast() }
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .failure("the request line must be METHOD TARGET HTTP/1.1") }
        let tokenBytes = Set("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        guard !parts[0].isEmpty, parts[0].count <= 32, parts[0].allSatisfy(tokenBytes.contains) else {
            return .failure("the method is not an HTTP token")
        }
        guard parts[1].first == UInt8(ascii: "/"), parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return .failure("the target must be a path starting with /")
        }
        guard parts[2].elementsEqual("HTTP/1.1".utf8) || parts[2].elementsEqual("HTTP/1.0".utf8) else {
            return .failure("only HTTP/1.0 and HTTP/1.1 are served")
        }
        return .success(HTTPRequestHead(method: String(decoding: parts[0], as: UTF8.self),
                                        target: String(decoding: parts[1], as: UTF8.self)))
    }
}

/// Why a request head was refused (the 400 response's text).
struct HTTPHeadError: Error, Equatable, ExpressibleByStringLiteral {
    let reason: String
    init(stringLiteral value: String) { reason = value }
}

/// One response, always closing the connection.
struct HTTPResponse {
    var status: Int
    var text: String
    var contentType = "text/plain; charset=utf-8"
    var extraHeaders: [String] = []
    /// HEAD: the headers (with the body's length), no body.
    var omitBody = false

    var bytes: [UInt8] {
        let body = Array(text.utf8)
        var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        for header in extraHeaders { head += header + "\r\n" }
        head += "\r\n"
        return Array(head.utf8) + (omitBody ? [] : body)
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 431: "Request Header Fields Too Large"
        default: "Internal Server Error"
        }
    }
}
