import Foundation
import ThresherWire
import XCTest
@testable import ThresherSweep

/// Keys, distributions, inference, YAML typing and the thresher block of valid sweep files.
final class SweepFileParserTests: XCTestCase {
    private func parse(_ text: String, file: String = "sweep.yaml") throws -> ParsedSweepFile {
        do { return try SweepFileParser.parse(text, fileName: file) } catch {
            XCTFail("unexpected errors:\n\(error)")
            throw error
        }
    }

    private func kinds(_ text: String) throws -> [String: ParameterKind] {
        Dictionary(uniqueKeysWithValues: try parse(text).spec.parameters.map { ($0.name, $0.kind) })
    }

    func testEveryDistributionWithDefaults() throws {
        let k = try kinds("""
            method: random
            parameters:
              c: {distribution: constant, value: adam}
              cat: {distribution: categorical, values: [a, b]}
              w: {distribution: categorical_w_probabilities, values: [a, b], probabilities: [0.25, 0.75]}
              i: {distribution: int_uniform, min: -2, max: 5}
              u: {distribution: uniform, min: 0, max: 1}
              qu: {distribution: q_uniform, min: 0, max: 1}
              qu2: {distribution: q_uniform, min: 0, max: 1, q: 0.1}
              lu: {distribution: log_uniform, min: -9.2, max: -2.3}
              luv: {distribution: log_uniform_values, min: 0.0001, max: 0.1}
              qlu: {distribution: q_log_uniform, min: 0, max: 5}
              qluv: {distribution: q_log_uniform_values, min: 1, max: 256, q: 8}
              ilu: {distribution: inv_log_uniform, min: 0, max: 3}
              iluv: {distribution: inv_log_uniform_values, min: 0.5, max: 10}
              n: {distribution: normal}
              n2: {distribution: normal, mu: 3, sigma: 0.5}
              qn: {distribution: q_normal, q: 2}
              ln: {distribution: log_normal, mu: -1}
              qln: {distribution: q_log_normal, sigma: 2}
              be: {distribution: beta}
              be2: {distribution: beta, a: 2, b: 5}
              qbe: {distribution: q_beta, a: 0.5, q: 0.05}
            """)
        XCTAssertEqual(k["c"], .constant(.string("adam")))
        XCTAssertEqual(k["cat"], .categorical(values: [.string("a"), .string("b")], probabilities: nil))
        XCTAssertEqual(k["w"], .categorical(values: [.string("a"), .string("b")], probabilities: [0.25, 0.75]))
        XCTAssertEqual(k["i"], .distribution(.intUniform(min: -2, max: 5)))
        XCTAssertEqual(k["u"], .distribution(.uniform(min: 0, max: 1)))
        XCTAssertEqual(k["qu"], .distribution(.qUniform(min: 0, max: 1, q: 1)))
        XCTAssertEqual(k["qu2"], .distribution(.qUniform(min: 0, max: 1, q: 0.1)))
        XCTAssertEqual(k["lu"], .distribution(.logUniform(min: -9.2, max: -2.3)))
        XCTAssertEqual(k["luv"], .distribution(.logUniformValues(min: 0.0001, max: 0.1)))
        XCTAssertEqual(k["qlu"], .distribution(.qLogUniform(min: 0, max: 5, q: 1)))
        XCTAssertEqual(k["qluv"], .distribution(.qLogUniformValues(min: 1, max: 256, q: 8)))
        XCTAssertEqual(k["ilu"], .distribution(.invLogUniform(min: 0, max: 3)))
        XCTAssertEqual(k["iluv"], .distribution(.invLogUniformValues(min: 0.5, max: 10)))
        XCTAssertEqual(k["n"], .distribution(.normal(mu: 0, sigma: 1)))
        XCTAssertEqual(k["n2"], .distribution(.normal(mu: 3, sigma: 0.5)))
        XCTAssertEqual(k["qn"], .distribution(.qNormal(mu: 0, sigma: 1, q: 2)))
        XCTAssertEqual(k["ln"], .distribution(.logNormal(mu: -1, sigma: 1)))
        XCTAssertEqual(k["qln"], .distribution(.qLogNormal(mu: 0, sigma: 2, q: 1)))
        XCTAssertEqual(k["be"], .distribution(.beta(a: 1, b: 1)))
        XCTAssertEqual(k["be2"], .distribution(.beta(a: 2, b: 5)))
        XCTAssertEqual(k["qbe"], .distribution(.qBeta(a: 0.5, b: 1, q: 0.05)))
        XCTAssertEqual(Distribution.qLogUniformValues(min: 1, max: 2, q: 1).wandbName, "q_log_uniform_values")
    }

