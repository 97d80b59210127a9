import Foundation
import XCTest
@testable import ThresherWire

/// Golden byte vectors: the committed hex files pin the wire format. Every sample must encode
/// to exactly its golden bytes, and every golden frame must decode to exactly its sample.
///
/// To change the format on purpose, run once with THRESHER_REGENERATE_GOLDEN=1: the files in
/// Tests/ThresherWireTests/Golden are rewritten (then review the diff and docs/protocol.md).
final class GoldenTests: XCTestCase {
    private let codec = FrameCodec()
    private static let regenerate = ProcessInfo.processInfo.environment["THRESHER_REGENERATE_GOLDEN"] == "1"
    private static let sourceDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().appendingPathComponent("Golden")

    func testEveryMessageTypeHasASample() {
        let covered = Set(Samples.all.map { $0.message.type })
        XCTAssertEqual(covered, Set(MessageType.allCases))
    }

    func testUncompressedGoldenFrames() throws {
        for (name, message) in Samples.all {
            let encoded = try codec.encode(message)
            XCTAssertEqual(encoded[7], 0, "\(name): sample should not be compressed")
            try checkGolden(name: name, message: message, encoded: encoded)
        }
    }

    /// zstd does not promise identical output across library versions, so the encode direction
    /// compares the header fields and the uncompressed payload; decode is checked byte-exact.
    func testCompressedGoldenFrame() throws {
        let name = "report-compressed"
        let encoded = try codec.encode(Samples.compressedReport)
        XCTAssertEqual(encoded[7], FrameFlags.compressed.rawValue, "sample should be compressed")
        if Self.regenerate { return try write(encoded, name: name) }
        let golden = try load(name)
        XCTAssertEqual(try codec.decode(golden), Samples.compressedReport)
        XCTAssertEqual(Array(encoded[0..<8]), Array(golden[0..<8]))
        XCTAssertEqual(try uncompressedPayload(encoded), try uncompressedPayload(golden))
    }

    private func checkGolden(name: String, message: Message, encoded: [UInt8]) throws {
        if Self.regenerate { return try write(encoded, name: name) }
        let golden = try load(name)
        XCTAssertEqual(encoded, golden, "\(name): encoding differs from Golden/\(name).hex\nnow:    \(encoded.hex)\ngolden: \(golden.hex)")
        XCTAssertEqual(try codec.decode(golden), message, "\(name): golden frame decodes to something else")
    }

    private func uncompressedPayload(_ frame: [UInt8]) throws -> [UInt8] {
        let body = Array(frame[(FrameHeader.byteCount + 4)...])
        let declared = Int(frame[16]) | Int(frame[17]) << 8 | Int(frame[18]) << 16 | Int(frame[19]) << 24
        let decompressor = try XCTUnwrap(ZstdDecompressor())
        return try body.withUnsafeBytes { try decompressor.decompress($0, expectedSize: declared) }
    }

    private func load(_ name: String) throws -> [UInt8] {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: "Golden", withExtension: nil)?.appendingPathComponent("\(name).hex"),
            "Golden resources missing")
        let text = try String(contentsOf: url, encoding: .utf8)
        return try XCTUnwrap([UInt8](hexText: text), "Golden/\(name).hex is not valid hex")
    }

    private func write(_ bytes: [UInt8], name: String) throws {
        let text = "# ThresherWire golden frame: \(name). Regenerate: THRESHER_REGENERATE_GOLDEN=1 swift test\n"
            + bytes.hexLines() + "\n"
        let url = Self.sourceDirectory.appendingPathComponent("\(name).hex")
        try text.write(to: url, atomically: true, encoding: .utf8)
        print("wrote \(url.path)")
    }
}
