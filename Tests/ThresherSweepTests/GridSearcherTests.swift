import ThresherSweep
import ThresherWire
import XCTest

final class GridSearcherTests: XCTestCase {
    private typealias F = SearchFixtures

    private func point(_ dropout: ParamValue, _ hidden: Int64, _ lr: Double, _ wd: ParamValue) -> ParamMap {
        ["dropout": dropout, "hidden_size": .int(hidden), "lr": .double(lr), "weight_decay": wd]
    }

    func testW1GivesWandBOrderOf81Trials() throws {
        var grid = try GridSearcher(spec: F.w1)
        XCTAssertEqual(grid.totalCount, 81)
        let trials = F.drain(&grid)
        XCTAssertEqual(trials.count, 81)
        XCTAssertEqual(trials.map(\.index), Array(0..<81))
        // Names sorted: dropout, hidden_size, lr, weight_decay; dropout slowest, weight_decay fastest.
        XCTAssertEqual(trials[0].params, point(.int(0), 128, 0.001, .int(0)))
        XCTAssertEqual(trials[1].params, point(.int(0), 128, 0.001, .double(0.1)))
        XCTAssertEqual(trials[2].params, point(.int(0), 128, 0.001, .double(0.01)))
        XCTAssertEqual(trials[3].params, point(.int(0), 128, 0.0001, .int(0)))
        XCTAssertEqual(trials[9].params, point(.int(0), 256, 0.001, .int(0)))
        XCTAssertEqual(trials[27].params, point(.double(0.1), 128, 0.001, .int(0)))
        XCTAssertEqual(trials[78].params, point(.double(0.2), 512, 0.00001, .int(0)))
        XCTAssertEqual(trials[79].params, point(.double(0.2), 512, 0.00001, .double(0.1)))
        XCTAssertEqual(trials[80].params, point(.double(0.2), 512, 0.00001, .double(0.01)))
        XCTAssertEqual(trials[0].params.keys, ["dropout", "hidden_size", "lr", "weight_decay"])
        XCTAssertEqual(Set(trials.map(\.canonical)).count, 81)
        XCTAssertNil(grid.next())
    }

    func testW2GivesFourTrialsWithConstantsAndListValues() throws {
        var grid = try GridSearcher(spec: F.w2)
        let trials = F.drain(&grid)
        XCTAssertEqual(trials.count, 4)
        let w1: ParamValue = .list([.int(2), .double(1.2), .int(1)])
        let w2: ParamValue = .list([.int(1), .double(0.6), .double(0.4)])
        XCTAssertEqual(trials.map { $0.params["label_smoothing"] }, [.double(0), .double(0), .double(0.2), .double(0.2)])
        XCTAssertEqual(trials.map { $0.params["label_weight"] }, [w1, w2, w1, w2])
        XCTAssertEqual(trials[0].params.keys, ["batch_size", "dropout", "freeze_encoder", "label_smoothing", "label_weight",
                                                "lr", "n_epochs", "warmup", "weight_decay"])
        for trial in trials {
            XCTAssertEqual(trial.params["lr"], .double(0.000005))
            XCTAssertEqual(trial.params["freeze_encoder"], .bool(false))
            XCTAssertEqual(trial.params["batch_size"], .int(24))
        }
    }

    func testQUniformIsNumpyArangeWithMaxExcluded() throws {
        let axis = try GridSearcher(spec: F.spec(.grid, [F.distribution("x", .qUniform(min: 0, max: 1, q: 0.1))])).axes[0]
        XCTAssertEqual(axis, .values([0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6000000000000001,
                                      0.7000000000000001, 0.8, 0.9].map { ParamValue.double($0) }))
        // (0.4 - 0.1) / 0.1 = 3.0000000000000004, so numpy makes four values and reaches 0.4.
        let short = try GridSearcher(spec: F.spec(.grid, [F.distribution("x", .qUniform(min: 0.1, max: 0.4, q: 0.1))])).axes[0]
        XCTAssertEqual(short, .values([0.1, 0.2, 0.30000000000000004, 0.4].map { ParamValue.double($0) }))
        let negative = try GridSearcher(spec: F.spec(.grid, [F.distribution("x", .qUniform(min: -1, max: 1, q: 0.3))])).axes[0]
        XCTAssertEqual(negative.value(at: 2), .double(-0.3999999999999999))
        XCTAssertEqual(negative.count, 7)
        let integral = try GridSearcher(spec: F.spec(.grid, [F.distribution("x", .qUniform(min: 0, max: 10, q: 3))])).axes[0]
        XCTAssertEqual(integral, .values([.int(0), .int(3), .int(6), .int(9)]))
    }

    func testIntUniformIsInclusive() throws {
        var grid = try GridSearcher(spec: F.spec(.grid, [F.distribution("n", .intUniform(min: -1, max: 2))]))
        XCTAssertEqual(F.drain(&grid).map { $0.params["n"] }, [.int(-1), .int(0), .int(1), .int(2)])
    }