    func testInferenceWithoutDistributionMatchesWandB() throws {
        let k = try kinds("""
            method: random
            parameters:
              v: {value: 3}
              vs: {values: [1, 2]}
              p: {values: [x, y], probabilities: [0.1, 0.9]}
              i: {min: 1, max: 10}
              f: {min: 0.5, max: 2.5}
              mixed: {min: 0, max: 1.0}
            """)
        XCTAssertEqual(k["v"], .constant(.int(3)))
        XCTAssertEqual(k["vs"], .categorical(values: [.int(1), .int(2)], probabilities: nil))
        XCTAssertEqual(k["p"], .categorical(values: [.string("x"), .string("y")], probabilities: [0.1, 0.9]))
        XCTAssertEqual(k["i"], .distribution(.intUniform(min: 1, max: 10)))
        XCTAssertEqual(k["f"], .distribution(.uniform(min: 0.5, max: 2.5)))
        XCTAssertEqual(k["mixed"], .distribution(.uniform(min: 0, max: 1)))
    }

    func testScalarTypingFollowsYAML11ButReadsExponentsAsFloats() throws {
        let k = try kinds("""
            method: grid
            parameters:
              x:
                values: [1e-3, 1.0e-3, 1.5E+2, 3, -4, 0x10, 1_000, true, false, yes, off, null, ~, "1", '2.5', .inf, adam]
            """)
        XCTAssertEqual(k["x"], .categorical(values: [
            .double(0.001), .double(0.001), .double(150), .int(3), .int(-4), .int(16), .int(1000),
            .bool(true), .bool(false), .bool(true), .bool(false), .null, .null, .string("1"), .string("2.5"),
            .double(.infinity), .string("adam"),
        ], probabilities: nil))
    }

    func testValuesMayBeListsAndMapsAndConstantsMayBeAnything() throws {
        let k = try kinds("""
            method: grid
            parameters:
              layers:
                values:
                  - [64, 64]
                  - [128, 64, 32]
              opt:
                values:
                  - {name: adam, betas: [0.9, 0.999]}
                  - {name: sgd, momentum: 0.9}
              schedule: {value: {kind: cosine, warmup: 0.1}}
              nothing: {value: null}
            """)
        XCTAssertEqual(k["layers"], .categorical(values: [.list([.int(64), .int(64)]), .list([.int(128), .int(64), .int(32)])],
                                                 probabilities: nil))
        XCTAssertEqual(k["opt"], .categorical(values: [
            .map(["name": .string("adam"), "betas": .list([.double(0.9), .double(0.999)])]),
            .map(["name": .string("sgd"), "momentum": .double(0.9)]),
        ], probabilities: nil))
        XCTAssertEqual(k["schedule"], .constant(.map(["kind": .string("cosine"), "warmup": .double(0.1)])))
        XCTAssertEqual(k["nothing"], .constant(.null))
    }

    func testNestedParametersAtAnyDepthKeepFileOrder() throws {
        let parsed = try parse("""
            method: random
            parameters:
              optimizer:
                parameters:
                  name: {values: [adam, sgd]}
                  schedule:
                    parameters:
                      warmup: {min: 0, max: 100}
                      decay: {value: 0.5}
              epochs: {value: 10}
            """)
        XCTAssertEqual(parsed.spec.parameters, [
            ParameterSpec(name: "optimizer", kind: .nested([
                ParameterSpec(name: "name", kind: .categorical(values: [.string("adam"), .string("sgd")], probabilities: nil)),
                ParameterSpec(name: "schedule", kind: .nested([
                    ParameterSpec(name: "warmup", kind: .distribution(.intUniform(min: 0, max: 100))),
                    ParameterSpec(name: "decay", kind: .constant(.double(0.5))),
                ])),
            ])),
            ParameterSpec(name: "epochs", kind: .constant(.int(10))),
        ])
    }

