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

    /// `sweep validate` catches engine-block mistakes at their line, before any trial runs.
    func testEngineBlockIsCheckedWhenTheFileIsParsed() throws {
        let text = """
            method: grid
            metric: {name: m}
            parameters: {a: {value: 1}}
            thresher:
              engine:
                data: 3
                epochs: -1
                opt: {name: adam}
            """
        XCTAssertThrowsError(try SweepFileParser.parse(text, fileName: "e.yaml")) { error in
            let messages = (error as? SweepFileErrors)?.errors.map(\.description) ?? []
            XCTAssertEqual(messages.count, 4, "\(messages)")
            for fragment in ["thresher.engine.model is required", "thresher.engine.data must be a non-empty string",
                             "thresher.engine.epochs must be ≥ 0", "thresher.engine.opt is a mapping"] {
                XCTAssertTrue(messages.contains { $0.contains(fragment) && $0.contains("e.yaml:") }, "\(fragment) in \(messages)")
            }
        }
    }

    func testTrialParamsThatAreMapsAreRefusedForEngineTrials() throws {
        let s = try spec("method: grid\nmetric: {name: m}\nparameters: {a: {value: 1}}\nthresher:\n  engine: {model: mlp, data: x}\n")
        XCTAssertThrowsError(try TrialProgram.resolve(spec: s, params: ["nested": .map(["k": .int(1)])], trialIndex: 0,
                                                      thresherExecutable: "t", baseDirectory: "/")) { error in
            XCTAssertTrue("\(error)".contains("thresher.engine.nested is a map"), "\(error)")
        }
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
