import XCTest
@testable import ThresherCoordinator

/// A short lease must not outlive the heartbeats meant to renew it.
final class CoordinatorOptionsTests: XCTestCase {
    func testHeartbeatIsAtMostAThirdOfTheLease() {
        XCTAssertEqual(CoordinatorOptions().heartbeatInterval, 5, "the defaults (15 s lease) are unchanged")
        XCTAssertEqual(CoordinatorOptions(leaseTimeout: 2).heartbeatInterval, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(CoordinatorOptions(leaseTimeout: 60, heartbeatInterval: 10).heartbeatInterval, 10)
        XCTAssertEqual(CoordinatorOptions(leaseTimeout: 3, heartbeatInterval: 0.5).heartbeatInterval, 0.5)
    }
}