    func testDuplicateValuesAreKeptWithAWarning() throws {
        let parsed = try parse("""
            method: grid
            parameters:
              x: {values: [1, 2, 1, 1.0, [1], [1]]}
            """)
        XCTAssertEqual(parsed.spec.parameters[0].kind, .categorical(
            values: [.int(1), .int(2), .int(1), .double(1), .list([.int(1)]), .list([.int(1)])], probabilities: nil))
        XCTAssertEqual(parsed.warnings.map(\.description), [
            "parameters.x.values[2] repeats values[0] (1); the grid uses it once at sweep.yaml:3:22",
            "parameters.x.values[5] repeats values[4] (a list); the grid uses it once at sweep.yaml:3:35",
        ])
    }

    func testJSONInputParsesLikeYAML() throws {
        let json = """
            {
            \t"method": "bayes",
            \t"metric": {"name": "val_loss", "goal": "minimize", "target": 0.05},
            \t"parameters": {
            \t\t"lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
            \t\t"batch": {"values": [16, 32, 64]},
            \t\t"model": {"parameters": {"depth": {"min": 2, "max": 8}}}
            \t},
            \t"run_cap": 40,
            \t"thresher": {"seed": 7}
            }
            """
        let spec = try parse(json, file: "sweep.json").spec
        XCTAssertEqual(spec, SweepSpec(
            method: .bayes,
            metric: MetricSpec(name: "val_loss", goal: .minimize, target: 0.05),
            parameters: [
                ParameterSpec(name: "lr", kind: .distribution(.logUniformValues(min: 1e-5, max: 1e-1))),
                ParameterSpec(name: "batch", kind: .categorical(values: [.int(16), .int(32), .int(64)], probabilities: nil)),
                ParameterSpec(name: "model", kind: .nested([ParameterSpec(name: "depth", kind: .distribution(.intUniform(min: 2, max: 8)))])),
            ],
            runCap: 40, thresher: ThresherSettings(seed: 7)))
    }

    func testTopLevelKeysAndWandBKeysThresherIgnores() throws {
        let parsed = try parse("""
            name: boolq-gru
            description: GRU over GloVe
            program: train.py
            command:
              - ${env}
              - python3
              - ${program}
              - --epochs
              - 50
              - ${args_no_boolean_flags}
            method: grid
            randomize_order: true
            run_cap: 20
            metric: {name: acc, goal: maximize, impute: worst, impute_while_running: false}
            parameters:
              x: {values: [1, 2]}
            controller: {type: local}
            entity: me
            project: boolq
            apiVersion: v1
            kind: sweep
            """)
        let spec = parsed.spec
        XCTAssertEqual(spec.name, "boolq-gru")
        XCTAssertEqual(spec.description, "GRU over GloVe")
        XCTAssertEqual(spec.program, "train.py")
        XCTAssertEqual(spec.command, ["${env}", "python3", "${program}", "--epochs", "50", "${args_no_boolean_flags}"])
        XCTAssertEqual(spec.method, .grid)
        XCTAssertTrue(spec.randomizeOrder)
        XCTAssertEqual(spec.runCap, 20)
        XCTAssertEqual(spec.metric, MetricSpec(name: "acc", goal: .maximize))
        XCTAssertEqual(parsed.warnings, [])
    }

    func testUnknownTopLevelKeyIsAWarning() throws {
        let parsed = try parse("method: random\nparameters: {x: {value: 1}}\nnotes: tried twice\n")
        XCTAssertEqual(parsed.warnings.map(\.description),
                       ["notes is not a key Thresher or W&B knows in a sweep file; it is ignored at sweep.yaml:3:1"])
        XCTAssertEqual(parsed.warnings.first?.severity, .warning)
    }

