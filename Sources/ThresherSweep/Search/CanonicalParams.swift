import ThresherWire

/// The identity of a trial's parameters: a canonical text that is equal exactly when two
/// parameter sets are the same point, whatever the order of their map keys.
///
/// The text is JSON with map keys sorted by Unicode code point at every level, no spaces, and
/// exact numbers: an integer in decimal; a double that holds an integer that fits in Int64
/// written as that integer (so `3e6`, `3000000.0` and `3000000` are one value, as in W&B,
/// which compares YAML dumps after turning integral floats into ints); any other double in
/// Swift's shortest round-trip form (`0.30000000000000004`, `1e-05`), which is the same on
/// every platform; non-finite doubles as `NaN`, `Infinity`, `-Infinity`. `true` is not `1`
/// and `"3"` is not `3`. Unlike W&B, the integral-double rule also applies inside lists and
/// maps, so `[1, 2]` and `[1.0, 2.0]` are one value.
///
/// A grid drops a value equal to an earlier one by this key and never hands out a point
/// whose key it has handed out already; the coordinator keys finished grid points by it.
public struct CanonicalParams: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let text: String

    /// The key of a whole trial's parameters.
    public init(_ params: ParamMap) { text = Self.render(.map(params)) }

    /// The key of one parameter value.
    public init(value: ParamValue) { text = Self.render(value) }

    public var description: String { text }

    public static func < (a: CanonicalParams, b: CanonicalParams) -> Bool {
        SearchSpace.codePointLess(a.text, b.text)
    }

    static func render(_ value: ParamValue) -> String {
        var out = ""
        write(value, to: &out)
        return out
    }

    private static func write(_ value: ParamValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .double(d): out += number(d)
        case let .string(s): writeString(s, to: &out)
        case let .list(items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, to: &out)
            }
            out += "]"
        case let .map(map):
            out += "{"
            let sorted = map.entries.sorted { SearchSpace.codePointLess($0.key, $1.key) }
            for (i, entry) in sorted.enumerated() {
                if i > 0 { out += "," }
                writeString(entry.key, to: &out)
                out += ":"
                write(entry.value, to: &out)
            }
            out += "}"
        }
    }

    private static func number(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
        if let integer = Int64(exactly: d) { return String(integer) }   // -0.0 → "0"
        return d.description
    }

    /// Appends `s` as a JSON string literal (shared with the simulator's JSON output).
    static func writeString(_ s: String, to out: inout String) { JSONStringLiteral.append(s, to: &out) }
}
