import ThresherWire

/// A sweep's parameters flattened in W&B's order: at each nesting level names are sorted by
/// Unicode code point (Python's `sorted`), and a nested block's leaves take its place, parent
/// then child. The grid's product and every searcher's draws follow this order, and
/// `assemble` rebuilds the nested maps, keys in the same order.
public struct SearchSpace: Sendable, Hashable {
    /// One non-nested parameter.
    public struct Leaf: Sendable, Hashable {
        /// Names from the top level down, e.g. `["optimizer", "lr"]`.
        public let path: [String]
        /// Never `.nested`.
        public let kind: ParameterKind
        /// `optimizer.lr`, for messages.
        public var dottedPath: String { path.joined(separator: ".") }
    }

    public let leaves: [Leaf]

    public init(_ parameters: [ParameterSpec]) {
        var leaves: [Leaf] = []
        Self.flatten(parameters, prefix: [], into: &leaves)
        self.leaves = leaves
    }

    /// Python's string order: lexicographic by Unicode scalar value.
    static func codePointLess(_ a: String, _ b: String) -> Bool {
        a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) { $0.value < $1.value }
    }

    private static func flatten(_ parameters: [ParameterSpec], prefix: [String], into leaves: inout [Leaf]) {
        for parameter in parameters.sorted(by: { codePointLess($0.name, $1.name) }) {
            let path = prefix + [parameter.name]
            if case let .nested(children) = parameter.kind {
                flatten(children, prefix: path, into: &leaves)
            } else {
                leaves.append(Leaf(path: path, kind: parameter.kind))
            }
        }
    }

    /// The nested trial parameters for one value per leaf (in `leaves` order).
    public func assemble(_ values: [ParamValue]) -> ParamMap {
        precondition(values.count == leaves.count, "one value per leaf")
        return Self.build(Array(zip(leaves.map { $0.path[...] }, values))[...])
    }

    /// Leaves sharing a first name are adjacent (flattening kept siblings together), so one
    /// pass groups them.
    private static func build(_ items: ArraySlice<(ArraySlice<String>, ParamValue)>) -> ParamMap {
        var entries: [(String, ParamValue)] = []
        var i = items.startIndex
        while i < items.endIndex {
            let (path, value) = items[i]
            guard let head = path.first else { i += 1; continue }
            if path.count == 1 {
                entries.append((head, value))
                i += 1
                continue
            }
            var j = i
            var children: [(ArraySlice<String>, ParamValue)] = []
            while j < items.endIndex, items[j].0.count > 1, items[j].0.first == head {
                children.append((items[j].0.dropFirst(), items[j].1))
                j += 1
            }
            entries.append((head, .map(build(children[...]))))
            i = j
        }
        return ParamMap(entries: entries)
    }
}
