import ThresherWire
import XCTest
@testable import ThresherSweep

/// `command:` expansion, macro by macro, and Python-compatible value rendering.
final class CommandTemplateTests: XCTestCase {
    private let params: ParamMap = [
        "lr": .double(0.0001),
        "epochs": .int(3),
        "freeze": .bool(false),
        "shuffle": .bool(true),
        "opt": .string("adam"),
        "label_weight": .list([.int(2), .double(1.2), .int(1)]),
        "sched": .map(["kind": .string("cosine"), "min_lr": .double(1e-6)]),
        "tag": .null,
    ]

    private func argv(_ elements: [String]?, program: String? = "train.py", env: [String: String] = [:]) throws -> [String] {
        try CommandTemplate(elements: elements).expand(params: params, program: program, environment: env).argv
    }

    func testDefaultCommandIsWandBs() throws {
        XCTAssertEqual(try argv(nil), [
            "/usr/bin/env", "python", "train.py", "--lr=0.0001", "--epochs=3", "--freeze=False", "--shuffle=True",
            "--opt=adam", "--label_weight=[2, 1.2, 1]", "--sched={'kind': 'cosine', 'min_lr': 1e-06}", "--tag=None",
        ])
        XCTAssertEqual(try argv([]), try argv(nil))
        XCTAssertEqual(CommandTemplate(spec: SweepSpec(method: .grid, parameters: [])).elements, CommandTemplate.defaultElements)
    }

    func testEveryArgumentMacro() throws {
        XCTAssertEqual(try argv(["${args_no_hyphens}"]), [
            "lr=0.0001", "epochs=3", "freeze=False", "shuffle=True", "opt=adam", "label_weight=[2, 1.2, 1]",
            "sched={'kind': 'cosine', 'min_lr': 1e-06}", "tag=None",
        ])
        XCTAssertEqual(try argv(["${args_no_boolean_flags}"]), [
            "--lr=0.0001", "--epochs=3", "--shuffle", "--opt=adam", "--label_weight=[2, 1.2, 1]",
            "--sched={'kind': 'cosine', 'min_lr': 1e-06}", "--tag=None",
        ])
        XCTAssertEqual(try argv(["${args_no_equals}"]).prefix(4), ["--lr", "0.0001", "--epochs", "3"])
        XCTAssertEqual(try argv(["${args_json}"]), [
            #"{"lr": 0.0001, "epochs": 3, "freeze": false, "shuffle": true, "opt": "adam", "label_weight": [2, 1.2, 1], "#
                + #""sched": {"kind": "cosine", "min_lr": 1e-06}, "tag": null}"#,
        ])
    }

    func testEnvInterpreterProgramAndLiteralElements() throws {
        let template = CommandTemplate(elements: ["${env}", "${interpreter}", "-u", "${program}", "--fixed", "7"],
                                       interpreter: "python3.12", envPath: "/bin/env")
        XCTAssertEqual(try template.expand(params: [:], program: "src/train.py").argv,
                       ["/bin/env", "python3.12", "-u", "src/train.py", "--fixed", "7"])
    }

    func testArgsJSONFileReturnsWhatToWrite() throws {
        let template = CommandTemplate(elements: ["${interpreter}", "${program}", "${args_json_file}"])
        let expanded = try template.expand(params: ["lr": .double(0.1), "name": .string("é")], program: "t.py",
                                           argsJSONFilePath: "/tmp/trial-3/args.json")
        XCTAssertEqual(expanded.argv, ["python", "t.py", "/tmp/trial-3/args.json"])
        XCTAssertEqual(expanded.argsJSONFile, ExpandedCommand.File(path: "/tmp/trial-3/args.json",
                                                                   contents: #"{"lr": 0.1, "name": "\u00e9"}"#))
        XCTAssertNil(try CommandTemplate().expand(params: [:], program: "t.py").argsJSONFile)
        XCTAssertThrowsError(try template.expand(params: [:], program: "t.py")) {
            XCTAssertEqual($0 as? CommandTemplateError, .missingArgsJSONFilePath)
        }
    }

    func testEnvironmentVariablesAnywhereInAnElement() throws {
        let env = ["DATA": "/data/boolq", "RUN_ID": "42"]
        XCTAssertEqual(try argv(["${envvar:DATA}", "--out=${envvar:DATA}/runs/${envvar:RUN_ID}"], env: env),
                       ["/data/boolq", "--out=/data/boolq/runs/42"])
        XCTAssertThrowsError(try argv(["${envvar:NOPE}"])) {
            XCTAssertEqual($0 as? CommandTemplateError, .missingEnvironmentVariable("NOPE"))
            XCTAssertEqual(($0 as? CommandTemplateError)?.description, "the command uses ${envvar:NOPE}, but NOPE is not set")
        }
    }

    func testUnknownWholeMacrosAreDroppedAndEmbeddedMacrosKept() throws {
        XCTAssertEqual(try argv(["${foo}", "--cfg=${program}"]),
                       ["--cfg=${program}"])
    }

    func testMissingProgram() {
        XCTAssertThrowsError(try argv(nil, program: nil)) { XCTAssertEqual($0 as? CommandTemplateError, .missingProgram) }
    }

    func testJSONValueStyle() throws {
        let template = CommandTemplate(elements: ["${args}"], valueStyle: .json)
        XCTAssertEqual(try template.expand(params: params, program: nil).argv, [
            "--lr=0.0001", "--epochs=3", "--freeze=false", "--shuffle=true", "--opt=adam", "--label_weight=[2, 1.2, 1]",
            #"--sched={"kind": "cosine", "min_lr": 1e-06}"#, "--tag=null",
        ])
    }

    func testFloatsPrintLikePythonRepr() {
        let cases: [(Double, String)] = [
            (0.1, "0.1"), (1e-05, "1e-05"), (0.0001, "0.0001"), (1.0, "1.0"), (0.0, "0.0"), (-0.0, "-0.0"),
            (3e6, "3000000.0"), (1e16, "1e+16"), (1234567890123456.0, "1234567890123456.0"), (0.30000000000000004, "0.30000000000000004"),
            (-2.5e-7, "-2.5e-07"), (1.5e300, "1.5e+300"), (5e-324, "5e-324"), (.infinity, "inf"), (-.infinity, "-inf"),
            (.nan, "nan"), (123.456, "123.456"), (100.0, "100.0"), (1e22, "1e+22"), (0.000123, "0.000123"),
        ]
        for (value, text) in cases { XCTAssertEqual(PythonFormat.repr(value), text, "\(value)") }
    }

    func testPythonLiteralsQuoteStringsInsideContainers() {
        XCTAssertEqual(PythonFormat.str(.list([.string("a"), .string("it's"), .string("tab\there")])),
                       #"['a', "it's", 'tab\there']"#)
        XCTAssertEqual(PythonFormat.str(.string("bare")), "bare")
        XCTAssertEqual(PythonFormat.json(.list([.double(.nan), .double(-.infinity), .string("q\"\\")])),
                       #"[NaN, -Infinity, "q\"\\"]"#)
    }
}
