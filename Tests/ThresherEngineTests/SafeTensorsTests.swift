import Foundation
import XCTest
@testable import ThresherEngine

/// The safetensors reader and writer: round trips, the exact byte layout of the reference
/// implementation, a mixed-dtype file written by Python's `safetensors` 0.8 (embedded below as hex),
/// and one test per malformed-input error.
final class SafeTensorsTests: XCTestCase {
    /// `safetensors.torch.save({"fc.weight": [[1,2],[3,4]], "fc.bias": [0.5]}, metadata={"format": "pt"})`.
    private let referenceTiny: [UInt8] = {
        let header = #"{"__metadata__":{"format":"pt"},"fc.bias":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"fc.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[4,20]}}     "#
        let data: [UInt8] = [0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40]
        return [0xA0, 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8) + data
    }()

    /// Python: save({"f64": [1.5, -2.25] F64, "i64": [[7, -3]] I64, "f16": [0.5, -65504, 6e-8] F16,
    /// "bf16": [1, -3.5] BF16, "b": [True, False] BOOL, "u8": [255] U8, "i32": [-5] I32, "s": 2.5 F32 scalar}).
    private let referenceMixed: [UInt8] = hexBytes([
        "c8010000000000007b22693634223a7b226474797065223a22493634222c227368617065223a5b312c325d2c22646174615f6f666673657473223a5b",
        "302c31365d7d2c22663634223a7b226474797065223a22463634222c227368617065223a5b325d2c22646174615f6f666673657473223a5b31362c33",
        "325d7d2c2273223a7b226474797065223a22463332222c227368617065223a5b5d2c22646174615f6f666673657473223a5b33322c33365d7d2c2269",
        "3332223a7b226474797065223a22493332222c227368617065223a5b315d2c22646174615f6f666673657473223a5b33362c34305d7d2c2262663136",
        "223a7b226474797065223a2242463136222c227368617065223a5b325d2c22646174615f6f666673657473223a5b34302c34345d7d2c22663136223a",
        "7b226474797065223a22463136222c227368617065223a5b335d2c22646174615f6f666673657473223a5b34342c35305d7d2c227538223a7b226474",
        "797065223a225538222c227368617065223a5b315d2c22646174615f6f666673657473223a5b35302c35315d7d2c2262223a7b226474797065223a22",
        "424f4f4c222c227368617065223a5b325d2c22646174615f6f666673657473223a5b35312c35335d7d7d20200700000000000000fdffffffffffffff",
        "000000000000f83f00000000000002c000002040fbffffff803f60c00038fffb0100ff0100",
    ].joined())

