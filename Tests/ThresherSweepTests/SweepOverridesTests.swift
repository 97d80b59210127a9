import ThresherWire
import XCTest
@testable import ThresherSweep

/// `--set KEY=VALUE` overrides: applied to the YAML tree, validated like the file, errors that
/// name the override, command-line paths made absolute, and an effective text that reads back.
final class SweepOverridesTests: XCTestCase {
    static let file = """
        # a comment the effective text drops
        method: grid
        metric: {name: val_f1, goal: maximize}
        parameters:
          lr: {values: [0.1, 0.01]}
          label_weight: {values: [[2, 1.2, 1], [1, 0.6, 0.4]]}
          tag: {value: "1"}
        early_terminate: {type: hyperband, max_iter: 27, s: 2, eta: 3}
        thresher:
          seed: 2
          engine:
            model: pair-classifier
            data: data/claims
            max_length: 256
        """

    private func parse(_ arguments: [String], _ text: String = file, cwd: String = "/home/u/work") throws(SweepFileErrors) -> EffectiveSweepFile {
        try SweepOverrides(arguments: arguments, workingDirectory: cwd).parse(text, fileName: "w2.yaml")
    }

    private func errors(_ arguments: [String], _ text: String = file) -> [String] {
        do {
            _ = try parse(arguments, text)
            XCTFail("expected errors for \(arguments)")
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    func testNoOverridesKeepTheFileTextExactly() throws {
        let effective = try parse([])
        XCTAssertEqual(effective.text, Self.file)
        XCTAssertEqual(effective.parsed, try SweepFileParser.parse(Self.file, fileName: "w2.yaml"))
    }

    func testScalarsListsAndMapsReplaceAndCreateKeys() throws {
        let effective = try parse([
            "thresher.engine.epochs=1", "thresher.engine.max_length=16", "parameters.lr.values=[0.5]",
            "early_terminate.max_iter=9", "thresher.retention.max_bytes=10MB", "parameters.extra={min: 0, max: 2}",
            "thresher.seed=7", "thresher.seed=8",
        ])
        let spec = effective.parsed.spec
        XCTAssertEqual(spec.thresher.engine?["epochs"], .int(1))
        XCTAssertEqual(spec.thresher.engine?["max_length"], .int(16))
        XCTAssertEqual(spec.thresher.seed, 8, "a later --set wins")
        XCTAssertEqual(spec.thresher.retention.maxBytes, 10_000_000)
        guard case .hyperband(let hyperband)? = spec.earlyTerminate else { return XCTFail("\(String(describing: spec.earlyTerminate))") }
        XCTAssertEqual(hyperband.maxIter, 9)
        XCTAssertEqual(spec.parameters.first { $0.name == "lr" }?.kind, .categorical(values: [.double(0.5)], probabilities: nil))
        XCTAssertEqual(spec.parameters.first { $0.name == "extra" }?.kind, .distribution(.intUniform(min: 0, max: 2)))
        // Untouched values keep their YAML types through the rewrite: "1" stays a string, lists stay lists.
        XCTAssertEqual(spec.parameters.first { $0.name == "tag" }?.kind, .constant(.string("1")))
        XCTAssertEqual(try SweepFileParser.parse(effective.text, fileName: "again.yaml").spec, spec)
        XCTAssertFalse(effective.text.contains("# a comment"))
    }

    func testDifferentOverridesGiveDifferentTextsAndTheSameGiveTheSame() throws {
        let a = try parse(["thresher.engine.epochs=2"]), b = try parse(["thresher.engine.epochs=3"])
        XCTAssertNotEqual(a.text, b.text)
        XCTAssertEqual(a.text, try parse(["thresher.engine.epochs=2"]).text)
    }

    func testCommandLinePathsAreRelativeToTheCurrentFolder() throws {
        let spec = try parse(["thresher.engine.data=../claims", "thresher.engine.embeddings=vectors/glove.txt",
                              "thresher.engine.cache_dir=/abs/cache"], cwd: "/home/u/work").parsed.spec
        XCTAssertEqual(spec.thresher.engine?["data"], .string("/home/u/claims"))
        XCTAssertEqual(spec.thresher.engine?["embeddings"], .string("/home/u/work/vectors/glove.txt"))
        XCTAssertEqual(spec.thresher.engine?["cache_dir"], .string("/abs/cache"))
        // A whole engine block from the command line: its paths too.
        let block = try parse(["thresher.engine={model: mlp, data: d.csv}"], cwd: "/w").parsed.spec
        XCTAssertEqual(block.thresher.engine?["data"], .string("/w/d.csv"))
        // Paths in the file stay as written (relative to the file's folder, resolved by TrialProgram).
        XCTAssertEqual(try parse(["thresher.engine.epochs=1"]).parsed.spec.thresher.engine?["data"], .string("data/claims"))
    }

    func testATypoGetsTheParsersDidYouMeanNamingTheOverride() {
        XCTAssertEqual(errors(["thresher.engine.dat=x.jsonl"]),
                       ["--set thresher.engine.dat=x.jsonl: thresher.engine.dat is not an engine key; did you mean 'data'?"])
        XCTAssertEqual(errors(["parameters.lr.valeus=[1]"]).count, 1)
        XCTAssertTrue(errors(["parameters.lr.valeus=[1]"])[0].hasPrefix("--set parameters.lr.valeus=[1]: parameters.lr.valeus "),
                      "\(errors(["parameters.lr.valeus=[1]"]))")
        XCTAssertTrue(errors(["parameters.lr.valeus=[1]"])[0].contains("did you mean 'values'?"))
        // A created mapping above the leaf belongs to the override too.
        let engin = errors(["thresher.engin.data=x"])
        XCTAssertEqual(engin.count, 1, "\(engin)")
        XCTAssertTrue(engin[0].hasPrefix("--set thresher.engin.data=x: thresher.engin ") && engin[0].contains("'engine'"), "\(engin)")
        // A wrong type: the parser's message, with the override instead of a line.
        XCTAssertEqual(errors(["thresher.engine.epochs=two"]),
                       ["--set thresher.engine.epochs=two: thresher.engine.epochs must be a non-negative integer (found the string 'two')"])
    }

    func testProblemsOfTheFileItselfKeepTheirLines() {
        let broken = Self.file.replacingOccurrences(of: "method: grid", with: "method: gird")
        let found = errors(["thresher.engine.epochs=1"], broken)
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found[0].hasSuffix("at w2.yaml:2:9"), "\(found)")
    }

    func testOddArgumentsAreErrorsNeverCrashes() {
        let cases: [(String, String)] = [
            ("=x", "the key before '=' is empty"),
            ("a..b=1", "the key 'a..b' has an empty segment"),
            (".a=1", "has an empty segment"),
            ("a.=1", "has an empty segment"),
            ("novalue", "expected KEY=VALUE"),
            ("a=[", "the value is not valid YAML"),
            ("a={x: 1, x: 2}", "repeats the key"),
            ("method.foo=1", "method is the string 'grid', not a mapping, so it has no key 'foo'"),
            ("parameters.lr.values.0=1", "parameters.lr.values is a list, not a mapping"),
        ]
        for (argument, expected) in cases {
            let found: [String]
            do {
                found = try SweepOverrides(arguments: [argument]).parse(Self.file, fileName: "w2.yaml").parsed.warnings.map(\.description)
                XCTFail("\(argument) was accepted: \(found)")
            } catch {
                XCTAssertEqual(error.errors.count, 1, "\(argument): \(error)")
                XCTAssertTrue(error.description.hasPrefix("--set \(argument): "), error.description)
                XCTAssertTrue(error.description.contains(expected), "\(argument): \(error.description)")
            }
        }
        // `a=` is YAML's null, judged by the parser like `data:` in a file: an unknown top-level key
        // is a warning (as in a file), an engine path an error.
        let warned = try? SweepOverrides(arguments: ["a="]).parse(Self.file, fileName: "w2.yaml").parsed.warnings.map(\.description)
        XCTAssertEqual(warned, ["--set a=: a is not a key Thresher or W&B knows in a sweep file; it is ignored"])
        let empty = errors(["thresher.engine.data="])
        XCTAssertEqual(empty, ["--set thresher.engine.data=: thresher.engine.data must be a non-empty string (found null)"])
        // Every malformed argument at once.
        XCTAssertThrowsError(try SweepOverrides(arguments: ["=x", "y"])) { error in
            XCTAssertEqual((error as? SweepFileErrors)?.errors.count, 2)
        }
    }

    func testAKeyGivenByAMergeIsOverriddenExplicitly() throws {
        let text = """
            shared_values: &base {values: [1, 2]}
            method: grid
            parameters:
              a:
                <<: *base
            """
        let spec = try parse(["parameters.a.values=[3]"], text).parsed.spec
        XCTAssertEqual(spec.parameters.first?.kind, .categorical(values: [.int(3)], probabilities: nil))
    }

    func testEveryExampleFileReadsBackAfterAnOverride() throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples")
        let names = try FileManager.default.contentsOfDirectory(atPath: examples.path).filter { $0.hasSuffix(".yaml") }
        XCTAssertFalse(names.isEmpty)
        for name in names {
            let path = examples.appendingPathComponent(name).path
            let plain = try SweepFileParser.parse(contentsOf: path).spec
            let effective = try SweepOverrides(arguments: ["thresher.seed=5"]).parse(contentsOf: path)
            var expected = plain
            expected.thresher.seed = 5
            XCTAssertEqual(effective.parsed.spec, expected, name)
            XCTAssertEqual(try SweepFileParser.parse(effective.text, fileName: name).spec, expected, name)
        }
    }

    func testNaNValuesSurviveTheRewrite() throws {
        let text = "method: grid\nparameters:\n  x: {values: [.nan, 1.0]}\n"
        let effective = try parse(["parameters.y.value=2"], text)
        XCTAssertEqual(effective.parsed.spec.parameters.count, 2)
    }

    func testTheEngineBlockRefusesNearMissesOfItsFlagsInTheFileToo() {
        let text = Self.file.replacingOccurrences(of: "max_length: 256", with: "epoch: 3\n    n_epochs: 3")
        XCTAssertThrowsError(try SweepFileParser.parse(text, fileName: "w2.yaml")) { error in
            let errors = (error as? SweepFileErrors)?.errors.map(\.description) ?? []
            XCTAssertEqual(errors, ["thresher.engine.epoch is not an engine key; did you mean 'epochs'? at w2.yaml:14:5"])
        }
    }
}
