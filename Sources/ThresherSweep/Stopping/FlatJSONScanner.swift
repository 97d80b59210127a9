/// A scanner for one JSON object whose values are scalars — all a curves line holds. Numbers
/// also take Python's `NaN`, `Infinity` and `-Infinity`.
struct FlatJSONScanner {
    enum Scalar: Sendable, Hashable, CustomStringConvertible {
        case number(Double), string(String), bool(Bool), null

        var description: String {
            switch self {
            case .number(let number): "\(number)"
            case .string(let string): "a string \"\(string)\""
            case .bool(let bool): "\(bool)"
            case .null: "null"
            }
        }
    }

    struct Failure: Error { let message: String }

    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isBlank: Bool { bytes.allSatisfy { Self.isSpace($0) } }

    mutating func object() throws(Failure) -> [String: Scalar] {
        var fields: [String: Scalar] = [:]
        try expect(UInt8(ascii: "{"), "expected a JSON object starting with '{'")
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                skipSpace()
                let key = try string()
                try expect(UInt8(ascii: ":"), "expected ':' after \"\(key)\"")
                skipSpace()
                let value = try scalar(for: key)
                guard fields.updateValue(value, forKey: key) == nil else { throw Failure(message: "duplicate key \"\(key)\"") }
                skipSpace()
                if peek() == UInt8(ascii: ",") { position += 1; continue }
                try expect(UInt8(ascii: "}"), "expected ',' or '}' after the value of \"\(key)\"")
                break
            }
        }
        skipSpace()
        guard position == bytes.count else { throw Failure(message: "unexpected text after the object") }
        return fields
    }

    private mutating func scalar(for key: String) throws(Failure) -> Scalar {
        switch peek() {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "{"), UInt8(ascii: "["): throw Failure(message: "\"\(key)\" holds an object or array; only plain values are allowed")
        default: break
        }
        let start = position
        while let byte = peek(), !Self.isSpace(byte), byte != UInt8(ascii: ","), byte != UInt8(ascii: "}") { position += 1 }
        let token = String(decoding: bytes[start..<position], as: UTF8.self)
        switch token {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        case "NaN": return .number(.nan)
        case "Infinity": return .number(.infinity)
        case "-Infinity": return .number(-.infinity)
        default:
            let numeric = token.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || "+-.eE".utf8.contains($0) }
            guard numeric, let number = Double(token), number.isFinite else {
                throw Failure(message: token.isEmpty ? "missing value for \"\(key)\"" : "\"\(key)\" has an invalid value \(token)")
            }
            return .number(number)
        }
    }

    private mutating func string() throws(Failure) -> String {
        try expect(UInt8(ascii: "\""), "expected a quoted key")
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        func flush() { scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars); raw.removeAll() }
        while let byte = peek() {
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                flush()
                return String(scalars)
            case UInt8(ascii: "\\"):
                flush()
                guard let escaped = peek() else { break }
                position += 1
                switch escaped {
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "b"): scalars.append("\u{8}")
                case UInt8(ascii: "f"): scalars.append("\u{C}")
                case UInt8(ascii: "u"):
                    guard position + 4 <= bytes.count,
                          let code = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16) else {
                        throw Failure(message: "invalid \\u escape in a string")
                    }
                    position += 4
                    scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                default: scalars.append(Unicode.Scalar(escaped))
                }
            default:
                raw.append(byte)
            }
        }
        throw Failure(message: "unterminated string")
    }

    private mutating func expect(_ byte: UInt8, _ message: String) throws(Failure) {
        skipSpace()
        guard peek() == byte else { throw Failure(message: message) }
        position += 1
    }

    private func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipSpace() { while let byte = peek(), Self.isSpace(byte) { position += 1 } }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
    }
}
