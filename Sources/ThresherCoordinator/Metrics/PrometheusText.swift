/// A document in the Prometheus text exposition format, version 0.0.4, built family by family.
///
/// Guarantees: every family is written as `# HELP`, `# TYPE`, then its samples, with no family
/// declared twice; help text and label values are escaped as the format requires (`\\`, `\n`,
/// and `\"` in label values); values are printed so Prometheus reads back the same number
/// (`+Inf`, `-Inf`, `NaN` included). Sample names and label names are the caller's constants.
public struct PrometheusText: Sendable {
    public enum Kind: String, Sendable {
        case counter, gauge, histogram, summary
    }

    public private(set) var text = ""
    private var declared: Set<String> = []

    public init() {}

    /// Declares a family; its samples follow with `sample`. A second declaration of the same name
    /// is ignored (the caller's bug must not produce an unreadable scrape).
    public mutating func family(_ name: String, _ kind: Kind, help: String) {
        guard declared.insert(name).inserted else { return }
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
    }

    /// One sample line, `name{label="value",…} value`.
    /// A family with one unlabelled sample: the common case of a process-wide counter or gauge.
    public mutating func single(_ name: String, _ kind: Kind, _ value: Double, help: String) {
        family(name, kind, help: help)
        sample(name, [:], value)
    }

    public mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String> = [:], _ value: Double) {
        sample(name, labels: Array(labels), value)
    }

    public mutating func sample(_ name: String, labels: [(key: String, value: String)], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{"
            for (n, label) in labels.enumerated() {
                if n > 0 { text += "," }
                text += label.key + "=\"" + Self.escapeLabel(label.value) + "\""
            }
            text += "}"
        }
        text += " " + Self.format(value) + "\n"
    }

    public static func escapeHelp(_ text: String) -> String {
        // Scanning UTF-8 bytes, not Characters: grapheme breaking was the largest cost of a scrape.
        guard text.utf8.contains(where: { $0 == 0x5C || $0 == 0x0A }) else { return text }
        return text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    public static func escapeLabel(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x5C || $0 == 0x0A || $0 == 0x22 }) else { return text }
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\"": out += "\\\""
            default: out.append(character)
            }
        }
        return out
    }

    /// Integers (exactly representable ones) without a fraction, others in Swift's shortest
    /// round-trip form, which Go's `ParseFloat` reads back exactly.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 { return String(Int64(value)) }
        return value.description
    }
}
