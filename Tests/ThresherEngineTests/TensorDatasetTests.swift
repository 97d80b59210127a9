import Foundation
import XCTest
@testable import ThresherEngine

/// Tensor datasets read from safetensors files (`x`, `y`, `val_*`, `test_*`, `lengths`).
final class TensorDatasetTests: XCTestCase {
    private typealias G = GradientCheck

    private func write(_ tensors: [String: Tensor]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-tds-\(UUID().uuidString).safetensors").path
        try SafeTensorsFile(tensors: tensors).write(toFile: path)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testFeatureRowsWithAllThreeSplits() throws {
        let path = try write([
            "x": G.tensor([4, 2], [0, 1, 2, 3, 4, 5, 6, 7]), "y": G.tensor([4], [0, 1, 2, 1]),
            "val_x": G.tensor([1, 2], [8, 9]), "val_y": G.tensor([1], [3]),
            "test_x": G.tensor([2, 2], [1, 1, 2, 2]), "test_y": G.tensor([2], [0, 0]),
        ])
        let splits = try TensorDataset.read(path: path)
        XCTAssertEqual(splits.train.count, 4)
        XCTAssertEqual(splits.train.classCount, 4, "the class count spans every split's labels")
        XCTAssertEqual(splits.validation?.labels, [3])
        XCTAssertEqual(splits.test?.count, 2)
        XCTAssertEqual(splits.train.batch([3, 0]), .features(G.tensor([2, 2], [6, 7, 0, 1])))
    }

    func testSequencesTakeLengthsOrTheFullWidth() throws {
        let x = G.tensor([2, 3, 1], [1, 2, 3, 4, 5, 6])
        let full = try TensorDataset.read(path: try write(["x": x, "y": G.tensor([2], [0, 1])]))
        XCTAssertEqual(full.train.inputs, .sequences(x, lengths: [3, 3]))
        XCTAssertNil(full.validation)
        let given = try TensorDataset.read(path: try write(["x": x, "y": G.tensor([2], [0, 1]), "lengths": G.tensor([2], [1, 3])]))
        XCTAssertEqual(given.train.inputs, .sequences(x, lengths: [1, 3]))
    }

    func testEveryProblemNamesTheTensor() throws {
        func expect(_ tensors: [String: Tensor], _ fragment: String, line: UInt = #line) throws {
            XCTAssertThrowsError(try TensorDataset.read(path: try write(tensors)), line: line) { error in
                XCTAssertTrue("\(error)".contains(fragment), "expected '\(fragment)' in \(error)", line: line)
            }
        }
        let x = G.tensor([2, 2], [0, 1, 2, 3])
        try expect(["x": x], "needs tensors 'x'")
        try expect(["x": x, "y": G.tensor([2], [0, 0.5])], "'y'[1] is 0.5")
        try expect(["x": x, "y": G.tensor([2], [0, -1])], "'y'[1] is -1")
        try expect(["x": x, "y": G.tensor([3], [0, 1, 1])], "must be [3, …]")
        try expect(["x": G.tensor([2], [0, 1]), "y": G.tensor([2], [0, 1])], "must be [2, …]")
        try expect(["x": x, "y": G.tensor([2], [0, 1]), "val_y": G.tensor([1], [0])], "'val_y' has no 'val_x'")
        try expect(["x": x, "y": G.tensor([2], [0, 1]), "val_x": G.tensor([1, 3], [0, 0, 0]), "val_y": G.tensor([1], [0])],
                   "validation examples are features of 3")
        try expect(["x": G.tensor([1, 2, 1], [0, 0]), "y": G.tensor([1], [1]), "lengths": G.tensor([1], [3])], "'lengths' must be")
        let garbage = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-tds-garbage").path
        try Data("not safetensors".utf8).write(to: URL(fileURLWithPath: garbage))
        XCTAssertThrowsError(try TensorDataset.read(path: garbage)) { XCTAssertTrue("\($0)".contains("not a readable safetensors file")) }
    }
}
