import ThresherWire
import XCTest
@testable import ThresherSweep

/// What a worker runs for a trial: `thresher train` from `thresher.engine`, or the sweep's command.
final class TrialProgramTests: XCTestCase {
    private func spec(_ yaml: String) throws -> SweepSpec {
        try SweepFileParser.parse(yaml, fileName: "test.yaml").spec
    }

    func testEngineBlockBecomesAThresherTrainRun() throws {
        let s = try spec("""
            method: grid
            metric: {name: val_loss}
            parameters:
              lr: {values: [0.01]}
              label_weight: {values: [[2, 1.2, 1]]}
            thresher:
              seed: 10
              engine:
                model: pair-classifier
                data: data/claims
                embeddings: /abs/glove.txt
                epochs: 3
                batch_size: 24
                lr_decay: cosine
            """)
        let program = try TrialProgram.resolve(spec: s, params: ["lr": .double(0.01), "label_weight": .list([.int(2), .double(1.2), .int(1)])],
                                               trialIndex: 4, thresherExecutable: "/bin/thresher", baseDirectory: "/sweeps")
        XCTAssertEqual(program.argv, [
            "/bin/thresher", "train", "--model", "pair-classifier", "--data", "/sweeps/data/claims", "--seed", "14",
            "--embeddings", "/abs/glove.txt", "--epochs", "3",
            "--param", "batch_size=24", "--param", #"lr_decay="cosine""#,
            "--param", "lr=0.01", "--param", "label_weight=[2, 1.2, 1]",
        ])
        XCTAssertNil(program.file)
    }

    func testEngineErrorsNameTheKey() throws {
        func expect(_ engine: String, params: ParamMap = [:], _ fragment: String, line: UInt = #line) throws {
            let s = try spec("method: grid\nmetric: {name: m}\nparameters: {a: {value: 1}}\nthresher:\n  engine: \(engine)\n")
            XCTAssertThrowsError(try TrialProgram.resolve(spec: s, params: params, trialIndex: 0, thresherExecutable: "t",
                                                          baseDirectory: "/"), line: line) { error in
                XCTAssertTrue("\(error)".contains(fragment), "expected '\(fragment)' in \(error)", line: line)
            }
        }
        try expect("{data: x}", "thresher.engine.model is required")
        try expect("{model: mlp}", "thresher.engine.data is required")
        try expect("{model: mlp, data: x, epochs: many}", "thresher.engine.epochs must be a whole number")
        try expect("{model: mlp, data: x, opt: {name: adam}}", "thresher.engine.opt is a map")
        try expect("{model: mlp, data: x}", params: ["nested": .map(["k": .int(1)])], "thresher.engine.nested is a map")
    }

    func testCommandSweepsExpandTheirTemplate() throws {
        let s = try spec("""
            program: train.py
            method: grid
            metric: {name: loss}
            parameters: {lr: {values: [0.1]}}
            """)
        let program = try TrialProgram.resolve(spec: s, params: ["lr": .double(0.1)], trialIndex: 0,
                                               thresherExecutable: "t", baseDirectory: "/")
        XCTAssertEqual(program.argv, ["/usr/bin/env", "python", "train.py", "--lr=0.1"])

        let nothing = try spec("method: grid\nmetric: {name: m}\nparameters: {a: {value: 1}}\n")
        XCTAssertThrowsError(try TrialProgram.resolve(spec: nothing, params: [:], trialIndex: 0, thresherExecutable: "t", baseDirectory: "/")) {
            XCTAssertEqual($0 as? TrialProgramError, .noProgram)
        }
    }
}
