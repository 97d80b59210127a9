import ThresherWire
import XCTest
@testable import ThresherSweep

/// The two reference workloads of ../shared/WORKLOADS.md, copied verbatim, parse to the expected specs.
final class SweepFileWorkloadTests: XCTestCase {
    static let w1 = """
        method: grid
        metric: {name: val_balanced_accuracy, goal: maximize}
        parameters:
          hidden_size: {values: [128, 256, 512]}
          dropout: {values: [0, 0.1, 0.2]}
          lr: {values: [0.001, 0.0001, 0.00001]}
          weight_decay: {values: [0, 0.1, 0.01]}
        early_terminate: {type: hyperband, max_iter: 500, s: 50, eta: 3}
        """

    static let w2 = """
        method: grid
        metric: {name: val_f1, goal: maximize}
        parameters:
          lr: {value: 0.000005}
          weight_decay: {value: 0.02}
          dropout: {value: 0.1}
          warmup: {value: 0.1}
          batch_size: {value: 24}
          n_epochs: {value: 3}
          freeze_encoder: {value: false}
          label_weight: {values: [[2, 1.2, 1], [1, 0.6, 0.4]]}
          label_smoothing: {values: [0.0, 0.2]}
        """

    func testW1ParsesToTheGridWithHyperband() throws {
        let parsed = try SweepFileParser.parse(Self.w1, fileName: "w1.yaml")
        let expected = SweepSpec(
            method: .grid,
            metric: MetricSpec(name: "val_balanced_accuracy", goal: .maximize),
            parameters: [
                ParameterSpec(name: "hidden_size", kind: .categorical(values: [.int(128), .int(256), .int(512)], probabilities: nil)),
                ParameterSpec(name: "dropout", kind: .categorical(values: [.int(0), .double(0.1), .double(0.2)], probabilities: nil)),
                ParameterSpec(name: "lr", kind: .categorical(values: [.double(0.001), .double(0.0001), .double(0.00001)],
                                                             probabilities: nil)),
                ParameterSpec(name: "weight_decay", kind: .categorical(values: [.int(0), .double(0.1), .double(0.01)],
                                                                       probabilities: nil)),
            ],
            earlyTerminate: .hyperband(HyperbandSpec(maxIter: 500, s: 50, eta: 3, strict: true)))
        XCTAssertEqual(parsed.spec, expected)
        XCTAssertEqual(parsed.warnings.map(\.description), [
            "early_terminate.s is 50, but max_iter 500 with eta 3 gives only 5 band(s) of at least one iteration "
                + "([2, 6, 18, 55, 166]); the other 45 are dropped, as in W&B at w1.yaml:8:54",
        ])
    }

    func testW2ParsesWithListValuesAsSingleValues() throws {
        let parsed = try SweepFileParser.parse(Self.w2, fileName: "w2.yaml")
        let expected = SweepSpec(
            method: .grid,
            metric: MetricSpec(name: "val_f1", goal: .maximize),
            parameters: [
                ParameterSpec(name: "lr", kind: .constant(.double(0.000005))),
                ParameterSpec(name: "weight_decay", kind: .constant(.double(0.02))),
                ParameterSpec(name: "dropout", kind: .constant(.double(0.1))),
                ParameterSpec(name: "warmup", kind: .constant(.double(0.1))),
                ParameterSpec(name: "batch_size", kind: .constant(.int(24))),
                ParameterSpec(name: "n_epochs", kind: .constant(.int(3))),
                ParameterSpec(name: "freeze_encoder", kind: .constant(.bool(false))),
                ParameterSpec(name: "label_weight", kind: .categorical(values: [
                    .list([.int(2), .double(1.2), .int(1)]),
                    .list([.int(1), .double(0.6), .double(0.4)]),
                ], probabilities: nil)),
                ParameterSpec(name: "label_smoothing", kind: .categorical(values: [.double(0.0), .double(0.2)], probabilities: nil)),
            ])
        XCTAssertEqual(parsed.spec, expected)
        XCTAssertEqual(parsed.warnings, [])
    }
}
