import Foundation
import XCTest
@testable import ThresherEngine

final class NumericTableTests: XCTestCase {
    private let reader = CSVTableReader()

    private func parse(_ text: String, _ reader: CSVTableReader = CSVTableReader()) throws -> NumericTable {
        try reader.parse(bytes: Array(text.utf8), file: "t.csv")
    }

    private func expectError(_ text: String, _ expected: NumericTableError, reader: CSVTableReader = CSVTableReader(),
                             line: UInt = #line) {
        XCTAssertThrowsError(try parse(text, reader), line: line) { error in
            XCTAssertEqual(error as? NumericTableError, expected, line: line)
            XCTAssert("\(error)".contains("t.csv"), line: line)
        }
    }

    func testPlainWithoutHeaderLabelsMappedInSortedOrder() throws {
        let t = try parse("1,2,7\n3.5,-4,3\n\n5,6e1,7\r\n")
        XCTAssertFalse(t.hadHeader)
        XCTAssertEqual(t.features.shape, [3, 2])
        XCTAssertEqual(t.features.storage, [1, 2, 3.5, -4, 5, 60])
        XCTAssertEqual(t.classValues, [3, 7])
        XCTAssertEqual(t.labels, [1, 0, 1])
        XCTAssertEqual(t.featureNames, ["column1", "column2"])
    }

    func testHeaderDetectionAndNamedLabelColumn() throws {
        let text = "label, a, b\n2, 0.5, 1\n0, 1.5, 2\n"
        let byName = try parse(text, CSVTableReader(labelColumn: .name("label")))
        XCTAssertTrue(byName.hadHeader)
        XCTAssertEqual(byName.featureNames, ["a", "b"])
        XCTAssertEqual(byName.features.storage, [0.5, 1, 1.5, 2])
        XCTAssertEqual(byName.labels, [1, 0])
        XCTAssertEqual(byName.classValues, [0, 2])
        let byIndex = try parse(text, CSVTableReader(labelColumn: .index(0)))
        XCTAssertEqual(byIndex, byName)
    }

