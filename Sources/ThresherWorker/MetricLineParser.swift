/// Parses the lines of one metrics file, in order, into `MetricLine`s.
///
/// Pure and deterministic: no I/O, no clock. It is a value that remembers only the line number
/// and the last accepted step, so a line without `step` is numbered after the line before it
/// (`1, 2, …` when no line has one). Accepted input, exactly:
/// - one JSON object per line (surrounding JSON whitespace, including a trailing `\r`, is allowed);
/// - `step`: an integer-valued number in 0...2⁵³ (`12` or `12.0`), optional;
/// - `epoch`: a finite number ≥ 0 or `null`, optional;
/// - every other key: a number, `null` (left out), or Python's `NaN` / `Infinity` / `-Infinity`
///   (what `json.dumps` writes for non-finite floats);
/// - no key twice; at most `maxLineBytes` bytes;
/// - a blank line (only spaces, tabs, `\r`) is skipped without complaint.
/// Anything else yields a `MetricLineError` for that line and never disturbs the next one.
public struct MetricLineParser: Sendable {
    /// Lines longer than this are refused (the follower discards their bytes without buffering them).
    public let maxLineBytes: Int
    /// Number of lines seen so far (accepted or not); the next line is `lineNumber + 1`.
    public private(set) var lineNumber = 0
    /// The step of the last accepted line (0 before any), the base for lines without `step`.
    public private(set) var lastStep = 0

    public static let defaultMaxLineBytes = 64 * 1024
    /// Largest step accepted: every integer up to here is exact in a `Double`.
    public static let maxStep = 1 << 53

    public init(maxLineBytes: Int = MetricLineParser.defaultMaxLineBytes) {
        self.maxLineBytes = max(16, maxLineBytes)
    }

    /// Parses the next line (without its `\n`); nil for a blank line, which is counted but not an error.
    public mutating func parse(_ bytes: some Collection<UInt8>) throws(MetricLineError) -> MetricLine? {
        lineNumber += 1
        guard bytes.count <= maxLineBytes else {
            throw MetricLineError(line: lineNumber, reason: .tooLong(limit: maxLineBytes))
        }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return nil }
        let parsed: Fields
        do {
            parsed = try Self.fields(Array(bytes))
        } catch {
            throw MetricLineError(line: lineNumber, reason: error)
        }
        let step = parsed.step ?? lastStep + 1
        lastStep = step
        return MetricLine(step: step, epoch: parsed.epoch, values: parsed.values)
    }

    /// Counts a line the caller refused for being longer than `maxLineBytes` without holding it.
    public mutating func skipTooLong() -> MetricLineError {
        lineNumber += 1
        return MetricLineError(line: lineNumber, reason: .tooLong(limit: maxLineBytes))
    }

    /// Counts the unfinished bytes a program left after its last newline when it exited.
    public mutating func incompleteFinalLine() -> MetricLineError {
        lineNumber += 1
        return MetricLineError(line: lineNumber, reason: .incompleteFinalLine)
    }

    // MARK: - The scanner

    private struct Fields {
        var step: Int?
        var epoch: Double?
        var values: [(name: String, value: Double)] = []
    }

    private static func fields(_ bytes: [UInt8]) throws(MetricLineError.Reason) -> Fields {
        var scanner = Scanner(bytes: bytes)
        scanner.skipWhitespace()
        guard scanner.peek == UInt8(ascii: "{") else { throw .notAnObject }
        scanner.index += 1
        var result = Fields()
        var seen = Set<String>()
        scanner.skipWhitespace()
        if scanner.peek == UInt8(ascii: "}") {
            scanner.index += 1
        } else {
            while true {
                scanner.skipWhitespace()
                let key = try scanner.string()
                guard seen.insert(key).inserted else { throw .duplicateKey(key) }
                scanner.skipWhitespace()
                try scanner.expect(UInt8(ascii: ":"))
                scanner.skipWhitespace()
                let value = try scanner.numberOrNull(key: key)
                try store(key: key, value: value, in: &result)
                scanner.skipWhitespace()
                if scanner.peek == UInt8(ascii: ",") {
                    scanner.index += 1
                    continue
                }
                try scanner.expect(UInt8(ascii: "}"))
                break
            }
        }
        scanner.skipWhitespace()
        guard scanner.atEnd else { throw scanner.error("text after the object") }
        return result
    }

    private static func store(key: String, value: Double?, in result: inout Fields) throws(MetricLineError.Reason) {
        switch key {
        case "step":
            guard let value, value.isFinite, value >= 0, value <= Double(maxStep), value == value.rounded() else {
                throw .badStep("'step' must be an integer from 0 to 2^53, not \(value.map { "\($0)" } ?? "null")")
            }
            result.step = Int(value)
        case "epoch":
            guard let value else { return }
            guard value.isFinite, value >= 0 else { throw .badStep("'epoch' must be a finite number ≥ 0, not \(value)") }
            result.epoch = value
        default:
            if let value { result.values.append((key, value)) }
        }
    }
}

