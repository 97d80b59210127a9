import Foundation
import XCTest
@testable import ThresherEngine

/// Metrics against scikit-learn 1.9 on small hand-checkable splits (values from sklearn.metrics with
/// zero_division=0; a one-off script, not committed). Each case is small enough to recount by hand.
final class MetricsTests: XCTestCase {
    // Class 2 is never predicted; class 3 is predicted once but never true.
    private let labels = [0, 0, 0, 1, 1, 2, 2, 0, 1, 1]
    private let predictions = [0, 1, 0, 1, 1, 0, 1, 3, 1, 0]

    func testConfusionMatrixAndMulticlassScoresMatchSklearn() throws {
        let m = try ConfusionMatrix(labels: labels, predictions: predictions, classCount: 4)
        XCTAssertEqual(m.counts, [[2, 1, 0, 1], [1, 3, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]])
        XCTAssertEqual(m.accuracy, 0.5)
        // Mean recall over classes 0, 1, 2 (class 3 has no true samples): (2/4 + 3/4 + 0) / 3.
        XCTAssertEqual(m.balancedAccuracy, 0.4166666666666667, accuracy: 1e-15)
        XCTAssertEqual(m.perClass.map(\.precision), [0.5, 0.6, 0, 0])
        XCTAssertEqual(m.perClass.map(\.recall), [0.5, 0.75, 0, 0])
        XCTAssertEqual(m.perClass.map(\.f1)[1], 0.6666666666666666, accuracy: 1e-15)
        XCTAssertEqual(m.perClass.map(\.support), [4, 4, 2, 0])
        // Macro over the four present classes; class 3 counts 0 in macro recall, unlike balanced accuracy.
        XCTAssertEqual(m.macro.precision, 0.275, accuracy: 1e-15)
        XCTAssertEqual(m.macro.recall, 0.3125, accuracy: 1e-15)
        XCTAssertEqual(m.macro.f1, 0.29166666666666663, accuracy: 1e-15)
        XCTAssertEqual(m.presentClasses, [0, 1, 2, 3])
    }