    private static func hexBytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return out
    }

    /// A file with the given header text (padded to 8 bytes) and data buffer.
    private func file(_ header: String, data: [UInt8] = []) -> [UInt8] {
        var json = Array(header.utf8)
        json += repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8)
        var length = UInt64(json.count)
        var out: [UInt8] = []
        for _ in 0..<8 { out.append(UInt8(truncatingIfNeeded: length)); length >>= 8 }
        return out + json + data
    }

    private func assertError(_ bytes: [UInt8], _ expected: SafeTensorsError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensorsFile(bytes: bytes), file: file, line: line) {
            XCTAssertEqual($0 as? SafeTensorsError, expected, file: file, line: line)
        }
    }

    private let tiny = SafeTensorsFile(
        tensors: ["fc.weight": Tensor(shape: [2, 2], storage: [1, 2, 3, 4])!, "fc.bias": Tensor(shape: [1], storage: [0.5])!],
        metadata: ["format": "pt"])

    func testWriterMatchesReferenceBytesExactly() throws {
        XCTAssertEqual(try tiny.serialized(), referenceTiny)
        XCTAssertEqual(try SafeTensorsFile(bytes: referenceTiny), tiny)
    }

    func testRoundTripWithScalarsEmptyTensorsUnicodeAndEscapes() throws {
        let original = SafeTensorsFile(
            tensors: [
                "scalar": Tensor(shape: [], storage: [-0.0])!,
                "empty": Tensor(zeros: [0, 3]),
                "naïve \"quoted\"\n\u{1}": Tensor(shape: [3], storage: [.infinity, -.greatestFiniteMagnitude, .leastNonzeroMagnitude])!,
                "big": Tensor(shape: [4, 5, 6], storage: (0..<120).map { Float($0) * 0.25 - 7 })!,
            ],
            metadata: ["epoch": "3", "note": "tab\there / ünïcödé \\"])
        let bytes = try original.serialized()
        XCTAssertEqual((bytes.count - 8 - 480 - 12 - 4) % 8, 0, "data starts 8-byte aligned")
        let header = String(decoding: bytes[8..<(8 + Int(bytes[0]) + Int(bytes[1]) << 8)], as: UTF8.self)
        XCTAssertTrue(header.contains(#""naïve \"quoted\"\n\u0001""#), header)
        let decoded = try SafeTensorsFile(bytes: bytes)
        XCTAssertEqual(decoded, original)
        XCTAssertEqual(decoded.tensors["scalar"]?.storage[0].sign, .minus)
        XCTAssertEqual(try SafeTensorsFile(data: Data(bytes)), original)
        XCTAssertEqual(try SafeTensorsFile(tensors: [:]).serialized(), [8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8))
        XCTAssertThrowsError(try SafeTensorsFile(tensors: ["__metadata__": Tensor(zeros: [1])]).serialized()) {
            XCTAssertEqual($0 as? SafeTensorsError, .reservedName)
        }
    }

    func testTensorLookupChecksNameAndShape() throws {
        XCTAssertEqual(try tiny.tensor(named: "fc.bias", shape: [1]), Tensor(shape: [1], storage: [0.5]))
        XCTAssertEqual(try tiny.tensor(named: "fc.weight").shape, [2, 2])
        XCTAssertThrowsError(try tiny.tensor(named: "fc2.bias")) { XCTAssertEqual($0 as? SafeTensorsError, .missingTensor("fc2.bias")) }
        XCTAssertThrowsError(try tiny.tensor(named: "fc.weight", shape: [4])) {
            XCTAssertEqual($0 as? SafeTensorsError, .shapeMismatch(name: "fc.weight", expected: [4], found: [2, 2]))
        }
    }

    func testReadsPythonWrittenMixedDTypes() throws {
        let decoded = try SafeTensorsFile(bytes: referenceMixed)
        XCTAssertEqual(decoded.metadata, [:])
        XCTAssertEqual(decoded.tensors["f64"], Tensor(shape: [2], storage: [1.5, -2.25]))
        XCTAssertEqual(decoded.tensors["i64"], Tensor(shape: [1, 2], storage: [7, -3]))
        XCTAssertEqual(decoded.tensors["f16"], Tensor(shape: [3], storage: [0.5, -65504, 5.960464477539063e-08]))
        XCTAssertEqual(decoded.tensors["bf16"], Tensor(shape: [2], storage: [1, -3.5]))
        XCTAssertEqual(decoded.tensors["b"], Tensor(shape: [2], storage: [1, 0]))
        XCTAssertEqual(decoded.tensors["u8"], Tensor(shape: [1], storage: [255]))
        XCTAssertEqual(decoded.tensors["i32"], Tensor(shape: [1], storage: [-5]))
        XCTAssertEqual(decoded.tensors["s"], Tensor(shape: [], storage: [2.5]))
    }

    func testInexactConversionsAreRejected() {
        let big = UInt64(16_777_217)
        let bytes = (0..<8).map { UInt8(truncatingIfNeeded: big >> (8 * $0)) }
        assertError(file(#"{"x":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, data: bytes),
                    .inexactConversion(name: "x", index: 0, dtype: "I64"))
        let huge = (1e300 as Double).bitPattern
        assertError(file(#"{"x":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#, data: (0..<8).map { UInt8(truncatingIfNeeded: huge >> (8 * $0)) }),
                    .inexactConversion(name: "x", index: 0, dtype: "F64"))
    }

    func testFileWriteIsAtomicAndReadable() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("model.safetensors").path
        try tiny.write(toFile: path)
        XCTAssertEqual(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))), referenceTiny)
        let replacement = SafeTensorsFile(tensors: ["w": Tensor(zeros: [1000])])
        try replacement.write(toFile: path)
        XCTAssertEqual(try SafeTensorsFile(contentsOfFile: path), replacement)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["model.safetensors"], "no temporary left")
        XCTAssertThrowsError(try SafeTensorsFile(contentsOfFile: folder.appendingPathComponent("missing").path)) {
            guard case .io(_, "open", ENOENT)? = $0 as? SafeTensorsError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try tiny.write(toFile: folder.appendingPathComponent("no/such/folder.safetensors").path)) {
            guard case .io? = $0 as? SafeTensorsError else { return XCTFail("\($0)") }
        }
    }

    /// Issue 4 §7: files load with Python's `safetensors` package. Runs when `python3` can import
    /// `safetensors.numpy` and `numpy`; skipped with a message otherwise.
    func testPythonSafetensorsLoadsWrittenFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-py-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("w.safetensors").path
        let file = SafeTensorsFile(
            tensors: ["gru.weight_ih_l0": Tensor(shape: [3, 2], storage: [1, -2, 3.5, 0, 1e-3, -7])!,
                      "step": Tensor(shape: [], storage: [42])!, "é \"x\"": Tensor(zeros: [0, 2])],
            metadata: ["epoch": "2", "ünï": "a\nb"])
        try file.write(toFile: path)
        let script = """
            import sys, json
            from safetensors import safe_open
            out = {}
            with safe_open(sys.argv[1], framework="numpy") as f:
                out["metadata"] = f.metadata()
                for k in f.keys():
                    t = f.get_tensor(k)
                    out[k] = [str(t.dtype), list(t.shape), [float(x) for x in t.reshape(-1)]]
            print(json.dumps(out, sort_keys=True))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        do { try process.run() } catch { throw XCTSkip("python3 not runnable: \(error)") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw XCTSkip("python3 with safetensors and numpy not available") }
        let loaded = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(loaded["metadata"] as? [String: String], ["epoch": "2", "ünï": "a\nb"])
        let weight = try XCTUnwrap(loaded["gru.weight_ih_l0"] as? [Any])
        XCTAssertEqual(weight[0] as? String, "float32")
        XCTAssertEqual(weight[1] as? [Int], [3, 2])
        XCTAssertEqual((weight[2] as? [Double])?.map(Float.init), [1, -2, 3.5, 0, 1e-3, -7])
        XCTAssertEqual((loaded["step"] as? [Any])?[1] as? [Int], [])
        XCTAssertEqual((loaded["é \"x\""] as? [Any])?[1] as? [Int], [0, 2])
    }

    func testTruncatedAndHeaderLengthErrors() {
        assertError([], .truncatedHeaderLength(fileSize: 0))
        assertError([1, 0, 0], .truncatedHeaderLength(fileSize: 3))
        // Exactly the limit (0x05F5E100) is allowed by the limit, then fails against the file size.
        assertError([0, 0xE1, 0xF5, 0x05, 0, 0, 0, 0], .headerExceedsFile(length: 100_000_000, available: 0))
        assertError([1, 0xE1, 0xF5, 0x05, 0, 0, 0, 0], .headerTooLarge(length: 100_000_001, limit: 100_000_000))
        assertError([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], .headerTooLarge(length: .max, limit: 100_000_000))
        assertError(Array(referenceTiny.prefix(100)), .headerExceedsFile(length: 160, available: 92))
        // A file cut inside its data: the header is intact, the offsets now run past the buffer.
        assertError(Array(referenceTiny.dropLast(3)), .offsetsOutOfRange(name: "fc.weight", begin: 4, end: 20, bufferSize: 17))
    }

    func testBadJSONAndBadShapeOfHeader() {
        assertError([2, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFE], .headerNotUTF8)
        assertError(file(#"{"a":{"dtype":"F32",}"#), .invalidJSON(offset: 20, reason: "expected a string key"))
        assertError(file(#"{"a" 1}"#), .invalidJSON(offset: 5, reason: "expected ':'"))
        assertError(file(#"{} x"#), .invalidJSON(offset: 3, reason: "unexpected data after the top-level value"))
        assertError(file(#"{"a":"\ud800"}"#), .invalidJSON(offset: 12, reason: "lone high surrogate"))
        assertError(file(String(repeating: "[", count: 100)), .invalidJSON(offset: 64, reason: "nesting deeper than 64"))
        assertError(file("[]"), .headerNotObject)
        assertError(file(#"{"a":[]}"#), .invalidTensorEntry(name: "a", reason: "is an array, not an object"))
        assertError(file(#"{"a":{"dtype":"F32","shape":[]}}"#), .invalidTensorEntry(name: "a", reason: "missing \"data_offsets\""))
        assertError(file(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#),
                    .invalidTensorEntry(name: "a", reason: "\"shape\" holds -1, not a non-negative integer"))
        assertError(file(#"{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}"#),
                    .invalidTensorEntry(name: "a", reason: "\"shape\" holds 1.0, not a non-negative integer"))
        assertError(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#),
                    .invalidTensorEntry(name: "a", reason: "\"data_offsets\" has 1 elements, not 2"))
        assertError(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}"#, data: [0, 0, 0, 0]),
                    .invalidTensorEntry(name: "a", reason: "unexpected field \"extra\""))
        assertError(file(#"{"a":{"dtype":7,"shape":[1],"data_offsets":[0,4]}}"#),
                    .invalidTensorEntry(name: "a", reason: "\"dtype\" is a number, not a string"))
        assertError(file(#"{"__metadata__":{"k":1}}"#), .invalidMetadata(reason: "value of \"k\" is a number, not a string"))
        assertError(file(#"{"__metadata__":[]}"#), .invalidMetadata(reason: "is an array, not an object"))
    }

    func testDTypeErrors() {
        assertError(file(#"{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), .unknownDType(name: "a", dtype: "F33"))
        assertError(file(#"{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#, data: [0]), .unsupportedDType(name: "a", dtype: "F8_E4M3"))
    }

    func testOffsetAndSizeErrors() {
        let four: [UInt8] = [0, 0, 0, 0]
        assertError(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: four),
                    .offsetsOutOfRange(name: "a", begin: 4, end: 8, bufferSize: 4))
        assertError(file(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}"#, data: four),
                    .offsetsOutOfRange(name: "a", begin: 4, end: 0, bufferSize: 4))
        assertError(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: four),
                    .sizeMismatch(name: "a", shape: [2], dtype: "F32", expectedBytes: 8, actualBytes: 4))
        assertError(file(#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#, data: four),
                    .shapeTooLarge(name: "a", shape: [4611686018427387904, 4]))
        assertError(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: four + four),
                    .overlappingTensors("a", "b"))
        assertError(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: four + four),
                    .gapInBuffer(offset: 0, next: "a"))
        assertError(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: four + four),
                    .bufferNotCovered(used: 4, bufferSize: 8))
        assertError(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: four + four),
                    .duplicateName("a"))
        // Two spellings of "é" (precomposed, decomposed) are one Swift String.
        assertError(file("{\"\u{E9}\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"e\u{301}\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                         data: four + four), .duplicateName("e\u{301}"))
    }
}
