import ThresherWire

/// A whole-element macro of a W&B `command:` list.
public enum CommandMacro: String, CaseIterable, Sendable, Hashable {
    /// `/usr/bin/env`
    case env
    /// The Python interpreter (`python` unless configured).
    case interpreter
    /// The file's `program`.
    case program
    /// `--name=value` per parameter.
    case args
    /// `name=value` per parameter.
    case argsNoHyphens = "args_no_hyphens"
    /// `--name=value`, except booleans: `--name` when true, nothing when false.
    case argsNoBooleanFlags = "args_no_boolean_flags"
    /// `--name`, `value` as two elements per parameter (W&B's agent has it, its docs do not).
    case argsNoEquals = "args_no_equals"
    /// One element: all parameters as a JSON object.
    case argsJSON = "args_json"
    /// One element: the path of a file holding `args_json`.
    case argsJSONFile = "args_json_file"

    /// `name` when `element` is exactly `${name}` (W&B expands these macros only as whole elements).
    static func wholeElementMacroName(_ element: String) -> String? {
        guard element.hasPrefix("${"), element.hasSuffix("}"), element.count >= 3 else { return nil }
        return String(element.dropFirst(2).dropLast())
    }

    /// The names in every `${envvar:NAME}` of `element`, in order.
    static func environmentVariableNames(in element: String) -> [String] {
        environmentVariableRanges(in: element).map { String(element[$0.name]) }
    }

    static func isValidVariableName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// Ranges of each `${envvar:NAME}` (whole) and of its NAME.
    static func environmentVariableRanges(in element: String) -> [(whole: Range<String.Index>, name: Range<String.Index>)] {
        var found: [(Range<String.Index>, Range<String.Index>)] = []
        var searchStart = element.startIndex
        while let open = element.range(of: "${envvar:", range: searchStart..<element.endIndex),
              let close = element[open.upperBound...].firstIndex(of: "}") {
            found.append((open.lowerBound..<element.index(after: close), open.upperBound..<close))
            searchStart = element.index(after: close)
        }
        return found
    }
}

/// Turns a sweep's `command:` into the argv of one trial, exactly as the W&B agent does.
///
/// Rules (W&B's agent, `docs/sweep-file.md` "Command"):
/// - `${envvar:NAME}` is replaced anywhere inside an element, from `environment`; a missing
///   variable is an error (W&B would silently substitute the text `NAME`).
/// - An element that is exactly one of the `CommandMacro`s expands to zero or more elements;
///   an element that is exactly `${unknown}` is dropped, as W&B drops it; a macro inside a
///   longer element (`--out=${program}`) is left as written, as in W&B.
/// - Arguments follow the order of the trial's `ParamMap` (the file's parameter order); values
///   are rendered by `PythonFormat.str` (`--flag=True`, `--w=[2, 1.2, 1]`, `--opt={'lr': 0.1}`)
///   unless `valueStyle` is `.json`.
///
/// Pure: reads nothing, writes nothing. When the command has `${args_json_file}`, the result
/// says what to write at the path the caller chose.
public struct CommandTemplate: Sendable, Hashable {
    /// W&B's default: `${env} ${interpreter} ${program} ${args}`.
    public static let defaultElements = ["${env}", "${interpreter}", "${program}", "${args}"]

    /// How a non-string value is written into `--name=value`.
    public enum ValueStyle: Sendable, Hashable {
        /// Python's `str()`, as W&B's agent writes it (`True`, `None`, `[1, 'a']`, `{'k': 1}`).
        case python
        /// JSON (`true`, `null`, `[1, "a"]`, `{"k": 1}`); strings stay bare.
        case json
    }

    public var elements: [String]
    public var interpreter: String
    public var envPath: String
    public var valueStyle: ValueStyle

    /// `elements` nil or empty → W&B's default command.
    public init(elements: [String]? = nil, interpreter: String = "python", envPath: String = "/usr/bin/env",
                valueStyle: ValueStyle = .python) {
        self.elements = (elements?.isEmpty ?? true) ? Self.defaultElements : elements ?? Self.defaultElements
        self.interpreter = interpreter; self.envPath = envPath; self.valueStyle = valueStyle
    }