    func testMacroIgnoresClassesAbsentFromBothLabelsAndPredictions() throws {
        let m = try ConfusionMatrix(labels: [0, 1, 1], predictions: [0, 1, 0], classCount: 5)
        XCTAssertEqual(m.presentClasses, [0, 1])
        // sklearn f1_score([0,1,1], [0,1,0], average="macro") = (2/3 + 2/3) / 2.
        XCTAssertEqual(m.macro.f1, 2.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(m.balancedAccuracy, 0.75)
    }

    func testBinaryReportMatchesSklearn() throws {
        let y = [0, 0, 1, 1, 1, 0, 1, 0]
        let p: [Float] = [0.1, 0.5, 0.5, 0.8, 0.3, 0.7, 0.5, 0.2]
        let r = try ClassificationReport(labels: y, positiveProbabilities: p)
        // p = 0.5 predicts 0 (p > threshold), so predictions are [0,0,0,1,0,1,0,0].
        XCTAssertEqual(r.confusionMatrix.counts, [[3, 1], [3, 1]])
        XCTAssertEqual(r.positive, ClassScores(precision: 0.5, recall: 0.25, f1: 1.0 / 3, support: 4))
        XCTAssertEqual(r.primary, r.positive)
        XCTAssertEqual(r.accuracy, 0.5)
        XCTAssertEqual(r.balancedAccuracy, 0.5)
        XCTAssertEqual(try XCTUnwrap(r.rocAUC), 0.6875, accuracy: 1e-15)
        XCTAssertEqual(try XCTUnwrap(r.logLoss), 0.629879355430603, accuracy: 1e-6)
        XCTAssertEqual(r.sampleCount, 8)
        let decoded = try JSONDecoder().decode(ClassificationReport.self, from: JSONEncoder().encode(r))
        XCTAssertEqual(decoded, r)
    }

    func testROCAUCAveragesTiedRanks() throws {
        // Positives 0.2, 0.9, 0.5; negatives 0.2, 0.9: pairs won 0.5 + 1.5 + 1 = 3 of 6.
        XCTAssertEqual(try ROCAUC.binary(labels: [0, 1, 1, 0, 1], scores: [0.2, 0.2, 0.9, 0.9, 0.5]), 0.5, accuracy: 1e-15)
        XCTAssertEqual(try ROCAUC.binary(labels: [0, 0, 1, 1], scores: [0.1, 0.4, 0.35, 0.8]), 0.75)
        XCTAssertEqual(try ROCAUC.binary(labels: [1, 0], scores: [3, -3]), 1)
        XCTAssertEqual(try ROCAUC.binary(labels: [1, 0, 1, 0], scores: [7, 7, 7, 7]), 0.5)
    }

    func testSingleClassAUCIsAnErrorAndNilInTheReport() throws {
        XCTAssertThrowsError(try ROCAUC.binary(labels: [1, 1, 1], scores: [0.2, 0.5, 0.9])) {
            XCTAssertEqual($0 as? MetricsError, .singleClass(1))
        }
        let r = try ClassificationReport(labels: [0, 0, 0], positiveProbabilities: [0.2, 0.7, 0.1])
        XCTAssertNil(r.rocAUC)
        XCTAssertNotNil(r.logLoss)
        // Class 1 never true: its recall is 0 by zero_division, balanced accuracy uses class 0 only.
        XCTAssertEqual(r.positive, ClassScores(precision: 0, recall: 0, f1: 0, support: 0))
        XCTAssertEqual(r.balancedAccuracy, 2.0 / 3, accuracy: 1e-15)
    }

    func testLogLossClippingAsSklearn() throws {
        // Perfect predictions cost −log(1 − eps) each.
        XCTAssertEqual(try LogLoss.binary(labels: [0, 1], probabilities: [0, 1]), 2.220446049250313e-16, accuracy: 1e-30)
        // Certain and wrong: −log(eps) with float64's eps, or float32's (sklearn on a float32 array).
        XCTAssertEqual(try LogLoss.binary(labels: [0, 1], probabilities: [1, 0]), 36.04365338911715, accuracy: 1e-12)
        XCTAssertEqual(try LogLoss.binary(labels: [0, 1], probabilities: [1, 0], epsilon: Double(Float.ulpOfOne)), 15.942384719848633, accuracy: 1e-5)
        let p: [Double] = [0.7, 0.2, 0.1, 0.1, 0.1, 0.8, 0.3, 0.3, 0.4, 0.0, 1.0, 0.0]
        XCTAssertEqual(try LogLoss.multiclass(labels: [0, 2, 1, 0], probabilities: p, classCount: 3), 9.456861172174008, accuracy: 1e-12)
        XCTAssertThrowsError(try LogLoss.binary(labels: [0], probabilities: [1.5])) {
            XCTAssertEqual($0 as? MetricsError, .probabilityOutOfRange(index: 0, value: 1.5))
        }
        XCTAssertThrowsError(try LogLoss.binary(labels: [0], probabilities: [.nan])) { XCTAssertEqual($0 as? MetricsError, .nonFiniteValue(index: 0)) }
    }

    func testReportFromProbabilityMatrix() throws {
        let probabilities = Tensor(shape: [4, 3], storage: [0.7, 0.2, 0.1, 0.1, 0.1, 0.8, 0.3, 0.3, 0.4, 0.4, 0.4, 0.2])!
        let r = try ClassificationReport(labels: [0, 2, 1, 1], probabilities: probabilities)
        // Arg-max with the first index on ties: [0, 2, 2, 0].
        XCTAssertEqual(r.confusionMatrix.counts, [[1, 0, 0], [1, 0, 1], [0, 0, 1]])
        XCTAssertNil(r.positive)
        // One-vs-rest: class 0 scores 0.7 vs 0.1/0.3/0.4 → 1; class 1 0.3, 0.4 vs 0.2, 0.1 → 1; class 2 0.8 vs rest → 1.
        XCTAssertEqual(r.rocAUC, 1)
        XCTAssertEqual(r.primary, r.macro)
        let expectedLoss = -(log(Double(Float(0.7))) + log(Double(Float(0.8))) + log(Double(Float(0.3))) + log(Double(Float(0.4)))) / 4
        XCTAssertEqual(try XCTUnwrap(r.logLoss), expectedLoss, accuracy: 1e-12)
        let two = try ClassificationReport(labels: [0, 1], probabilities: Tensor(shape: [2, 2], storage: [0.9, 0.1, 0.4, 0.6])!)
        XCTAssertEqual(two.rocAUC, 1)
        XCTAssertEqual(two.accuracy, 1)
    }

    func testOneVsRestMacroAUCMatchesSklearn() throws {
        let labels = [0, 1, 2, 2, 1, 0, 2]
        let p: [Double] = [0.6, 0.3, 0.1, 0.2, 0.5, 0.3, 0.1, 0.2, 0.7, 0.3, 0.4, 0.3, 0.5, 0.4, 0.1, 0.4, 0.4, 0.2, 0.2, 0.2, 0.6]
        // sklearn roc_auc_score(labels, P, multi_class="ovr") (average="macro").
        XCTAssertEqual(try ROCAUC.oneVsRest(labels: labels, probabilities: p, classCount: 3), 0.9194444444444444, accuracy: 1e-12)
        let r = try ClassificationReport(labels: labels, probabilities: Tensor(shape: [7, 3], storage: p.map(Float.init))!)
        XCTAssertEqual(try XCTUnwrap(r.rocAUC), 0.9194444444444444, accuracy: 1e-6)
        XCTAssertThrowsError(try ROCAUC.oneVsRest(labels: [0, 1, 1], probabilities: Array(p.prefix(9)), classCount: 3)) {
            XCTAssertEqual($0 as? MetricsError, .classAbsent(2))
        }
        XCTAssertThrowsError(try ROCAUC.oneVsRest(labels: [0, 1, 2], probabilities: [0.5, 0.5, 0.5, 0.2, 0.4, 0.4, 0, 0, 1], classCount: 3)) {
            XCTAssertEqual($0 as? MetricsError, .rowNotNormalized(row: 0, sum: 1.5))
        }
        let absent = try ClassificationReport(labels: [0, 1, 1], probabilities: Tensor(shape: [3, 3], storage: p.prefix(9).map(Float.init))!)
        XCTAssertNil(absent.rocAUC)
    }

    func testInvalidInputsAreTypedErrors() {
        func expect(_ error: MetricsError, _ body: () throws -> Void, line: UInt = #line) {
            XCTAssertThrowsError(try body(), line: line) { XCTAssertEqual($0 as? MetricsError, error, line: line) }
        }
        expect(.empty) { _ = try ConfusionMatrix(labels: [], predictions: [], classCount: 2) }
        expect(.lengthMismatch(labels: 2, predictions: 1)) { _ = try ConfusionMatrix(labels: [0, 1], predictions: [0], classCount: 2) }
        expect(.invalidClassCount(0)) { _ = try ConfusionMatrix(labels: [0], predictions: [0], classCount: 0) }
        expect(.labelOutOfRange(index: 1, value: 2, classCount: 2)) { _ = try ConfusionMatrix(labels: [0, 2], predictions: [0, 0], classCount: 2) }
        expect(.predictionOutOfRange(index: 0, value: -1, classCount: 2)) { _ = try ConfusionMatrix(labels: [0], predictions: [-1], classCount: 2) }
        expect(.nonFiniteValue(index: 1)) { _ = try ROCAUC.binary(labels: [0, 1], scores: [0, .infinity]) }
        expect(.labelOutOfRange(index: 0, value: 3, classCount: 2)) { _ = try ROCAUC.binary(labels: [3, 1], scores: [0, 1]) }
        expect(.probabilityShape(expected: [2, 3], found: [3, 3])) {
            _ = try ClassificationReport(labels: [0, 1], probabilities: Tensor(zeros: [3, 3]))
        }
        expect(.probabilityShape(expected: [1, 2], found: [1])) { _ = try LogLoss.multiclass(labels: [0], probabilities: [1], classCount: 2) }
        XCTAssertThrowsError(try JSONDecoder().decode(ConfusionMatrix.self, from: Data(#"{"classCount":2,"counts":[[1]]}"#.utf8)))
    }
}
