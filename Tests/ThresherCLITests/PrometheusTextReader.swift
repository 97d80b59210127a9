import Foundation

/// A strict reader of the Prometheus text format 0.0.4, written for the tests from the format's
/// description: every line is `# HELP`, `# TYPE` or a sample `name{labels} value`; every sample
/// belongs to the family declared last (histogram and summary samples by their `_bucket`, `_sum`,
/// `_count` suffix); a family is declared once and its samples are contiguous; no series appears
/// twice; label values use only the escapes `\\`, `\"`, `\n`; counters are never negative;
/// histogram buckets are cumulative and end with `le="+Inf"` equal to `_count`.
struct PrometheusTextReader {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Family {
        var type: String
        var help: String?
    }

    struct Malformed: Error, CustomStringConvertible {
        var line: Int
        var reason: String
        var description: String { "line \(line): \(reason)" }
    }

    private(set) var families: [String: Family] = [:]
    private(set) var samples: [Sample] = []

    init(_ text: String) throws {
        guard text.hasSuffix("\n") else { throw Malformed(line: 0, reason: "the exposition must end with a newline") }
        var current: String?
        var closed: Set<String> = []
        var series: Set<String> = []
        var helped: Set<String> = []
        for (offset, line) in text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            func fail(_ reason: String) -> Malformed { Malformed(line: number, reason: "\(reason): \(line)") }
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let rest = line.dropFirst(7)
                let name = String(rest.prefix { $0 != " " })
                guard Self.isMetricName(name), rest.count > name.count else { throw fail("bad family name") }
                let body = String(rest.dropFirst(name.count + 1))
                if name != current {
                    guard !closed.contains(name) else { throw fail("family \(name) declared again") }
                    if let current { closed.insert(current) }
                    current = name
                }
                if line.hasPrefix("# HELP ") {
                    guard helped.insert(name).inserted else { throw fail("second HELP") }
                    families[name, default: Family(type: "untyped")].help = try Self.unescape(body, quotes: false) ?? { throw fail("bad escape in HELP") }()
                } else {
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(body) else { throw fail("unknown type") }
                    guard !samples.contains(where: { Self.family(of: $0.name, in: families) == name }) else { throw fail("TYPE after samples") }
                    families[name, default: Family(type: body)].type = body
                }
                continue
            }
            guard !line.hasPrefix("#"), !line.isEmpty else { throw fail("a comment or blank line the exposition should not carry") }
            let sample = try Self.sample(line) ?? { throw fail("not a sample line") }()
            guard let family = Self.family(of: sample.name, in: families), family == current else {
                throw fail("sample of an undeclared family, or outside its family's block")
            }
            let key = sample.name + "{" + sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "}"
            guard series.insert(key).inserted else { throw fail("duplicate series") }
            if families[family]?.type == "counter" || sample.name.hasSuffix("_count") || sample.name.hasSuffix("_bucket") {
                guard sample.value >= 0 else { throw fail("negative counter") }
            }
            samples.append(sample)
        }
        try checkHistograms()
    }

    /// The value of the series with exactly these labels.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    func samples(named name: String) -> [Sample] { samples.filter { $0.name == name } }

    private func checkHistograms() throws {
        for (name, family) in families where family.type == "histogram" {
            var groups: [[String: String]: [(le: Double, value: Double)]] = [:]
            for sample in samples(named: name + "_bucket") {
                var rest = sample.labels
                guard let leText = rest.removeValue(forKey: "le"), let le = Self.number(leText) else {
                    throw Malformed(line: 0, reason: "\(name)_bucket without a numeric le")
                }
                groups[rest, default: []].append((le, sample.value))
            }
            for (labels, buckets) in groups {
                guard buckets.map(\.le) == buckets.map(\.le).sorted(), buckets.last?.le == .infinity else {
                    throw Malformed(line: 0, reason: "\(name) buckets out of order or without +Inf")
                }
                guard buckets.map(\.value) == buckets.map(\.value).sorted() else {
                    throw Malformed(line: 0, reason: "\(name) buckets are not cumulative")
                }
                guard value(name + "_count", labels) == buckets.last?.value, value(name + "_sum", labels) != nil else {
                    throw Malformed(line: 0, reason: "\(name) +Inf bucket differs from _count, or _sum is missing")
                }
            }
        }
    }

    static func family(of sample: String, in families: [String: Family]) -> String? {
        if families[sample] != nil { return sample }
        for suffix in ["_bucket", "_sum", "_count"] where sample.hasSuffix(suffix) {
            let base = String(sample.dropLast(suffix.count))
            if let type = families[base]?.type, type == "histogram" || (type == "summary" && suffix != "_bucket") { return base }
        }
        return nil
    }

    static func isMetricName(_ name: String) -> Bool {
        let letters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:")
        guard let first = name.first, letters.contains(first) else { return false }
        return name.allSatisfy { letters.contains($0) || ("0"..."9").contains($0) }
    }

    static func isLabelName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix("__") && !("0"..."9").contains(name.first ?? "0")
            && name.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || CharacterSet.alphanumerics.contains($0)) }
    }

    static func number(_ text: String) -> Double? {
        switch text {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default:
            guard !text.isEmpty, text.allSatisfy({ "0123456789.eE+-".contains($0) }) else { return nil }
            return Double(text)
        }
    }

    /// `name{a="x",b="y"} value` (no timestamp: the coordinator never sends one).
    static func sample(_ line: Substring) throws -> Sample? {
        let name = String(line.prefix { $0 != "{" && $0 != " " })
        guard isMetricName(name) else { return nil }
        var rest = line.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let label = String(rest.prefix { $0 != "=" })
                guard isLabelName(label), labels[label] == nil else { return nil }
                rest = rest.dropFirst(label.count)
                guard rest.hasPrefix("=\"") else { return nil }
                rest = rest.dropFirst(2)
                var raw = ""
                var escaped = false
                while let c = rest.first {
                    rest = rest.dropFirst()
                    if escaped { raw.append("\\"); raw.append(c); escaped = false; continue }
                    if c == "\\" { escaped = true; continue }
                    if c == "\"" { break }
                    raw.append(c)
                }
                guard let value = unescape(raw, quotes: true) else { return nil }
                labels[label] = value
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" { return nil }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { return nil }
        let valueText = String(rest.dropFirst())
        guard !valueText.contains(" "), let value = number(valueText) else { return nil }
        return Sample(name: name, labels: labels, value: value)
    }

    /// Undoes the format's escapes; nil for any other backslash sequence.
    static func unescape(_ text: String, quotes: Bool) -> String? {
        var out = ""
        var iterator = text.makeIterator()
        while let c = iterator.next() {
            guard c == "\\" else { out.append(c); continue }
            switch iterator.next() {
            case "\\": out.append("\\")
            case "n": out.append("\n")
            case "\"" where quotes: out.append("\"")
            default: return nil
            }
        }
        return out
    }
}
