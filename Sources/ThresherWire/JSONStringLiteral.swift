/// A string as a JSON string literal, byte for byte as Foundation's `JSONEncoder` writes it with
/// `.withoutEscapingSlashes`: quote and backslash escaped, `\b \f \n \r \t` by name, other control
/// characters as `\u00xx` (lowercase hex), everything else verbatim UTF-8.
///
/// One writer for every hand-built JSON text in Thresher (canonical trial parameters, event
/// details, simulator output), so they agree with each other and with `JSONEncoder`.
public enum JSONStringLiteral {
    public static func append(_ string: String, to out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{8}": out += "\\b"
            case "\u{c}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