    func testThresherBlock() throws {
        let spec = try parse("""
            method: random
            parameters: {x: {value: 1}}
            thresher:
              seed: 42
              slots: 2
              retention: {keep_top_k: 10, keep_top_k_per_trial: 2, keep_latest_per_trial: false, max_bytes: 500MiB}
              engine:
                model: gru-classifier
                data: data/boolq/dev.jsonl
                epochs: 50
                label_weight: [2, 1.2, 1]
            """).spec
        XCTAssertEqual(spec.thresher, ThresherSettings(
            seed: 42,
            retention: RetentionSettings(keepTopK: 10, keepTopKPerTrial: 2, keepLatestPerTrial: false, maxBytes: 524_288_000),
            engine: ["model": .string("gru-classifier"), "data": .string("data/boolq/dev.jsonl"), "epochs": .int(50),
                     "label_weight": .list([.int(2), .double(1.2), .int(1)])],
            slots: 2))
        XCTAssertEqual(try parse("method: random\nparameters: {x: {value: 1}}\n").spec.thresher, ThresherSettings())
    }

    func testByteCounts() {
        XCTAssertEqual(try ByteCount.parse("2GB").get(), 2_000_000_000)
        XCTAssertEqual(try ByteCount.parse("2 gb").get(), 2_000_000_000)
        XCTAssertEqual(try ByteCount.parse("1.5GiB").get(), 1_610_612_736)
        XCTAssertEqual(try ByteCount.parse("500MiB").get(), 524_288_000)
        XCTAssertEqual(try ByteCount.parse("4096").get(), 4096)
        XCTAssertEqual(try ByteCount.parse("10KB").get(), 10_000)
        XCTAssertEqual(try ByteCount.parse("7B").get(), 7)
        XCTAssertEqual(ByteCount.parse("2G"), .failure(.unknownUnit("G")))
        XCTAssertEqual(ByteCount.parse("0MB"), .failure(.notPositive))
        XCTAssertEqual(ByteCount.parse("1.5"), .failure(.malformed))
        XCTAssertEqual(ByteCount.parse("GB"), .failure(.malformed))
        XCTAssertEqual(ByteCount.parse("99999999PB"), .failure(.tooLarge))
    }

    func testEarlyTerminatePolicies() throws {
        func policy(_ block: String) throws -> EarlyTerminateSpec? {
            try parse("method: random\nmetric: {name: loss}\nparameters: {x: {value: 1}}\nearly_terminate: \(block)\n").spec.earlyTerminate
        }
        XCTAssertEqual(try policy("{type: hyperband, min_iter: 3}"), .hyperband(HyperbandSpec(minIter: 3, eta: 3, strict: true)))
        XCTAssertEqual(try policy("{type: hyperband, max_iter: 81, s: 3, eta: 2.5, strict: false}"),
                       .hyperband(HyperbandSpec(maxIter: 81, s: 3, eta: 2.5, strict: false)))
        XCTAssertEqual(try policy("{type: asha, max_t: 81}"),
                       .asha(ASHASpec(gracePeriod: 1, reductionFactor: 3, maxT: 81, brackets: 1)))
        XCTAssertEqual(try policy("{type: asha, grace_period: 3, reduction_factor: 4, max_t: 48, brackets: 2}"),
                       .asha(ASHASpec(gracePeriod: 3, reductionFactor: 4, maxT: 48, brackets: 2)))
        let both = try parse("""
            method: random
            metric: {name: loss}
            parameters: {x: {value: 1}}
            early_terminate: {type: hyperband, min_iter: 2, max_iter: 27, s: 2}
            """)
        XCTAssertEqual(both.spec.earlyTerminate, .hyperband(HyperbandSpec(minIter: 2, maxIter: 27, s: 2)))
        XCTAssertEqual(both.warnings.map(\.description), [
            "early_terminate.min_iter is ignored: with max_iter and s given, W&B and Thresher take the bands from those "
                + "at sweep.yaml:4:36",
        ])
        XCTAssertEqual(try policy("{type: median}"), .median(MedianStoppingSpec(warmupSteps: 0, minTrials: 3)))
        XCTAssertEqual(try policy("{type: median, warmup_steps: 5, min_trials: 4}"),
                       .median(MedianStoppingSpec(warmupSteps: 5, minTrials: 4)))
    }