    func testDuplicatesAreDroppedByCanonicalValue() throws {
        let spec = F.spec(.grid, [F.values("v", [.double(3e6), .int(3_000_000), .int(1), .double(1.0), .string("1"),
                                                  .bool(true), .list([.int(1)]), .list([.double(1)])])])
        var grid = try GridSearcher(spec: spec)
        XCTAssertEqual(F.drain(&grid).map { $0.params["v"] },
                       [.double(3e6), .int(1), .string("1"), .bool(true), .list([.int(1)])])
    }

    func testNestedParametersAreFlattenedParentThenChild() throws {
        let spec = F.spec(.grid, [
            F.values("b", [.int(1), .int(2)]),
            F.constant("c", .string("k")),
            ParameterSpec(name: "a", kind: .nested([F.values("y", [.string("p"), .string("q")]), F.constant("x", .int(5))])),
        ])
        var grid = try GridSearcher(spec: spec)
        let trials = F.drain(&grid)
        let expected: [ParamMap] = [
            ["a": .map(["x": .int(5), "y": .string("p")]), "b": .int(1), "c": .string("k")],
            ["a": .map(["x": .int(5), "y": .string("p")]), "b": .int(2), "c": .string("k")],
            ["a": .map(["x": .int(5), "y": .string("q")]), "b": .int(1), "c": .string("k")],
            ["a": .map(["x": .int(5), "y": .string("q")]), "b": .int(2), "c": .string("k")],
        ]
        XCTAssertEqual(trials.map(\.params), expected)
    }

    func testNamesSortByCodePointLikePython() throws {
        let spec = F.spec(.grid, [F.values("b", [.int(1)]), F.values("B", [.int(1)]), F.values("a_", [.int(1)]), F.values("a", [.int(1)])])
        var grid = try GridSearcher(spec: spec)
        XCTAssertEqual(grid.next()?.params.keys, ["B", "a", "a_", "b"])
    }

    func testRandomizeOrderIsASeededPermutation() throws {
        var plain = try GridSearcher(spec: F.w1)
        let ordered = F.drain(&plain)
        var spec = F.w1
        spec.randomizeOrder = true
        spec.thresher.seed = 7
        var first = try GridSearcher(spec: spec), second = try GridSearcher(spec: spec)
        let shuffled = F.drain(&first)
        XCTAssertEqual(shuffled, F.drain(&second))
        XCTAssertEqual(Set(shuffled.map(\.canonical)), Set(ordered.map(\.canonical)))
        XCTAssertNotEqual(shuffled.map(\.canonical), ordered.map(\.canonical))
        for trial in shuffled { XCTAssertEqual(first.params(at: trial.index), trial.params) }
        spec.thresher.seed = 8
        var other = try GridSearcher(spec: spec)
        XCTAssertNotEqual(F.drain(&other).map(\.canonical), shuffled.map(\.canonical))
    }

    func testRunCapTruncates() throws {
        var spec = F.w1
        spec.runCap = 5
        var grid = try GridSearcher(spec: spec)
        XCTAssertEqual(grid.totalCount, 5)
        XCTAssertEqual(F.drain(&grid).map(\.index), [0, 1, 2, 3, 4])
    }

    func testResumeNeverRepeatsNorSkips() throws {
        var before = try GridSearcher(spec: F.w1)
        let firstThree = (0..<3).compactMap { _ in before.next() }
        var after = try GridSearcher(spec: F.w1)
        after.resume(handedOut: [firstThree[2], firstThree[0], firstThree[1]])
        let rest = F.drain(&after)
        XCTAssertEqual(rest.count, 78)
        XCTAssertEqual(rest.first?.index, 3)
        XCTAssertEqual(Set((firstThree + rest).map(\.canonical)).count, 81)
    }

    func testNonEnumerableDistributionsAreErrors() {
        XCTAssertThrowsError(try GridSearcher(spec: F.spec(.grid, [F.distribution("lr", .uniform(min: 0, max: 1))]))) { error in
            XCTAssertEqual(error as? SearcherError, .notEnumerable(path: "lr", kind: "distribution uniform"))
        }
        let weighted = ParameterSpec(name: "w", kind: .categorical(values: [.int(1), .int(2)], probabilities: [0.5, 0.5]))
        XCTAssertThrowsError(try GridSearcher(spec: F.spec(.grid, [weighted])))
    }

    func testCanonicalParamsIgnoresKeyOrderAndNormalisesIntegralDoubles() {
        let a: ParamMap = ["x": .double(2), "y": .map(["q": .int(1), "p": .string("s\"")])]
        let b: ParamMap = ["y": .map(["p": .string("s\""), "q": .double(1)]), "x": .int(2)]
        XCTAssertEqual(CanonicalParams(a), CanonicalParams(b))
        XCTAssertEqual(CanonicalParams(a).text, #"{"x":2,"y":{"p":"s\"","q":1}}"#)
        XCTAssertNotEqual(CanonicalParams(value: .bool(true)), CanonicalParams(value: .int(1)))
        XCTAssertNotEqual(CanonicalParams(value: .string("3")), CanonicalParams(value: .int(3)))
        XCTAssertEqual(CanonicalParams(value: .double(0.1 + 0.2)).text, "0.30000000000000004")
        XCTAssertEqual(CanonicalParams(value: .double(1e-5)).text, "1e-05")
    }
}
