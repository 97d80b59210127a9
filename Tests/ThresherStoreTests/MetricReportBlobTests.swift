import Foundation
import XCTest
@testable import ThresherStore

final class MetricReportBlobTests: XCTestCase {
    func testRoundTripKeepsOrderNamesAndSpecialValues() throws {
        let points = [
            MetricPoint(step: 0, name: "loss", value: .nan, time: at(1)),
            MetricPoint(step: -3, name: "acc", value: .infinity, time: at(2.5)),
            MetricPoint(step: Int64.max, name: "loss", value: -.infinity, time: at(-7)),
            MetricPoint(step: Int64.min, name: "ünïcode ✓", value: -0.0, time: at(1e-3)),
            MetricPoint(step: 5, name: "", value: 1.5e308, time: at(1)),
        ]
        let decoded = try MetricReportBlob.decode(MetricReportBlob.encode(points))
        XCTAssertEqual(decoded.count, points.count)
        for (got, want) in zip(decoded, points) {
            XCTAssertEqual(got.step, want.step)
            XCTAssertEqual(got.name, want.name)
            XCTAssertEqual(got.value.bitPattern, want.value.bitPattern, "values bit for bit, NaN and -0 included")
            XCTAssertEqual(got.time.timeIntervalSince1970.bitPattern, want.time.timeIntervalSince1970.bitPattern)
        }
        XCTAssertEqual(try MetricReportBlob.names(MetricReportBlob.encode(points)), ["loss", "acc", "ünïcode ✓", ""])
    }

    func testASharedTimeIsStoredOnceAndAnEmptyReportRoundTrips() throws {
        let shared = (0 ..< 100).map { MetricPoint(step: Int64($0), name: "loss", value: Double($0), time: at(3)) }
        var varied = shared
        varied[50].time = at(4)
        let sharedBlob = MetricReportBlob.encode(shared)
        XCTAssertEqual(MetricReportBlob.encode(varied).count - sharedBlob.count, 100 * 8 - 8)
        XCTAssertEqual(try MetricReportBlob.decode(sharedBlob), shared)
        XCTAssertEqual(try MetricReportBlob.decode(MetricReportBlob.encode(varied)), varied)
        XCTAssertEqual(try MetricReportBlob.decode(MetricReportBlob.encode([])), [])
    }

    func testEveryTruncationIsAnErrorNotATrap() throws {
        let blob = MetricReportBlob.encode([MetricPoint(step: 1, name: "loss", value: 0.25, time: at(1)),
                                            MetricPoint(step: 2, name: "acc", value: 0.5, time: at(2))])
        for length in 0 ..< blob.count {
            XCTAssertThrowsError(try MetricReportBlob.decode(Array(blob[0 ..< length])), "length \(length)") { error in
                guard case StoreError.corruptMetricReport = error else { return XCTFail("\(error)") }
            }
        }
        XCTAssertThrowsError(try MetricReportBlob.decode(blob + [0]), "trailing bytes")
    }

    func testGarbageIsAnError() throws {
        let good = MetricReportBlob.encode([MetricPoint(step: 1, name: "loss", value: 0.25, time: at(1))])
        var badVersion = good; badVersion[0] = 9
        XCTAssertThrowsError(try MetricReportBlob.decode(badVersion))
        // Name table: count 1, length 4, "loss" at bytes 9..<13; then point count, flags, time, point.
        var badUTF8 = good; badUTF8[9] = 0xFF
        XCTAssertThrowsError(try MetricReportBlob.decode(badUTF8))
        var hugeNameCount = good; hugeNameCount[1 ... 4] = [0xFF, 0xFF, 0xFF, 0xFF]
        XCTAssertThrowsError(try MetricReportBlob.decode(hugeNameCount))
        var hugePointCount = good; hugePointCount[13 ... 16] = [0xFF, 0xFF, 0xFF, 0x7F]
        XCTAssertThrowsError(try MetricReportBlob.decode(hugePointCount))
        var badFlags = good; badFlags[17] = 6
        XCTAssertThrowsError(try MetricReportBlob.decode(badFlags))
        var badIndex = good; badIndex[26 + 8] = 1  // the point's name index: 1 of a 1-name table
        XCTAssertThrowsError(try MetricReportBlob.decode(badIndex)) { error in
            XCTAssertEqual("\(error)", "a stored metric report is corrupt: name index 1 of 1")
        }
        // A seeded run of random byte flips: each decodes or throws, never traps.
        var rng = SplitMix64(seed: 42)
        for _ in 0 ..< 2000 {
            var mutated = good
            mutated[Int(rng.next() % UInt64(mutated.count))] = UInt8(truncatingIfNeeded: rng.next())
            _ = try? MetricReportBlob.decode(mutated)
        }
    }

    /// A corrupt row in the database is reported by the readers as a StoreError.
    func testACorruptStoredReportIsAStoreError() throws {
        let (store, _) = try makeSweepStore()
        let sweep = try store.createSweep(name: "s", spec: "", seed: 0, now: at(0))
        let trial = try store.enqueue(sweep: sweep.id, params: [Int](), now: at(0))
        try store.pool.write { db in
            try db.execute(sql: "INSERT INTO metric_reports (trialId, seq, epoch, points, receivedAt, body) VALUES (?, 0, 1, 1, 0, ?)",
                           arguments: [trial.id, Data([1, 0, 0])])
        }
        XCTAssertThrowsError(try store.metrics(trial: trial.id)) { XCTAssertEqual($0 as? StoreError, .corruptMetricReport("truncated")) }
        XCTAssertThrowsError(try store.lastFiniteMetric(trial: trial.id, name: "loss"))
        XCTAssertThrowsError(try store.metricRows(sweep: sweep.id, afterTrial: 0, afterSeq: 0, afterPosition: 0, limit: 10))
    }
}