    func testParseContentsOfReadsTheFileAndNamesAMissingOne() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-spec-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("w2.yaml").path
        try SweepFileWorkloadTests.w2.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try SweepFileParser.parse(contentsOf: path).spec.parameters.count, 9)

        let missing = directory.appendingPathComponent("nope.yaml").path
        XCTAssertThrowsError(try SweepFileParser.parse(contentsOf: missing)) { error in
            XCTAssertEqual((error as? SweepFileErrors)?.description, "cannot read the sweep file: no such file at \(missing)")
        }
        XCTAssertThrowsError(try SweepFileParser.parse(contentsOf: directory.path)) { error in
            XCTAssertEqual((error as? SweepFileErrors)?.description,
                           "cannot read the sweep file: it is a directory at \(directory.path)")
        }
    }
}

extension SweepFileParserTests {
    func testAnchorsAliasesAndMergeKeys() throws {
        let k = try kinds("""
            method: random
            parameters:
              base: &lr {distribution: log_uniform_values, min: 0.0001, max: 0.1}
              head_lr: *lr
              tail_lr: {<<: *lr, max: 0.01}
            """)
        XCTAssertEqual(k["head_lr"], .distribution(.logUniformValues(min: 0.0001, max: 0.1)))
        XCTAssertEqual(k["tail_lr"], .distribution(.logUniformValues(min: 0.0001, max: 0.01)))
    }

    func testTheDocumentedExampleParses() throws {
        let parsed = try parse("""
            name: gru-search
            program: train.py
            command:
              - ${env}
              - ${interpreter}
              - ${program}
              - --data
              - ${envvar:DATA_DIR}
              - ${args_no_boolean_flags}
            method: bayes
            metric: {name: val_loss, goal: minimize}
            run_cap: 60
            parameters:
              lr: {distribution: log_uniform_values, min: 1.0e-5, max: 1.0e-2}
              hidden_size: {values: [128, 256, 512]}
              layers: {min: 1, max: 3}                   # int_uniform
              dropout: {min: 0.0, max: 0.5}              # uniform
              bidirectional: {values: [true, false]}
              optimizer:
                parameters:
                  name: {value: adamw}
                  weight_decay: {distribution: q_log_uniform_values, min: 0.0001, max: 0.1, q: 0.0001}
            early_terminate: {type: asha, grace_period: 2, reduction_factor: 3, max_t: 50}
            thresher:
              seed: 7
              slots: 2
              retention: {keep_top_k: 5, max_bytes: 500MiB}
            """)
        XCTAssertEqual(parsed.warnings, [])
        XCTAssertEqual(parsed.spec.parameters.map(\.name), ["lr", "hidden_size", "layers", "dropout", "bidirectional", "optimizer"])
        let argv = try CommandTemplate(spec: parsed.spec).expand(
            params: ["lr": .double(0.00031), "layers": .int(2), "bidirectional": .bool(false),
                     "optimizer": .map(["name": .string("adamw"), "weight_decay": .double(0.0012)])],
            program: parsed.spec.program, environment: ["DATA_DIR": "/data"]).argv
        XCTAssertEqual(argv, ["/usr/bin/env", "python", "train.py", "--data", "/data", "--lr=0.00031", "--layers=2",
                              "--optimizer={'name': 'adamw', 'weight_decay': 0.0012}"])
    }

    func testTheExampleFilesInTheRepositoryParse() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for name in ["w1-boolq-gru.yaml", "w2-claims-pair.yaml"] {
            let path = root.appendingPathComponent("examples").appendingPathComponent(name).path
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let parsed = try SweepFileParser.parse(contentsOf: path)
            XCTAssertEqual(parsed.spec.method, .grid, name)
        }
    }
}
