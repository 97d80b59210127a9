import Foundation
import Synchronization
import XCTest
import ThresherCoordinator
import ThresherNet
import ThresherStore
import ThresherWire

let testToken = "coordinator tests shared secret 0123456789"

/// A clock the test moves. Every reading advances it by one millisecond, so each decision the
/// coordinator stores has its own instant (the rebuild replays them in time order) and time
/// never depends on how fast the machine is.
final class TestClock: Sendable {
    private let state = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    func now() -> Date { state.withLock { $0 = $0.addingTimeInterval(0.001); return $0 } }
    func advance(_ seconds: TimeInterval) { state.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// A coordinator serving on an ipc:// socket in a temporary folder, with a test clock.
final class TestCoordinator: Sendable {
    let coordinator: Coordinator
    let server: CoordinatorServer
    let url: String
    let clock: TestClock
    let stateDirectory: String

    init(stateDirectory: String, clock: TestClock, socket: String, tickInterval: Duration = .seconds(3600)) throws {
        let options = CoordinatorOptions(leaseTimeout: 15, heartbeatInterval: 5, maxAttempts: 3, retryAfterMs: 5,
                                         clock: { clock.now() })
        coordinator = try Coordinator(stateDirectory: stateDirectory, options: options)
        url = "ipc://\(socket)"
        // Lease expiry in most tests is driven by `tick()` with the test clock; the timer test sets
        // a short `tickInterval`.
        server = try CoordinatorServer(coordinator: coordinator, options: options, listen: [url], token: try ClusterToken(testToken),
                                       tickInterval: tickInterval)
        self.clock = clock
        self.stateDirectory = stateDirectory
    }

    func worker(_ id: String, slots: UInt16 = 1) throws -> FakeWorker {
        var transport = TransportOptions()
        transport.reconnectMin = .milliseconds(20)
        transport.reconnectMax = .milliseconds(200)
        return FakeWorker(client: try ClusterClient(connect: url, token: try ClusterToken(testToken),
                                                    identity: WorkerIdentity(workerID: id, slots: slots), transport: transport))
    }

    func stop() async throws {
        server.close()
        try await coordinator.close()
    }
}

/// A temporary folder removed at the end of the test.
func temporaryDirectory(_ testCase: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "thresher-coord-" + UUID().uuidString.prefix(8)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    testCase.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// A worker written by hand: sends exactly what the test says and returns the replies.
struct FakeWorker: Sendable {
    let client: ClusterClient

    func send(_ message: Message) async throws -> Message { try await client.send(message) }

    func request() async throws -> Message { try await send(.requestTrial(RequestTrial(freeSlots: 1))) }

    func assignment() async throws -> Assign {
        let reply = try await request()
        guard case .assign(let assign) = reply else { throw TestFailure("expected Assign, got \(reply)") }
        return assign
    }

    func report(_ assign: Assign, seq: UInt64, _ records: [ThresherWire.MetricRecord]) async throws -> Message {
        try await send(.report(Report(trialID: assign.trialID, leaseEpoch: assign.leaseEpoch, seq: seq, batch: MetricBatch(records: records))))
    }

    func ack(_ message: Message) throws -> Ack {
        guard case .ack(let ack) = message else { throw TestFailure("expected Ack, got \(message)") }
        return ack
    }

    func done(_ assign: Assign, step: Int64, final: [ThresherWire.MetricRecord] = []) async throws -> Ack {
        try ack(try await send(.done(Done(trialID: assign.trialID, leaseEpoch: assign.leaseEpoch, finalStep: step, finalMetrics: final))))
    }

    func close() { client.close() }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func metric(_ name: String, _ step: Int64, _ value: Double) -> ThresherWire.MetricRecord {
    ThresherWire.MetricRecord(step: step, name: name, value: value)
}

extension Ack {
    /// The verdict for one trial, if the Ack carries one.
    func verdict(for trial: UInt64) -> Verdict? { verdicts.first { $0.trialID == trial }?.verdict }
    var stops: [UInt64: String] {
        var result: [UInt64: String] = [:]
        for v in verdicts { if case .stop(let reason) = v.verdict { result[v.trialID] = reason } }
        return result
    }
}

extension ParamMap {
    var argv: [String] {
        guard case .list(let items) = self["argv"] else { return [] }
        return items.compactMap { if case .string(let s) = $0 { s } else { nil } }
    }
}