    /// The template of a parsed sweep (`spec.command`, or the default).
    public init(spec: SweepSpec, interpreter: String = "python", valueStyle: ValueStyle = .python) {
        self.init(elements: spec.command, interpreter: interpreter, valueStyle: valueStyle)
    }

    /// The argv for one trial.
    ///
    /// - Parameters:
    ///   - params: the trial's parameters (nested parameters as `.map` values).
    ///   - program: the sweep's `program`; required only if the command uses `${program}`.
    ///   - environment: the variables `${envvar:NAME}` reads.
    ///   - argsJSONFilePath: where the caller will write the JSON for `${args_json_file}`.
    public func expand(params: ParamMap, program: String?, environment: [String: String] = [:],
                       argsJSONFilePath: String? = nil) throws(CommandTemplateError) -> ExpandedCommand {
        var argv: [String] = []
        var jsonFile: ExpandedCommand.File?
        for original in elements {
            let element = try substituteEnvironment(in: original, environment: environment)
            guard let name = CommandMacro.wholeElementMacroName(element) else {
                argv.append(element)
                continue
            }
            guard let macro = CommandMacro(rawValue: name) else { continue }
            switch macro {
            case .env: argv.append(envPath)
            case .interpreter: argv.append(interpreter)
            case .program:
                guard let program else { throw .missingProgram }
                argv.append(program)
            case .args: argv += params.entries.map { "--\($0.key)=\(render($0.value))" }
            case .argsNoHyphens: argv += params.entries.map { "\($0.key)=\(render($0.value))" }
            case .argsNoBooleanFlags:
                for (key, value) in params.entries {
                    if case let .bool(flag) = value {
                        if flag { argv.append("--\(key)") }
                    } else {
                        argv.append("--\(key)=\(render(value))")
                    }
                }
            case .argsNoEquals: argv += params.entries.flatMap { ["--\($0.key)", render($0.value)] }
            case .argsJSON: argv.append(PythonFormat.json(.map(params)))
            case .argsJSONFile:
                guard let argsJSONFilePath else { throw .missingArgsJSONFilePath }
                jsonFile = ExpandedCommand.File(path: argsJSONFilePath, contents: PythonFormat.json(.map(params)))
                argv.append(argsJSONFilePath)
            }
        }
        return ExpandedCommand(argv: argv, argsJSONFile: jsonFile)
    }

    private func render(_ value: ParamValue) -> String {
        switch (valueStyle, value) {
        case let (_, .string(string)): return string
        case (.python, _): return PythonFormat.str(value)
        case (.json, _): return PythonFormat.json(value)
        }
    }

    private func substituteEnvironment(in element: String, environment: [String: String]) throws(CommandTemplateError) -> String {
        var result = element
        for (whole, name) in CommandMacro.environmentVariableRanges(in: element).reversed() {
            let variable = String(element[name])
            guard let value = environment[variable] else { throw .missingEnvironmentVariable(variable) }
            let lower = result.index(result.startIndex, offsetBy: element.distance(from: element.startIndex, to: whole.lowerBound))
            let upper = result.index(result.startIndex, offsetBy: element.distance(from: element.startIndex, to: whole.upperBound))
            result.replaceSubrange(lower..<upper, with: value)
        }
        return result
    }
}

/// One trial's command, ready to run.
public struct ExpandedCommand: Sendable, Hashable {
    /// A file the caller must write before running `argv` (for `${args_json_file}`).
    public struct File: Sendable, Hashable {
        public var path: String
        /// `json.dumps` of the parameters, as W&B writes it.
        public var contents: String
    }

    public var argv: [String]
    /// Non-nil exactly when the command has `${args_json_file}`.
    public var argsJSONFile: File?
}

/// Why a command cannot be built for a trial.
public enum CommandTemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The command has `${program}` and the sweep has no `program`.
    case missingProgram
    /// `${envvar:NAME}` names a variable the environment does not have.
    case missingEnvironmentVariable(String)
    /// The command has `${args_json_file}` and no path was given.
    case missingArgsJSONFilePath

    public var description: String {
        switch self {
        case .missingProgram: return "the command uses ${program}, but the sweep has no program"
        case let .missingEnvironmentVariable(name): return "the command uses ${envvar:\(name)}, but \(name) is not set"
        case .missingArgsJSONFilePath: return "the command uses ${args_json_file}, but no file path was given for it"
        }
    }
}
