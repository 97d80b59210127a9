import ThresherWire

/// Renders parameter values exactly as the W&B agent's Python does, so that a training script
/// written for W&B receives the same argument text from Thresher.
///
/// - `str(_:)` is Python's `str()`: `True`/`False`, `None`, floats as `repr` (`0.1`, `1e-05`,
///   `3.0`), strings bare at the top level; lists and maps as Python literals (`[2, 1.2, 1]`,
///   `{'lr': 0.1}`) with strings inside them quoted as `repr` quotes them.
/// - `json(_:)` is Python's `json.dumps()` with its defaults: `", "` and `": "` separators,
///   non-ASCII escaped as `\uXXXX`, non-finite floats as `NaN`/`Infinity`/`-Infinity`.
public enum PythonFormat {
    /// Python's `repr(float)`: the shortest text that reads back to the same double; fixed
    /// notation for decimal exponents -4 ... 15 (`0.0001`, `123.0`), otherwise scientific with a
    /// signed two-digit-minimum exponent (`1e-05`, `1.5e+16`); `inf`, `-inf`, `nan`.
    public static func repr(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        let (negative, digits, exponent) = shortestDigits(value)
        let sign = negative ? "-" : ""
        if exponent < -4 || exponent >= 16 {
            let mantissa = digits.count == 1 ? digits : "\(digits.prefix(1)).\(digits.dropFirst())"
            let magnitude = String(abs(exponent))
            return "\(sign)\(mantissa)e\(exponent < 0 ? "-" : "+")\(magnitude.count < 2 ? "0" + magnitude : magnitude)"
        }
        if exponent < 0 {
            return "\(sign)0.\(String(repeating: "0", count: -exponent - 1))\(digits)"
        }
        let integerCount = exponent + 1
        if digits.count <= integerCount {
            return "\(sign)\(digits)\(String(repeating: "0", count: integerCount - digits.count)).0"
        }
        return "\(sign)\(digits.prefix(integerCount)).\(digits.dropFirst(integerCount))"
    }

    /// Sign, significant digits (no leading or trailing zeros) and the decimal exponent of the
    /// first digit, from Swift's shortest round-trip `description` (the same digits Python picks).
    private static func shortestDigits(_ value: Double) -> (negative: Bool, digits: String, exponent: Int) {
        var text = Substring(value.magnitude.description)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        let point = text.firstIndex(of: ".") ?? text.endIndex
        var integerCount = text.distance(from: text.startIndex, to: point)
        var digits = Substring(text.filter { $0 != "." })
        while digits.first == "0" { digits = digits.dropFirst(); integerCount -= 1 }
        while digits.last == "0" { digits = digits.dropLast() }
        return (value < 0, String(digits), integerCount - 1 + exponent)
    }

    /// Python's `str(value)` for a parameter value.
    public static func str(_ value: ParamValue) -> String {
        if case let .string(string) = value { return string }
        return literal(value)
    }

    /// Python's `repr(value)`: the literal form, strings quoted.
    public static func literal(_ value: ParamValue) -> String {
        switch value {
        case .null: return "None"
        case let .bool(bool): return bool ? "True" : "False"
        case let .int(int): return String(int)
        case let .double(double): return repr(double)
        case let .string(string): return quoted(string)
        case let .list(items): return "[" + items.map(literal).joined(separator: ", ") + "]"
        case let .map(map):
            return "{" + map.entries.map { "\(quoted($0.key)): \(literal($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    /// Python's `repr(str)`: single quotes unless the text has a `'` and no `"`.
    private static func quoted(_ string: String) -> String {
        let quote: Character = string.contains("'") && !string.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where Character(scalar) == quote: out += "\\\(quote)"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += "\\x" + hex(scalar.value, width: 2)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.append(quote)
        return out
    }

    /// Python's `json.dumps(value)` with default settings.
    public static func json(_ value: ParamValue) -> String {
        switch value {
        case .null: return "null"
        case let .bool(bool): return bool ? "true" : "false"
        case let .int(int): return String(int)
        case let .double(double):
            if double.isNaN { return "NaN" }
            if double.isInfinite { return double < 0 ? "-Infinity" : "Infinity" }
            return repr(double)
        case let .string(string): return jsonString(string)
        case let .list(items): return "[" + items.map(json).joined(separator: ", ") + "]"
        case let .map(map):
            return "{" + map.entries.map { "\(jsonString($0.key)): \(json($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    /// A JSON string literal with `ensure_ascii`: everything outside printable ASCII escaped.
    private static func jsonString(_ string: String) -> String {
        var out = "\""
        for unit in string.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            default: out += "\\u" + hex(UInt32(unit), width: 4)
            }
        }
        return out + "\""
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
