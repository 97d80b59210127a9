import Foundation
import GRDB
import XCTest
@testable import ThresherStore

/// Every value a user or a worker supplies reaches SQLite only as a bound parameter: text that
/// would end a quoted SQL literal and start a statement is stored and read back unchanged, and the
/// schema is intact afterwards.
final class BoundParameterTests: XCTestCase {
    static let hostile = [
        "'; DROP TABLE sweeps; --",
        "x'); DROP TABLE trials; --",
        "\" OR 1=1 --",
        "loss'; DELETE FROM metrics WHERE '1'='1",
    ]

    func testHostileNamesRoundTripAndTheSchemaSurvives() throws {
        let (store, _) = try makeSweepStore()
        let tablesBefore = try tableNames(store)
        for (i, text) in Self.hostile.enumerated() {
            let sweep = try store.createSweep(name: text, spec: "name: \(text)", seed: Int64(i), now: at(0))
            XCTAssertEqual(try store.sweep(sweep.id).name, text)
            XCTAssertEqual(try store.sweep(sweep.id).spec, "name: \(text)")
            let trial = try store.enqueue(sweep: sweep.id, params: ["p": text], now: at(0))
            let assignment = try XCTUnwrap(try store.assign(trial: trial.id, worker: text, now: at(1), leaseDuration: 30))
            XCTAssertEqual(try store.trial(trial.id).workerId, text)
            let points = [MetricPoint(step: 1, name: text, value: Double(i), time: at(2)),
                          MetricPoint(step: 1, name: "loss", value: 0.5, time: at(2))]
            XCTAssertEqual(try store.appendReport(trial: trial.id, seq: 1, epoch: assignment.lease.epoch, points: points, now: at(2)), .stored(points: 2))
            XCTAssertEqual(try store.metrics(trial: trial.id, name: text).map(\.value), [Double(i)])
            XCTAssertEqual(try store.metrics(trial: trial.id).map(\.name).sorted(), [text, "loss"].sorted())
            XCTAssertEqual(try store.fail(trial: trial.id, epoch: assignment.lease.epoch, error: text, now: at(3)), .pending)
            XCTAssertEqual(try store.trial(trial.id).lastError, text)
        }
        XCTAssertEqual(try store.sweeps().map(\.name), Self.hostile)
        XCTAssertEqual(try tableNames(store), tablesBefore)
        XCTAssertEqual(try store.sweeps().count, Self.hostile.count)
    }

    /// Found by this test: text with a NUL came back cut at the NUL (GRDB reads text as a C string),
    /// so a sweep named "a\0b" was read back as "a". Identities with a NUL are now refused; free-form
    /// messages keep their text with U+FFFD in place of the NUL.
    func testTextWithANULIsRefusedOrKeptWholeNeverCutShort() throws {
        let (store, _) = try makeSweepStore()
        let nul = "a\u{0}b; DROP TABLE checkpoints"
        XCTAssertThrowsStoreError(.invalidArgument("the sweep name contains a NUL character, which the store cannot keep"),
                                  try store.createSweep(name: nul, spec: "", seed: 0, now: at(0)))
        XCTAssertThrowsStoreError(.invalidArgument("the sweep spec contains a NUL character, which the store cannot keep"),
                                  try store.createSweep(name: "s", spec: nul, seed: 0, now: at(0)))
        XCTAssertEqual(try store.sweeps(), [])
        let sweep = try store.createSweep(name: "s", spec: "", seed: 0, now: at(0))
        let trial = try store.enqueue(sweep: sweep.id, params: ["p": nul], now: at(0))
        XCTAssertThrowsStoreError(.invalidArgument("the worker id contains a NUL character, which the store cannot keep"),
                                  try store.assign(trial: trial.id, worker: nul, now: at(1), leaseDuration: 30))
        XCTAssertEqual(try store.trial(trial.id).state, .pending)
        let lease = try store.assign(trial: trial.id, worker: "w", now: at(1), leaseDuration: 30).lease
        XCTAssertEqual(try store.fail(trial: trial.id, epoch: lease.epoch, error: nul, now: at(2)), .pending)
        XCTAssertEqual(try store.trial(trial.id).lastError, "a\u{FFFD}b; DROP TABLE checkpoints")
        try store.cancel(trial: trial.id, reason: nul, now: at(3))
        XCTAssertEqual(try store.trial(trial.id).lastError, "a\u{FFFD}b; DROP TABLE checkpoints")
        // Parameters are JSON, where a NUL is escaped: they keep it.
        XCTAssertEqual(try store.trial(trial.id).params, #"{"p":"a\u0000b; DROP TABLE checkpoints"}"#)
    }

    private func tableNames(_ store: SweepStore) throws -> [String] {
        try store.pool.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") }
    }
}