    func testErrorsNameFileLineAndColumn() {
        expectError("", .empty(file: "t.csv"))
        expectError("a,b,c\n", .empty(file: "t.csv"))
        expectError("1,2,3\n4,5\n", .raggedRow(file: "t.csv", line: 2, expected: 3, found: 2))
        expectError("1,2,3\n\n4,x5,6\n", .nonNumeric(file: "t.csv", line: 3, column: 2, text: "x5"))
        expectError("1,2,3\n4,,6\n", .nonNumeric(file: "t.csv", line: 2, column: 2, text: ""))
        expectError("1,2,3\n4,nan,6\n", .nonNumeric(file: "t.csv", line: 2, column: 2, text: "nan"))
        expectError("1,2,3\n4,5,6.5\n", .nonIntegralLabel(file: "t.csv", line: 2, column: 3, text: "6.5"))
        expectError("1\n2\n", .noFeatures(file: "t.csv"))
        expectError("1,2\n", .unknownLabelColumn(file: "t.csv", name: "y"), reader: CSVTableReader(labelColumn: .name("y")))
        expectError("1,2\n", .labelColumnOutOfRange(file: "t.csv", index: 2, columns: 2),
                    reader: CSVTableReader(labelColumn: .index(2)))
        XCTAssertThrowsError(try reader.read(path: "/nonexistent/x.csv")) { error in
            guard case .unreadable(let file, _) = error as? NumericTableError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "/nonexistent/x.csv")
        }
        XCTAssertThrowsError(try reader.parse(bytes: [0xff, 0xfe, 0x31], file: "t.csv")) { error in
            XCTAssertEqual(error as? NumericTableError, .notText(file: "t.csv"))
        }
    }

    private func gzip(_ text: String) throws -> (path: String, bytes: [UInt8]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-csv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let plain = dir.appendingPathComponent("table.data")  // no .gz extension: detection is by magic bytes
        try Data(text.utf8).write(to: plain)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-n", plain.path]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let compressed = plain.path + ".gz"
        let renamed = dir.appendingPathComponent("table.csv").path
        try FileManager.default.moveItem(atPath: compressed, toPath: renamed)
        return (renamed, [UInt8](try Data(contentsOf: URL(fileURLWithPath: renamed))))
    }

    func testGzipByMagicBytesAndCorruptData() throws {
        guard FileManager.default.isExecutableFile(atPath: "/bin/gzip") else { throw XCTSkip("/bin/gzip not found") }
        var text = "f1,f2,y\n"
        for i in 0..<2000 { text += "\(i),\(i % 7),\(i % 3)\n" }
        let (path, bytes) = try gzip(text)
        XCTAssertTrue(Gzip.isGzip(bytes))
        let table = try reader.read(path: path)
        XCTAssertEqual(table, try parse(text))
        XCTAssertEqual(table.rowCount, 2000)

        XCTAssertThrowsError(try reader.parse(bytes: Array(bytes.prefix(bytes.count / 2)), file: "t.csv")) { error in
            XCTAssertEqual(error as? NumericTableError, .gzip(file: "t.csv", .truncated))
        }
        var corrupt = bytes
        corrupt[corrupt.count - 6] ^= 0xff  // CRC-32 in the trailer
        XCTAssertThrowsError(try reader.parse(bytes: corrupt, file: "t.csv")) { error in
            guard case .gzip(_, .corrupt) = error as? NumericTableError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try CSVTableReader(sizeLimit: 1000).parse(bytes: bytes, file: "t.csv")) { error in
            XCTAssertEqual(error as? NumericTableError, .gzip(file: "t.csv", .tooLarge(limit: 1000)))
        }
    }

    func testGzipMultipleMembersAndEmptyInput() throws {
        guard FileManager.default.isExecutableFile(atPath: "/bin/gzip") else { throw XCTSkip("/bin/gzip not found") }
        let first = try gzip("1,2,0\n").bytes
        let second = try gzip("3,4,1\n").bytes
        XCTAssertEqual(try Gzip.decompress(first + second + [0, 0]), Array("1,2,0\n3,4,1\n".utf8))
        XCTAssertThrowsError(try Gzip.decompress([])) { XCTAssertEqual($0 as? GzipError, .truncated) }
        XCTAssertThrowsError(try Gzip.decompress([0x1f, 0x8b, 0x08, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])) { error in
            XCTAssertNotNil(error as? GzipError)
        }
    }

    func testSplitIsDeterministicDisjointAndComplete() throws {
        let a = try XCTUnwrap(DatasetSplit(count: 101, seed: 7))
        XCTAssertEqual(a, DatasetSplit(count: 101, seed: 7))
        XCTAssertNotEqual(a, DatasetSplit(count: 101, seed: 8))
        XCTAssertEqual([a.train.count, a.validation.count, a.test.count], [70, 15, 16])
        XCTAssertEqual((a.train + a.validation + a.test).sorted(), Array(0..<101))
        XCTAssertNil(DatasetSplit(count: 10, trainFraction: 0.9, validationFraction: 0.2, seed: 0))
    }

    func testBatchesAreDeterministicAndCoverEveryIndex() throws {
        let it = try XCTUnwrap(BatchIterator(count: 23, batchSize: 5, seed: 3))
        let e0 = it.batches(epoch: 0)
        XCTAssertEqual(e0.map(\.count), [5, 5, 5, 5, 3])
        XCTAssertEqual(e0.flatMap { $0 }.sorted(), Array(0..<23))
        XCTAssertEqual(e0, BatchIterator(count: 23, batchSize: 5, seed: 3)?.batches(epoch: 0))
        XCTAssertNotEqual(e0, it.batches(epoch: 1))
        XCTAssertEqual(it.batches(epoch: 1).flatMap { $0 }.sorted(), Array(0..<23))
        let ordered = try XCTUnwrap(BatchIterator(count: 7, batchSize: 3, shuffle: false, seed: 3))
        XCTAssertEqual(ordered.batches(epoch: 4), [[0, 1, 2], [3, 4, 5], [6]])
        XCTAssertNil(BatchIterator(count: 3, batchSize: 0, seed: 0))
    }

    func testStandardizerUsesGivenStatistics() {
        let s = Standardizer(fitting: GradientCheck.tensor([2, 2], [1, 5, 3, 5]))
        XCTAssertEqual(s.mean, [2, 5])
        XCTAssertEqual(s.std, [1, 1])  // constant column: std 1
        XCTAssertEqual(s.apply(GradientCheck.tensor([1, 2], [4, 6])).storage, [2, 1])
    }
}
