import XCTest
@testable import ThresherSweep

/// Golden validation messages: every problem of a file at once, in file order, with line:column.
final class SweepFileValidationTests: XCTestCase {
    private func errors(_ text: String) -> [String] {
        do {
            _ = try SweepFileParser.parse(text, fileName: "sweep.yaml")
            XCTFail("expected errors")
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    func testABadFileReportsEveryProblemAtOnce() {
        let text = """
            method: gird
            metric: {goal: maximise}
            parameters:
              lr:
                distribution: log_uniform_values
                min: 0
                max: 0.1
              wd:
                min: 0.1
                max: 0.01
              layers: {distrbution: int_uniform, min: 1, max: 4}
              act: {values: []}
              opt: {values: [adam, sgd], probabilities: [0.5, 0.6]}
              mom: {distribution: uniform, min: 0, max: 1, mu: 0.5}
              sig: {distribution: normal, sigma: 0}
              n: {distribution: int_uniform, min: 1.0, max: 3}
              c: 0.1
              e: {}
            run_cap: 0
            early_terminate: {type: hyperband, min_iter: 3, eta: 1}
            thresher:
              seed: -1
              retention: {max_bytes: 2 GiBs}
            Parameters: 3
            entity: me
            """
        XCTAssertEqual(errors(text), [
            "method must be one of grid, random, bayes (found 'gird'); did you mean 'grid'? at sweep.yaml:1:9",
            "metric needs name (the metric the sweep optimises) at sweep.yaml:2:9",
            "metric.goal must be one of minimize, maximize (found 'maximise'); did you mean 'maximize'? at sweep.yaml:2:16",
            "parameters.lr.min must be > 0 for log_uniform_values, which takes the bounds themselves (found 0) at sweep.yaml:6:10",
            "parameters.wd.min must be < max (0.1 >= 0.01) at sweep.yaml:9:10",
            "parameters.layers.distrbution is not a parameter key; did you mean 'distribution'? at sweep.yaml:11:12",
            "parameters.act.values must hold at least one value (found an empty list) at sweep.yaml:12:17",
            "parameters.opt.probabilities must sum to 1 (found 1.1) at sweep.yaml:13:45",
            "parameters.mom.mu does not apply to a uniform parameter (it takes min, max) at sweep.yaml:14:48",
            "parameters.sig.sigma must be > 0 (found 0) at sweep.yaml:15:38",
            "parameters.n.min must be an integer (found the float 1.0) at sweep.yaml:16:39",
            "parameters.c must be a parameter block with value, values, min/max, distribution or parameters "
                + "(found the float 0.1); for a constant write {value: 0.1} at sweep.yaml:17:6",
            "parameters.e does not say what to sample: expected value, values, min and max, distribution, or parameters "
                + "(found an empty block) at sweep.yaml:18:6",
            "run_cap must be a positive integer (found 0) at sweep.yaml:19:10",
            "early_terminate.eta must be > 1 (found 1) at sweep.yaml:20:54",
            "thresher.seed must be ≥ 0 (found -1) at sweep.yaml:22:9",
            "thresher.retention.max_bytes has an unknown unit 'GiBs' (expected one of B, KB, MB, GB, TB, PB, KiB, MiB, "
                + "GiB, TiB, PiB) at sweep.yaml:23:26",
            "Parameters is not a known key of a sweep file; did you mean 'parameters'? at sweep.yaml:24:1",
        ])
    }

    func testGridRejectsDistributionsItCannotEnumerate() {
        XCTAssertEqual(errors("""
            method: grid
            parameters:
              lr: {distribution: log_uniform_values, min: 1e-5, max: 1e-1}
              x: {min: 0.0, max: 1.0}
              ok_int: {min: 1, max: 3}
              ok_q: {distribution: q_uniform, min: 0, max: 1, q: 0.25}
              w: {values: [a, b], probabilities: [0.5, 0.5]}
              opt:
                parameters:
                  beta: {distribution: normal}
            """), [
            "parameters.lr is a log_uniform_values distribution, which grid search cannot enumerate; use values: [...] at sweep.yaml:3:22",
            "parameters.x is a uniform distribution, which grid search cannot enumerate; use values: [...] at sweep.yaml:4:6",
            "parameters.w has probabilities, which grid search cannot use (every value is one grid point); remove them "
                + "at sweep.yaml:7:23",
            "parameters.opt.parameters.beta is a normal distribution, which grid search cannot enumerate; use values: [...] "
                + "at sweep.yaml:10:28",
        ])
    }

    func testDidYouMeanForNearMissKeysAndValues() {
        XCTAssertEqual(errors("""
            Method: random
            paramters:
              x: {value: 1, distribution: constnt}
            early_terminat: {type: hyperband}
            """), [
            "Method is not a known key of a sweep file; did you mean 'method'? at sweep.yaml:1:1",
            "method is missing (expected grid, random or bayes) at sweep.yaml:1:1",
            "parameters is missing (expected a mapping of the parameters to sweep) at sweep.yaml:1:1",
            "paramters is not a known key of a sweep file; did you mean 'parameters'? at sweep.yaml:2:1",
            "early_terminat is not a known key of a sweep file; did you mean 'early_terminate'? at sweep.yaml:4:1",
        ])
        XCTAssertEqual(errors("""
            method: random
            metric: {name: loss, gaol: minimize}
            parameters:
              x: {value: 1, distribution: constnt}
              y: {min: 1, max: 2, Q: 1}
            early_terminate: {type: hyperbnd, min_iter: 1}
            thresher: {sead: 1, retention: {keep_top: 2}}
            """), [
            "metric.gaol is not a known key of metric; did you mean 'goal'? at sweep.yaml:2:22",
            "parameters.x.distribution must be one of constant, categorical, categorical_w_probabilities, int_uniform, "
                + "uniform, q_uniform, log_uniform, log_uniform_values, q_log_uniform, q_log_uniform_values, inv_log_uniform, "
                + "inv_log_uniform_values, normal, q_normal, log_normal, q_log_normal, beta, q_beta (found 'constnt'); "
                + "did you mean 'constant'? at sweep.yaml:4:31",
            "parameters.y.Q is not a parameter key; did you mean 'q'? at sweep.yaml:5:23",
            "early_terminate.type must be one of hyperband, asha, median (found 'hyperbnd'); did you mean 'hyperband'? "
                + "at sweep.yaml:6:25",
            "thresher.sead is not a known key of the thresher block; did you mean 'seed'? at sweep.yaml:7:12",
            "thresher.retention.keep_top is not a known key of thresher.retention; did you mean 'keep_top_k'? at sweep.yaml:7:33",
        ])
    }

    func testParameterBlockShapes() {
        XCTAssertEqual(errors("""
            method: random
            parameters:
              a: {value: 1, values: [1, 2]}
              b: {min: 1}
              c: {mu: 0, sigma: 1}
              d: {distribution: uniform, max: 1}
              e: {values: [1, 2], probabilities: [0.5]}
              f: {values: [1, 2], probabilities: [-0.5, 1.5]}
              g: {parameters: {}, value: 1}
              h: {values: 3}
              i: {distribution: int_uniform, min: 3, max: 3}
              j: {distribution: beta, a: 0}
              k: {distribution: q_uniform, min: 0, max: 1, q: 0}
            """), [
            "parameters.a.value does not apply to a categorical parameter (it takes values) at sweep.yaml:3:7",
            "parameters.b needs both min and max (found keys min) at sweep.yaml:4:6",
            "parameters.c does not say what to sample: expected value, values, min and max, distribution, or parameters "
                + "(found keys mu, sigma); add distribution: normal (or log_normal, …) at sweep.yaml:5:6",
            "parameters.d needs min for a uniform parameter (found keys distribution, max) at sweep.yaml:6:6",
            "parameters.e.probabilities must have one entry per value (found 1 for 2 values) at sweep.yaml:7:38",
            "parameters.f.probabilities[0] must be ≥ 0 (found -0.5) at sweep.yaml:8:39",
            "parameters.g.parameters must define at least one parameter (found an empty mapping) at sweep.yaml:9:19",
            "parameters.g.value cannot stand beside parameters (a block of nested parameters holds nothing else) at sweep.yaml:9:23",
            "parameters.h.values must be a list of values (found the integer 3) at sweep.yaml:10:15",
            "parameters.i.min must be < max (3 >= 3) at sweep.yaml:11:39",
            "parameters.j.a must be > 0 (found 0) at sweep.yaml:12:30",
            "parameters.k.q must be > 0 (found 0) at sweep.yaml:13:51",
        ])
    }

    func testPoliciesAndBayesNeedAMetricAndHyperbandItsBandSource() {
        XCTAssertEqual(errors("""
            method: bayes
            parameters: {x: {min: 0.0, max: 1.0}}
            early_terminate: {type: median}
            """), [
            "method bayes needs a metric to model; add metric: {name: …, goal: …} at sweep.yaml:1:9",
            "early_terminate needs a metric to compare trials; add metric: {name: …, goal: …} at sweep.yaml:3:1",
        ])
        func hyperband(_ block: String) -> [String] {
            errors("method: random\nmetric: {name: loss}\nparameters: {x: {value: 1}}\nearly_terminate: \(block)\n")
        }
        XCTAssertEqual(hyperband("{type: hyperband, eta: 3}"), [
            "early_terminate needs max_iter with s, or min_iter, for hyperband (found neither) at sweep.yaml:4:18",
        ])
        XCTAssertEqual(hyperband("{type: hyperband, max_iter: 2, s: 1}"), [
            "early_terminate.max_iter 2 with eta 3 gives no band of at least one iteration (max_iter / eta < 1); "
                + "raise max_iter or lower eta at sweep.yaml:4:46",
        ])
        XCTAssertEqual(hyperband("{type: hyperband, max_iter: 27}"), [
            "early_terminate needs s (the number of bands) with max_iter for hyperband at sweep.yaml:4:18",
        ])
        XCTAssertEqual(hyperband("{type: asha, grace_period: 9, max_t: 3}"), [
            "early_terminate.max_t must be ≥ grace_period (3 < 9) at sweep.yaml:4:55",
        ])
        XCTAssertEqual(hyperband("{type: asha}"), [
            "early_terminate needs max_t (the most iterations a trial may run) for asha at sweep.yaml:4:18",
        ])
        XCTAssertEqual(hyperband("{min_iter: 3}"), [
            "early_terminate needs type: hyperband, asha or median (found no type) at sweep.yaml:4:18",
        ])
    }

    func testCommandMacrosAreChecked() {
        XCTAssertEqual(errors("""
            method: random
            parameters: {x: {value: 1}}
            command:
              - ${env}
              - ${program}
              - ${arg}
              - --token=${envvar:}
            """), [
            "command[1] uses ${program}, but the file has no program key at sweep.yaml:5:5",
            "command[2] is not a command macro (found ${arg}); did you mean ${args}? at sweep.yaml:6:5",
            "command[3] has ${envvar:}, which is not an environment variable name (letters, digits, _) at sweep.yaml:7:5",
        ])
    }

    func testYAMLProblemsAreErrorsWithTheirPlace() {
        XCTAssertEqual(errors("method: [\n"), [
            "the file is not valid YAML: did not find expected node content (while parsing a flow node at line 2, column 1) "
                + "at sweep.yaml:2:1",
        ])
        XCTAssertEqual(errors(""), ["the file is empty (expected a mapping with at least method and parameters) at sweep.yaml:1:1"])
        XCTAssertEqual(errors("- method\n- grid\n"), [
            "must be a mapping of sweep settings (method, parameters, …) (found a list) at sweep.yaml:1:1",
        ])
        XCTAssertEqual(errors("method: random\nparameters: {a: {value: 1}, a: {value: 2}}\n"), [
            "a mapping repeats the key(s) 'a' (each key may appear once per mapping) at sweep.yaml:2:14",
        ])
    }

    func testWarningsTravelWithErrors() {
        do {
            _ = try SweepFileParser.parse("method: grid\nnotes: x\n", fileName: "s.yaml")
            XCTFail("expected errors")
        } catch {
            XCTAssertEqual(error.errors.map(\.description),
                           ["parameters is missing (expected a mapping of the parameters to sweep) at s.yaml:1:1"])
            XCTAssertEqual(error.warnings.map(\.description),
                           ["notes is not a key Thresher or W&B knows in a sweep file; it is ignored at s.yaml:2:1"])
        }
    }

    func testWarningsForSettingsThatDoNothingOrLookMistaken() throws {
        let parsed = try SweepFileParser.parse("""
            method: random
            randomize_order: true
            parameters:
              lr: {distribution: log_uniform, min: 0.0001, max: 0.1}
              9lives: {value: 1}
            """, fileName: "s.yaml")
        XCTAssertEqual(parsed.warnings.map(\.description), [
            "randomize_order has an effect only with method: grid (found random) at s.yaml:2:1",
            "parameters.lr.distribution log_uniform takes natural-log exponents: min 0.0001 and max 0.1 mean exp(0.0001) "
                + "to exp(0.1); for the bounds themselves use log_uniform_values at s.yaml:4:22",
            "parameters.9lives is not a parameter name W&B accepts (a letter or _, then letters, digits, _ . -); "
                + "command-line arguments built from it may not parse at s.yaml:5:3",
        ])
    }
}
