import ThresherSweep
import ThresherWire
import XCTest

final class TPESearcherTests: XCTestCase {
    private typealias F = SearchFixtures

    /// (x − 0.3)² + (y − 0.7)², minimised, on [0, 1]².
    private func quadratic(_ params: ParamMap) -> Double {
        let x = params["x"]?.number ?? .nan, y = params["y"]?.number ?? .nan
        return (x - 0.3) * (x - 0.3) + (y - 0.7) * (y - 0.7)
    }

    private let square = [F.distribution("x", .uniform(min: 0, max: 1)), F.distribution("y", .uniform(min: 0, max: 1))]

    private func bestOf(_ method: SearchMethod, seed: UInt64, trials: Int = 30,
                        objective: (ParamMap) -> Double, parameters: [ParameterSpec], goal: MetricGoal = .minimize,
                        sign: Double = 1) throws -> (best: Double, trials: [SuggestedTrial]) {
        var searcher = try SearcherFactory.make(for: F.spec(method, parameters, seed: seed, runCap: trials, goal: goal))
        var best = Double.infinity
        var handed: [SuggestedTrial] = []
        while let trial = searcher.next() {
            handed.append(trial)
            let value = objective(trial.params)
            best = min(best, value)
            searcher.observe(index: trial.index, metric: sign * value, outcome: .completed)
        }
        return (best, handed)
    }

    func testBeatsRandomOnAQuadraticAndIsDeterministic() throws {
        var bayesWins = 0
        for seed: UInt64 in 0..<5 {
            let bayes = try bestOf(.bayes, seed: seed, objective: quadratic, parameters: square)
            let random = try bestOf(.random, seed: seed, objective: quadratic, parameters: square)
            if bayes.best < random.best { bayesWins += 1 }
            XCTAssertEqual(bayes.trials.count, 30)
            XCTAssertEqual(try bestOf(.bayes, seed: seed, objective: quadratic, parameters: square).trials, bayes.trials)
            // The startup trials are the random searcher's.
            XCTAssertEqual(Array(bayes.trials.prefix(10)), Array(random.trials.prefix(10)))
        }
        XCTAssertGreaterThanOrEqual(bayesWins, 4)
    }

    func testMaximizeIsHonoured() throws {
        // Maximising −f must find the same region as minimising f.
        let maximised = try bestOf(.bayes, seed: 3, objective: quadratic, parameters: square, goal: .maximize, sign: -1)
        let minimised = try bestOf(.bayes, seed: 3, objective: quadratic, parameters: square)
        XCTAssertEqual(maximised.trials, minimised.trials)
        XCTAssertLessThan(maximised.best, 0.01)
    }

    func testHandlesIntLogCategoricalListAndNestedParameters() throws {
        let parameters: [ParameterSpec] = [
            F.distribution("layers", .intUniform(min: 1, max: 8)),
            F.distribution("lr", .logUniformValues(min: 1e-5, max: 1)),
            F.distribution("batch", .qLogUniformValues(min: 8, max: 256, q: 8)),
            F.values("weights", [.list([.int(1), .int(1)]), .list([.int(2), .int(1)]), .list([.int(5), .int(1)])]),
            F.constant("epochs", .int(3)),
            ParameterSpec(name: "opt", kind: .nested([F.values("name", [.string("adam"), .string("sgd")]),
                                                      F.distribution("momentum", .beta(a: 2, b: 2))])),
        ]
        // Best: layers 3, lr 1e-3, weights [2, 1], opt.name sgd.
        func loss(_ p: ParamMap) -> Double {
            guard case let .int(layers)? = p["layers"], case let .double(lr)? = p["lr"], case .int? = p["batch"],
                  case let .map(opt)? = p["opt"], case let .string(name)? = opt["name"], case .double? = opt["momentum"],
                  p["epochs"] == .int(3) else { return 100 }
            let logDistance = (PortableMath.log(lr) - PortableMath.log(1e-3)) / PortableMath.log(10)
            return Double((layers - 3) * (layers - 3)) + logDistance * logDistance
                + (p["weights"] == .list([.int(2), .int(1)]) ? 0 : 1) + (name == "sgd" ? 0 : 1)
        }
        var bayesTotal = 0.0, randomTotal = 0.0
        for seed: UInt64 in 0..<4 {
            let bayes = try bestOf(.bayes, seed: seed, trials: 40, objective: loss, parameters: parameters)
            XCTAssertTrue(bayes.trials.allSatisfy { loss($0.params) < 100 }, "every trial well-typed")
            for trial in bayes.trials {
                guard case let .int(batch)? = trial.params["batch"] else { return XCTFail("batch must be an int") }
                XCTAssertTrue(batch % 8 == 0 && batch >= 8 && batch <= 256, "batch \(batch)")
                guard case let .int(layers)? = trial.params["layers"] else { return XCTFail("layers must be an int") }
                XCTAssertTrue((1...8).contains(layers))
            }
            bayesTotal += bayes.best
            randomTotal += try bestOf(.random, seed: seed, trials: 40, objective: loss, parameters: parameters).best
        }
        XCTAssertLessThan(bayesTotal, randomTotal)
    }

    func testPendingTrialsAreNotRepeatedAndFailuresIgnored() throws {
        var searcher = try TPESearcher(spec: F.spec(.bayes, square, seed: 1))
        XCTAssertNil(searcher.totalCount)
        for _ in 0..<12 {
            guard let trial = searcher.next() else { return XCTFail("unbounded") }
            searcher.observe(index: trial.index, metric: quadratic(trial.params), outcome: .completed)
        }
        // Four suggestions in flight at once must differ (constant liar).
        let inFlight = (0..<4).compactMap { _ in searcher.next() }
        XCTAssertEqual(Set(inFlight.map(\.canonical)).count, 4)
        searcher.observe(index: inFlight[0].index, metric: nil, outcome: .failed)
        searcher.observe(index: inFlight[1].index, metric: .nan, outcome: .completed)
        XCTAssertNotNil(searcher.next())
    }

    func testResumeReproducesTheUninterruptedSweep() throws {
        var first = try TPESearcher(spec: F.spec(.bayes, square, seed: 4))
        var log: [(SuggestedTrial, Double)] = []
        for _ in 0..<15 {
            let trial = try XCTUnwrap(first.next())
            let value = quadratic(trial.params)
            log.append((trial, value))
            first.observe(index: trial.index, metric: value, outcome: .completed)
        }
        var resumed = try TPESearcher(spec: F.spec(.bayes, square, seed: 4))
        resumed.resume(handedOut: log.map(\.0))
        for (trial, value) in log { resumed.observe(index: trial.index, metric: value, outcome: .completed) }
        XCTAssertEqual(resumed.next(), first.next())
    }
}
