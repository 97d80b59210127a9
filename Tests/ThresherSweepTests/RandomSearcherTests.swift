import ThresherSweep
import ThresherWire
import XCTest

final class RandomSearcherTests: XCTestCase {
    private typealias F = SearchFixtures

    private let parameters: [ParameterSpec] = [
        F.distribution("lr", .logUniformValues(min: 1e-5, max: 1e-1)),
        F.values("opt", [.string("adam"), .string("sgd")]),
        F.constant("epochs", .int(3)),
        ParameterSpec(name: "model", kind: .nested([F.distribution("layers", .intUniform(min: 1, max: 4))])),
    ]

    func testSameSeedSameTrialsAndRunCap() throws {
        var a = try RandomSearcher(spec: F.spec(.random, parameters, seed: 11, runCap: 20))
        var b = try RandomSearcher(spec: F.spec(.random, parameters, seed: 11, runCap: 20))
        let trials = F.drain(&a)
        XCTAssertEqual(trials.count, 20)
        XCTAssertEqual(a.totalCount, 20)
        XCTAssertEqual(trials, F.drain(&b))
        var c = try RandomSearcher(spec: F.spec(.random, parameters, seed: 12, runCap: 20))
        XCTAssertNotEqual(trials, F.drain(&c))
        XCTAssertEqual(trials[0].params.keys, ["epochs", "lr", "model", "opt"])
        guard case let .map(model)? = trials[0].params["model"], case .int? = model["layers"] else {
            return XCTFail("nested int expected, got \(trials[0].params)")
        }
    }

    func testUnboundedWithoutRunCapAndResumable() throws {
        var searcher = try RandomSearcher(spec: F.spec(.random, parameters, seed: 5))
        XCTAssertNil(searcher.totalCount)
        let first = F.drain(&searcher, limit: 500)
        XCTAssertEqual(first.count, 500)
        var resumed = try RandomSearcher(spec: F.spec(.random, parameters, seed: 5))
        resumed.resume(handedOut: Array(first.prefix(10)))
        XCTAssertEqual(resumed.next(), first[10])
    }
}
