import Foundation
import XCTest
@testable import ThresherWorker

/// The shared fixture of the agent tests: a scripted coordinator on a fresh ipc:// socket per test
/// and the agent under test, cancelled and awaited in tearDown so no program outlives its test.
class AgentTestCase: XCTestCase {
    var base = ""
    var coordinator: FakeCoordinator?
    var running: Task<Void, Never>?

    override func setUp() async throws {
        base = try temporaryBase(self)
        coordinator = try FakeCoordinator(directory: base)
    }

    override func tearDown() async throws {
        running?.cancel()
        await running?.value
        coordinator?.close()
    }

    /// Starts an agent on the fake coordinator; it runs until tearDown.
    func start(slots: Int = 2, chunkBytes: Int = 1 << 20, thresher: String = "/nonexistent/thresher") throws -> WorkerAgent {
        let fake = try XCTUnwrap(coordinator)
        let agent = try WorkerAgent(options: agentOptions(url: fake.url, base: base + "/trials", slots: slots,
                                                          chunkBytes: chunkBytes, thresher: thresher))
        running = Task { await agent.run() }
        return agent
    }
}
