/// A typed trial parameter value, as a W&B sweep file can express it.
///
/// W&B parameters are not only scalars: `values: [[2, 1.2, 1], [1, 1, 1]]` makes each *list* one
/// value, and nested `parameters:` blocks make maps. `ParamValue` keeps the distinction between
/// integers and doubles (a grid over `[1, 2]` must hand the trial `1`, not `1.0`), and keeps map
/// keys in the order the file gave them so that `${args}` expansion is reproducible.
public indirect enum ParamValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case list([ParamValue])
    case map(ParamMap)
}

/// An ordered map from parameter names to values.
///
/// Order is significant on the wire and in equality: two maps with the same entries in a
/// different order encode to different bytes. Keys are unique; `init(entries:)` keeps the
/// last value for a repeated key at the position of its first occurrence.
public struct ParamMap: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    public private(set) var entries: [(key: String, value: ParamValue)]

    public init(entries: [(String, ParamValue)] = []) {
        self.entries = []
        for (k, v) in entries { self[k] = v }
    }

    public init(dictionaryLiteral elements: (String, ParamValue)...) {
        self.init(entries: elements)
    }

    /// A map from entries whose keys the caller has already checked to be unique, in O(n)
    /// (`init(entries:)` is quadratic). Used by the wire decoder, which rejects repeated keys.
    init(uniqueEntries: [(key: String, value: ParamValue)]) {
        self.entries = uniqueEntries
    }

    public var count: Int { entries.count }
    public var keys: [String] { entries.map(\.key) }

    public subscript(key: String) -> ParamValue? {
        get { entries.first(where: { $0.key == key })?.value }
        set {
            if let i = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((key: key, value: newValue))
            }
        }
    }

    public static func == (a: ParamMap, b: ParamMap) -> Bool {
        a.entries.count == b.entries.count
            && zip(a.entries, b.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(entries.count)
        for e in entries { hasher.combine(e.key); hasher.combine(e.value) }
    }
}
