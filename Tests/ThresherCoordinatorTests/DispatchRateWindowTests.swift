import Foundation
import XCTest

@testable import ThresherCoordinator

/// The dispatch-rate gauge's window: events of the last ten whole seconds, per second, with time
/// handed in (no clock is read).
final class DispatchRateWindowTests: XCTestCase {
    let base = Date(timeIntervalSince1970: 1_800_000_000)

    func testTheRateCountsTheLastTenWholeSeconds() {
        var window = DispatchRateWindow()
        XCTAssertEqual(window.rate(at: base), 0)
        for second in 0 ..< 10 {
            for n in 0 ..< 5 { window.record(at: base.addingTimeInterval(Double(second) + Double(n) / 10)) }
        }
        // During second 10, seconds 0...9 are the window: 50 events.
        XCTAssertEqual(window.rate(at: base.addingTimeInterval(10.5)), 5)
        // The current, partial second is left out.
        XCTAssertEqual(window.rate(at: base.addingTimeInterval(9.5)), 4.5)
        // Seconds later, the old buckets age out; 20 s on nothing is left.
        XCTAssertEqual(window.rate(at: base.addingTimeInterval(15.2)), 2.5)
        XCTAssertEqual(window.rate(at: base.addingTimeInterval(30)), 0)
    }

    func testBucketsAreReusedAndAClockSteppedBackCountsInTheNewest() {
        var window = DispatchRateWindow()
        window.record(at: base)
        // 11 s later the same slot comes round again: the old count is replaced, not added to.
        window.record(at: base.addingTimeInterval(11))
        XCTAssertEqual(window.rate(at: base.addingTimeInterval(12)), 0.1)
        window.record(at: base.addingTimeInterval(5))
        XCTAssertEqual(window.rate(at: base.addingTimeInterval(12)), 0.2)
        // Nonsense times do not trap.
        window.record(at: Date(timeIntervalSince1970: .infinity))
        _ = window.rate(at: Date(timeIntervalSince1970: -.infinity))
    }
}
