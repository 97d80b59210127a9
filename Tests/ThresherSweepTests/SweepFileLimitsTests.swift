import Foundation
import ThresherWire
import XCTest
@testable import ThresherSweep

/// The sweep-file parser's bounds on its input: file size and parameter nesting, each tested at
/// the limit (accepted) and one past it (refused with a message), plus YAML nesting that would
/// otherwise recurse without bound.
final class SweepFileLimitsTests: XCTestCase {
    private func parse(_ text: String) -> Result<ParsedSweepFile, SweepFileErrors> {
        Result { () throws(SweepFileErrors) in try SweepFileParser.parse(text, fileName: "sweep.yaml") }
    }

    private func firstError(_ text: String) -> String? {
        if case .failure(let errors) = parse(text) { return errors.errors.first?.message }
        return nil
    }

    /// A grid file of exactly `bytes` bytes (padded with a comment).
    private func file(ofBytes bytes: Int) -> String {
        let body = "method: grid\nparameters:\n  lr: {values: [0.1]}\n#"
        return body + String(repeating: "x", count: bytes - body.utf8.count)
    }

    func testAFileOfAtMostOneMebibyteIsReadAndOneByteMoreIsRefused() throws {
        XCTAssertNoThrow(try parse(file(ofBytes: SweepFileParser.maxFileBytes)).get())
        XCTAssertEqual(firstError(file(ofBytes: SweepFileParser.maxFileBytes + 1)),
                       "the file is 1048577 bytes; a sweep file may have at most 1048576 (1 MiB)")

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-limits-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/big.yaml"
        try file(ofBytes: SweepFileParser.maxFileBytes + 1).write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SweepFileParser.parse(contentsOf: path)) { error in
            XCTAssertEqual((error as? SweepFileErrors)?.errors.first?.message,
                           "cannot read the sweep file: it is 1048577 bytes; a sweep file may have at most 1048576 (1 MiB)")
        }
    }

    /// Found by hand while fuzzing the parser: a value nested deeper than the wire carries
    /// validated, and the coordinator could never encode that trial's Assign, so the sweep hung.
    func testParametersNestedDeeperThanTheWireCarriesAreRefused() throws {
        func lists(_ depth: Int) -> String { String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth) }
        // The trial's parameter map is one level; 31 lists inside it make 32: accepted, and encodable.
        let deepest = try parse("method: grid\nparameters:\n  a: {values: [\(lists(31))]}\n").get()
        var grid = try GridSearcher(spec: deepest.spec)
        let params = try XCTUnwrap(grid.next()).params
        let assign = Assign(sweepID: 1, trialID: 1, leaseEpoch: 1, params: params, run: [:], resumeFrom: nil)
        XCTAssertNoThrow(try FrameCodec().encode(.assign(assign)))
        // One more list cannot go over the wire, so the file is refused.
        XCTAssertEqual(firstError("method: grid\nparameters:\n  a: {values: [\(lists(32))]}\n"),
                       "nests lists and maps 33 levels deep counting the trial's parameter map; at most 32 go over the wire")
        var tooDeep = params
        tooDeep["a"] = .list([params["a"] ?? .null])
        XCTAssertThrowsError(try FrameCodec().encode(.assign(Assign(sweepID: 1, trialID: 1, leaseEpoch: 1, params: tooDeep,
                                                                      run: [:], resumeFrom: nil))))
        // A nested parameters block is a map level of its own.
        XCTAssertNoThrow(try parse("method: grid\nparameters:\n  a:\n    parameters:\n      b: {value: \(lists(30))}\n").get())
        let nested = try XCTUnwrap(firstError("method: grid\nparameters:\n  a:\n    parameters:\n      b: {value: \(lists(31))}\n"))
        XCTAssertTrue(nested.hasPrefix("nests lists and maps 33 levels deep"), nested)
        if case .failure(let errors) = parse("method: grid\nparameters:\n  a:\n    parameters:\n      b: {value: \(lists(31))}\n") {
            XCTAssertEqual(errors.errors.first?.keyPath, "parameters.a.parameters.b")
        }
    }

    /// libyaml (inside Yams) stops at 1,000 levels with a clear error: deep YAML neither overflows
    /// the stack nor hangs, in flow or block style.
    func testYAMLNestedThousandsOfLevelsIsAnErrorNotACrash() {
        let depth = 20_000
        let flow = "method: grid\nparameters:\n  a: {values: [" + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "]}\n"
        let block = "method: grid\nparameters:\n  a:\n    values:\n    " + String(repeating: "- ", count: depth) + "x\n"
        let maps = "method: grid\nparameters:\n  a: " + String(repeating: "{b: ", count: depth) + "1" + String(repeating: "}", count: depth) + "\n"
        for text in [flow, block, maps] {
            let message = firstError(text) ?? "parsed"
            XCTAssertTrue(message.contains("Maximum nesting level reached"), message)
        }
    }
}
