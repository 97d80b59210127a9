import Dispatch
import Foundation
import XCTest
@testable import ThresherWire

/// The zstd contexts and their pool: round trips, capacity limits, and one codec shared by
/// many threads at once.
final class ZstdTests: XCTestCase {
    func testCompressorRespectsCapacityAndRoundTrips() throws {
        let text = [UInt8](String(repeating: "loss acc lr ", count: 200).utf8)
        let compressor = try XCTUnwrap(ZstdCompressor())
        XCTAssertNil(text.withUnsafeBytes { compressor.compress($0, level: 3, capacity: 8) }, "cannot fit in 8 bytes")
        let compressed = try XCTUnwrap(text.withUnsafeBytes { compressor.compress($0, level: 3, capacity: text.count) })
        XCTAssertLessThan(compressed.count, text.count / 8)
        let decompressor = try XCTUnwrap(ZstdDecompressor())
        XCTAssertEqual(try compressed.withUnsafeBytes { try decompressor.decompress($0, expectedSize: text.count) }, text)
        // The same context again, after an error in between.
        XCTAssertThrowsError(try [UInt8]([1, 2, 3]).withUnsafeBytes { try decompressor.decompress($0, expectedSize: 3) })
        XCTAssertEqual(try compressed.withUnsafeBytes { try decompressor.decompress($0, expectedSize: text.count) }, text)
    }

    func testDeclaredSizeBelowTheContentIsRefused() throws {
        let compressor = try XCTUnwrap(ZstdCompressor())
        // One byte of content declared as zero: zstd must refuse rather than write past the buffer.
        let one = try XCTUnwrap([UInt8]([7]).withUnsafeBytes { compressor.compress($0, level: 3, capacity: 64) })
        let decompressor = try XCTUnwrap(ZstdDecompressor())
        XCTAssertThrowsError(try one.withUnsafeBytes { try decompressor.decompress($0, expectedSize: 0) })
        XCTAssertEqual(try one.withUnsafeBytes { try decompressor.decompress($0, expectedSize: 1) }, [7])
    }

    func testPoolKeepsAtMostMaxIdleContexts() {
        let pool = ZstdContextPool(maxIdle: 1)
        var seen: [ObjectIdentifier] = []
        for _ in 0..<3 {
            pool.withCompressor { compressor in
                if let compressor { seen.append(ObjectIdentifier(compressor)) }
            }
        }
        XCTAssertEqual(Set(seen).count, 1, "the idle context is reused")
    }

    func testOneCodecSharedByManyThreads() throws {
        let codec = FrameCodec()
        let messages = (0..<8).map { worker in
            Message.report(Report(trialID: UInt64(worker), leaseEpoch: 1, seq: 1, batch: MetricBatch(records:
                (0..<500).map { MetricRecord(step: Int64($0), name: $0 % 2 == 0 ? "loss" : "acc", value: Double($0 % 13)) })))
        }
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for _ in 0..<50 {
                do {
                    let frame = try codec.encode(messages[worker])
                    let decoded = try codec.decode(frame)
                    if frame[7] == 0 || decoded != messages[worker] { failures.record() }
                } catch {
                    failures.record()
                }
            }
        }
        XCTAssertEqual(failures.count, 0)
    }
}

/// A thread-safe failure counter for the concurrency test.
private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    var count: Int { lock.withLock { value } }
    func record() { lock.withLock { value += 1 } }
}