/// A cursor over one line's bytes: just enough JSON for a flat object of numbers.
private struct Scanner {
    let bytes: [UInt8]
    var index = 0

    var atEnd: Bool { index >= bytes.count }
    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    func error(_ message: String) -> MetricLineError.Reason {
        .syntax(offset: index, message: message)
    }

    mutating func skipWhitespace() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    mutating func expect(_ byte: UInt8) throws(MetricLineError.Reason) {
        guard peek == byte else {
            throw error("expected '\(Character(Unicode.Scalar(byte)))'")
        }
        index += 1
    }

    /// Consumes `literal` if the bytes at the cursor spell it.
    mutating func consume(_ literal: String) -> Bool {
        let utf8 = Array(literal.utf8)
        guard index + utf8.count <= bytes.count, bytes[index..<index + utf8.count].elementsEqual(utf8) else { return false }
        index += utf8.count
        return true
    }

    /// A JSON string with its escapes decoded; the bytes between escapes must be UTF-8.
    mutating func string() throws(MetricLineError.Reason) -> String {
        guard peek == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
        index += 1
        var decoded: [UInt8] = []
        while true {
            guard let byte = peek else { throw error("unterminated string") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: decoded, as: UTF8.self) else { throw .notUTF8 }
                return text
            case UInt8(ascii: "\\"):
                try escape(into: &decoded)
            case 0..<0x20:
                throw error("control character in a string")
            default:
                decoded.append(byte)
            }
        }
    }

    private mutating func escape(into decoded: inout [UInt8]) throws(MetricLineError.Reason) {
        guard let byte = peek else { throw error("unterminated escape") }
        index += 1
        let simple: [UInt8: UInt8] = [
            UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5C, UInt8(ascii: "/"): 0x2F,
            UInt8(ascii: "b"): 0x08, UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A,
            UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
        ]
        if let replacement = simple[byte] {
            decoded.append(replacement)
            return
        }
        guard byte == UInt8(ascii: "u") else { throw error("unknown escape") }
        var scalar = try hex4()
        // A high surrogate must be followed by an escaped low one; together they name one scalar.
        if (0xD800..<0xDC00).contains(scalar) {
            guard consume("\\u") else { throw error("lone surrogate") }
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw error("lone surrogate") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw error("lone surrogate") }
        decoded.append(contentsOf: Array(String(Character(unicode)).utf8))
    }

    private mutating func hex4() throws(MetricLineError.Reason) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("bad hex digit in \\u escape")
            }
            value = value * 16 + digit
            index += 1
        }
        return value
    }

    /// A number (JSON grammar), `null` (nil), or Python's `NaN`, `Infinity`, `-Infinity`.
    mutating func numberOrNull(key: String) throws(MetricLineError.Reason) -> Double? {
        guard let first = peek else { throw error("missing value") }
        switch first {
        case UInt8(ascii: "\""), UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "["), UInt8(ascii: "{"):
            throw .notNumeric(key: key)
        default:
            break
        }
        if consume("null") { return nil }
        if consume("NaN") { return .nan }
        if consume("Infinity") { return .infinity }
        if consume("-Infinity") { return -.infinity }
        let start = index
        if peek == UInt8(ascii: "-") { index += 1 }
        if peek == UInt8(ascii: "0") {
            index += 1
        } else {
            guard digits() > 0 else { throw error("bad number") }
        }
        if peek == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw error("bad number: no digits after '.'") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw error("bad number: no digits in the exponent") }
        }
        // The grammar above admits only ASCII, so this decoding cannot fail; Double's own parser
        // gives the correctly rounded value (and ±infinity beyond its range, as Python's json does).
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard let value = Double(text) else { throw error("bad number") }
        return value
    }

    private mutating func digits() -> Int {
        let start = index
        while let byte = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
        return index - start
    }
}
