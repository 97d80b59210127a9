import ThresherWire
import Yams

/// How deeply a sweep's trial parameters nest lists and maps, checked against what the wire carries.
///
/// A trial's parameters travel in `Assign` as one map, whose values may be lists and maps (a
/// `values:` element that is itself a list, a nested `parameters:` block). The wire refuses more
/// than `WireLimits.defaultMaxNesting` levels, so a sweep that validated with a deeper value could
/// never hand out that trial: the coordinator could not encode its `Assign`, and the sweep waited
/// forever (found by fuzzing, see docs/reliability.md). The parser refuses such a file instead.
enum ParameterNesting {
    /// Most levels a trial's parameter map may have, the map itself included.
    static let maxLevels = WireLimits.defaultMaxNesting

    /// Levels of lists and maps in `value` (0 for a scalar).
    static func levels(_ value: ParamValue) -> Int {
        switch value {
        case .list(let values): 1 + (values.map(levels).max() ?? 0)
        case .map(let map): 1 + (map.entries.map { levels($0.value) }.max() ?? 0)
        case .null, .bool, .int, .double, .string: 0
        }
    }

    /// Levels below a parameter map holding `parameter` (its value's levels, or the nested block's map).
    static func levels(_ parameter: ParameterSpec) -> Int {
        switch parameter.kind {
        case .constant(let value): levels(value)
        case .categorical(let values, _): values.map(levels).max() ?? 0
        case .distribution: 0
        case .nested(let children): 1 + (children.map(levels).max() ?? 0)
        }
    }

    /// The dotted path of the first parameter whose trial value nests too deeply, with its levels.
    static func tooDeep(_ parameters: [ParameterSpec], path: String, enclosing: Int = 1) -> (path: String, levels: Int)? {
        for parameter in parameters {
            let here = SweepFileReader.join(path, parameter.name)
            if case .nested(let children) = parameter.kind {
                if let found = tooDeep(children, path: here + ".parameters", enclosing: enclosing + 1) { return found }
                continue
            }
            let total = enclosing + levels(parameter)
            if total > maxLevels { return (here, total) }
        }
        return nil
    }
}

extension SweepFileReader {
    /// Records an error when a trial's parameters would nest deeper than the wire allows.
    func checkNesting(_ parameters: [ParameterSpec], entry: YAMLEntry) {
        guard let (path, levels) = ParameterNesting.tooDeep(parameters, path: entry.path) else { return }
        error(path, at: entry.value, "nests lists and maps \(levels) levels deep counting the trial's parameter map; "
            + "at most \(ParameterNesting.maxLevels) go over the wire")
    }
}
