import Foundation
import ThresherSweep
import ThresherWire
import XCTest

/// Support and moments of every distribution on 10,000 draws with fixed seeds; expected
/// means and variances derived by hand in the comments.
final class DistributionTests: XCTestCase {
    private let n = 10_000

    private func draws(_ distribution: Distribution, seed: UInt64 = 1) -> [ParamValue] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in distribution.sample(using: &rng) }
    }

    private func numbers(_ distribution: Distribution, seed: UInt64 = 1) -> [Double] {
        draws(distribution, seed: seed).compactMap(\.number)
    }

    /// |sample mean − μ| within 5 standard errors, sample variance within 10 %.
    private func assertMoments(_ xs: [Double], mean: Double, variance: Double, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(xs.count, n, file: file, line: line)
        XCTAssertEqual(Stats.mean(xs), mean, accuracy: 5 * (variance / Double(xs.count)).squareRoot(), file: file, line: line)
        XCTAssertEqual(Stats.variance(xs), variance, accuracy: 0.1 * variance, file: file, line: line)
    }

    private func assertKS(_ xs: [Double], cdf: (Double) -> Double, file: StaticString = #filePath, line: UInt = #line) {
        let d = Stats.ks(xs, cdf: cdf)
        XCTAssertLessThan(d, Stats.ksCritical(xs.count), "KS statistic \(d)", file: file, line: line)
    }

    func testGeneratorMatchesReferenceXoshiro256StarStar() {
        // Reference values from an independent Python implementation of SplitMix64 + xoshiro256**.
        var zero = SeededGenerator(seed: 0)
        XCTAssertEqual((0..<4).map { _ in zero.next() },
                       [0xFB54_05F7_BD79_C540, 0x780C_98E2_6CEA_5883, 0x2A14_6E09_80FE_BC66, 0x4851_477D_B879_1FCA])
        var streamed = SeededGenerator(seed: 42, stream: 7)
        XCTAssertEqual(streamed.next(), 0x2884_39A8_E159_7ADE)
        var a = SeededGenerator(seed: 42, stream: 1), b = SeededGenerator(seed: 42, stream: 2)
        XCTAssertNotEqual(a.next(), b.next())
    }

    func testPortableMathAgreesWithLibm() {
        var rng = SeededGenerator(seed: 3)
        for _ in 0..<2000 {
            let x = RandomVariates.uniform(-700, 700, using: &rng)
            XCTAssertEqual(PortableMath.exp(x), Foundation.exp(x), accuracy: 4e-16 * Foundation.exp(x))
            let y = Foundation.exp(RandomVariates.uniform(-740, 709, using: &rng))
            XCTAssertEqual(PortableMath.log(y), Foundation.log(y), accuracy: 4e-16 * max(1, abs(Foundation.log(y))))
            let t = RandomVariates.uniform(-30, 30, using: &rng)
            XCTAssertEqual(PortableMath.cos(t), Foundation.cos(t), accuracy: 1e-15)
            let z = RandomVariates.uniform(-9, 9, using: &rng)
            let phi = 0.5 * Foundation.erfc(-z / 2.0.squareRoot())
            XCTAssertEqual(PortableMath.normalCDF(z), phi, accuracy: 1e-14 + 1e-12 * phi)
        }
        XCTAssertEqual(PortableMath.exp(0), 1)
        XCTAssertEqual(PortableMath.log(1), 0)
        XCTAssertEqual(PortableMath.log(5e-324), Foundation.log(5e-324), accuracy: 1e-12)
    }

    func testIntUniformIsInclusiveAndFlat() {
        // int_uniform(1, 6): mean 3.5, variance (6² − 1)/12 = 35/12.
        let xs = numbers(.intUniform(min: 1, max: 6))
        XCTAssertEqual(Set(xs), Set([1, 2, 3, 4, 5, 6]))
        assertMoments(xs, mean: 3.5, variance: 35.0 / 12)
        let counts = (1...6).map { k in xs.filter { $0 == Double(k) }.count }
        XCTAssertLessThan(Stats.chiSquare(counts: counts, probabilities: Array(repeating: 1.0 / 6, count: 6)), Stats.chiCritical[5]!)
        XCTAssertTrue(draws(.intUniform(min: 1, max: 6)).allSatisfy { if case .int = $0 { true } else { false } })
        var rng = SeededGenerator(seed: 9)
        _ = Distribution.intUniform(min: .min, max: .max).sample(using: &rng)   // full range: no overflow trap
    }

    func testUniform() {
        // U(-2, 3): mean 0.5, variance 25/12.
        let xs = numbers(.uniform(min: -2, max: 3))
        XCTAssertTrue(xs.allSatisfy { $0 >= -2 && $0 < 3 })
        assertMoments(xs, mean: 0.5, variance: 25.0 / 12)
        assertKS(xs) { min(max(($0 + 2) / 5, 0), 1) }
    }

    func testQUniformRoundsToMultiplesAndKeepsIntsForIntegralQ() {
        // round(U(0, 10)): 0 and 10 get half-width cells (p = 0.05), 1…9 full cells (p = 0.1).
        let values = draws(.qUniform(min: 0, max: 10, q: 1))
        XCTAssertTrue(values.allSatisfy { if case .int = $0 { true } else { false } })
        let xs = values.compactMap(\.number)
        let counts = (0...10).map { k in xs.filter { $0 == Double(k) }.count }
        let expected = (0...10).map { $0 == 0 || $0 == 10 ? 0.05 : 0.1 }
        XCTAssertLessThan(Stats.chiSquare(counts: counts, probabilities: expected), Stats.chiCritical[10]!)
        let quarters = numbers(.qUniform(min: 0, max: 1, q: 0.25))
        XCTAssertTrue(quarters.allSatisfy { [0, 0.25, 0.5, 0.75, 1].contains($0) })
        // Halves round to even, as numpy's round does.
        XCTAssertEqual(RandomVariates.quantize(2.5, q: 1), .int(2))
        XCTAssertEqual(RandomVariates.quantize(3.5, q: 1), .int(4))
        XCTAssertEqual(RandomVariates.quantize(0.37, q: 0.1), .double(0.4))
    }

    func testLogUniformFamilies() {
        // log_uniform_values(1e-4, 1e-1): ln x ~ U(ln 1e-4, ln 1e-1).
        let lo = log(1e-4), hi = log(1e-1)
        let v2 = numbers(.logUniformValues(min: 1e-4, max: 1e-1))
        XCTAssertTrue(v2.allSatisfy { $0 >= 1e-4 * (1 - 1e-12) && $0 <= 1e-1 * (1 + 1e-12) })
        assertKS(v2.map { log($0) }) { min(max(($0 - lo) / (hi - lo), 0), 1) }
        // E[x] = (max − min)/(ln max − ln min); E[x²] = (max² − min²)/(2 (ln max − ln min)).
        let mean = (1e-1 - 1e-4) / (hi - lo), second = (1e-2 - 1e-8) / (2 * (hi - lo))
        assertMoments(v2, mean: mean, variance: second - mean * mean)
        // Deprecated log_uniform(0, 2): exp(U(0, 2)).
        let v1 = numbers(.logUniform(min: 0, max: 2))
        assertKS(v1.map { log($0) }) { min(max($0 / 2, 0), 1) }
        // inv_log_uniform_values(0.01, 1) also spreads ln x uniformly over [ln 0.01, 0].
        let inv2 = numbers(.invLogUniformValues(min: 0.01, max: 1))
        XCTAssertTrue(inv2.allSatisfy { $0 >= 0.01 * (1 - 1e-12) && $0 <= 1 + 1e-12 })
        assertKS(inv2.map { log($0) }) { min(max(($0 - log(0.01)) / -log(0.01), 0), 1) }
        // Deprecated inv_log_uniform(0, 2): 1/exp(U(0, 2)), so −ln x ~ U(0, 2).
        let inv1 = numbers(.invLogUniform(min: 0, max: 2))
        assertKS(inv1.map { -log($0) }) { min(max($0 / 2, 0), 1) }
        // q forms: multiples of q, ints for integral q.
        let q2 = draws(.qLogUniformValues(min: 1, max: 1000, q: 5))
        XCTAssertTrue(q2.allSatisfy { if case let .int(i) = $0 { i % 5 == 0 && i >= 0 && i <= 1000 } else { false } })
        let q1 = numbers(.qLogUniform(min: 0, max: 3, q: 0.5))
        XCTAssertTrue(q1.allSatisfy { ($0 / 0.5).rounded() == $0 / 0.5 && $0 >= 1 && $0 <= exp(3) + 0.25 })
    }

    func testNormalFamilies() {
        // normal(2, 3): mean 2, variance 9.
        let xs = numbers(.normal(mu: 2, sigma: 3))
        assertMoments(xs, mean: 2, variance: 9)
        assertKS(xs) { 0.5 * erfc(-($0 - 2) / 3 / 2.0.squareRoot()) }
        // log_normal(0, 0.5): mean e^(σ²/2), variance (e^(σ²) − 1)·e^(σ²).
        let ln = numbers(.logNormal(mu: 0, sigma: 0.5))
        XCTAssertTrue(ln.allSatisfy { $0 > 0 })
        assertMoments(ln, mean: exp(0.125), variance: (exp(0.25) - 1) * exp(0.25))
        assertKS(ln.map { log($0) }) { 0.5 * erfc(-$0 / 0.5 / 2.0.squareRoot()) }
        // q_normal(0, 1, 0.5) stays on the half-grid; q_log_normal(1, 1, 1) gives non-negative ints.
        XCTAssertTrue(numbers(.qNormal(mu: 0, sigma: 1, q: 0.5)).allSatisfy { ($0 * 2).rounded() == $0 * 2 })
        XCTAssertTrue(draws(.qLogNormal(mu: 1, sigma: 1, q: 1)).allSatisfy { if case let .int(i) = $0 { i >= 0 } else { false } })
    }

    func testBetaFamilies() {
        // Beta(2, 5): mean 2/7, variance ab/((a+b)²(a+b+1)) = 10/392; CDF = Σ_{j=2}^{6} C(6,j) x^j (1−x)^(6−j).
        let xs = numbers(.beta(a: 2, b: 5))
        XCTAssertTrue(xs.allSatisfy { $0 >= 0 && $0 <= 1 })
        assertMoments(xs, mean: 2.0 / 7, variance: 10.0 / 392)
        let binomial6 = [1.0, 6, 15, 20, 15, 6, 1]
        assertKS(xs) { x in (2...6).reduce(0.0) { $0 + binomial6[$1] * pow(x, Double($1)) * pow(1 - x, Double(6 - $1)) } }
        // Beta(0.5, 0.5) (shape < 1 path): mean 1/2, variance 1/8, CDF (2/π)·asin(√x).
        let arcsine = numbers(.beta(a: 0.5, b: 0.5), seed: 2)
        assertMoments(arcsine, mean: 0.5, variance: 0.125)
        assertKS(arcsine) { 2 / Double.pi * asin($0.squareRoot()) }
        XCTAssertTrue(numbers(.qBeta(a: 2, b: 2, q: 0.1)).allSatisfy { $0 >= 0 && $0 <= 1 && (($0 * 10).rounded() - $0 * 10).magnitude < 1e-9 })
    }

    func testCategoricalUniformAndWeighted() throws {
        let colours: [ParamValue] = [.string("r"), .string("g"), .list([.int(1), .int(2)])]
        var uniform = try RandomSearcher(spec: SearchFixtures.spec(.random, [SearchFixtures.values("c", colours)]))
        let picks = (0..<n).compactMap { _ in uniform.next()?.params["c"] }
        let counts = colours.map { c in picks.filter { $0 == c }.count }
        XCTAssertLessThan(Stats.chiSquare(counts: counts, probabilities: [1.0 / 3, 1.0 / 3, 1.0 / 3]), Stats.chiCritical[2]!)

        let weighted = ParameterSpec(name: "c", kind: .categorical(values: colours, probabilities: [0.2, 0.5, 0.3]))
        var searcher = try RandomSearcher(spec: SearchFixtures.spec(.random, [weighted]))
        let weightedPicks = (0..<n).compactMap { _ in searcher.next()?.params["c"] }
        let weightedCounts = colours.map { c in weightedPicks.filter { $0 == c }.count }
        XCTAssertLessThan(Stats.chiSquare(counts: weightedCounts, probabilities: [0.2, 0.5, 0.3]), Stats.chiCritical[2]!)
    }
}
