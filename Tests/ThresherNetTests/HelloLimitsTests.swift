import Foundation
import XCTest
@testable import ThresherNet
import ThresherWire

/// `HelloLimits` at each bound and one past it, and a real `ClusterServer` refusing a Hello out of
/// bounds before it issues a challenge.
final class HelloLimitsTests: XCTestCase {
    private func hello(_ id: String, _ capabilities: [String] = []) -> Hello {
        Hello(workerID: id, slots: 1, capabilities: capabilities, clientNonce: .zero)
    }

    func testEachBoundAcceptsItsLimitAndRefusesOneMore() {
        let idAtLimit = String(repeating: "w", count: HelloLimits.maxWorkerIDBytes)
        XCTAssertNil(HelloLimits.violation(hello(idAtLimit)))
        XCTAssertEqual(HelloLimits.violation(hello(idAtLimit + "w")), "the worker id is 129 bytes; at most 128")
        XCTAssertEqual(HelloLimits.violation(hello("")), "the worker id is empty")
        for control in ["a\u{0}b", "a\nb", "tab\t", "del\u{7F}"] {
            XCTAssertEqual(HelloLimits.violation(hello(control)), "the worker id holds a control character", control.debugDescription)
        }
        XCTAssertNil(HelloLimits.violation(hello("gpu-node-07.example.org_élan")), "non-ASCII letters are fine")

        let capabilities = (0..<HelloLimits.maxCapabilities).map { "c\($0)" }
        XCTAssertNil(HelloLimits.violation(hello("w", capabilities)))
        XCTAssertEqual(HelloLimits.violation(hello("w", capabilities + ["one-more"])), "17 capabilities; at most 16")
        let capabilityAtLimit = String(repeating: "c", count: HelloLimits.maxCapabilityBytes)
        XCTAssertNil(HelloLimits.violation(hello("w", [capabilityAtLimit])))
        XCTAssertEqual(HelloLimits.violation(hello("w", [capabilityAtLimit + "c"])), "a capability is 65 bytes; at most 64")
        XCTAssertEqual(HelloLimits.violation(hello("w", ["client\u{0}"])), "a capability holds a control character")
    }

    func testTheServerRefusesAnOutOfBoundsHelloAndCountsIt() async throws {
        let cluster = try await TestCluster.start(token: HandshakeTests.token)
        defer { cluster.stop() }
        for id in [String(repeating: "x", count: 129), "a\u{0}b"] {
            let client = try cluster.client(token: HandshakeTests.token, workerID: id)
            defer { client.close() }
            do {
                _ = try await client.handshake()
                XCTFail("a Hello with worker id \(id.debugDescription) got a session")
            } catch ClusterError.rejected(let rejected) {
                XCTAssertEqual(rejected.reason, .invalidHello)
            }
        }
        XCTAssertEqual(cluster.server.statistics.handshakesRejected["invalidHello"], 2)
        XCTAssertEqual(cluster.server.authenticatedSessions, 0)
        let fine = try cluster.client(token: HandshakeTests.token, workerID: String(repeating: "x", count: 128))
        defer { fine.close() }
        _ = try await fine.handshake()
        XCTAssertEqual(cluster.server.statistics.sessionsOpened, 1)
    }
}
