import ArgumentParser
import Foundation
import ThresherWire

/// `thresher stop`: stop a sweep or one trial on a running coordinator.
struct StopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop a sweep (SWEEP: id or name) or one trial (trial:ID) on a running coordinator.",
        discussion: """
        Stopping a sweep cancels its waiting trials and sends running ones a stop verdict (the program \
        gets SIGTERM, then SIGKILL after the grace); the sweep is marked stopped. Each stop is stored with \
        the reason ("stopped by user" unless --reason says otherwise) and shown by `thresher status`.
        """
    )

    @Argument(help: "A sweep id or name, or trial:ID.")
    var target: String

    @Option(help: "Why; stored with each stop.")
    var reason: String = "stopped by user"

    @OptionGroup var access: CoordinatorAccess

    func run() async throws {
        do {
            let stopTarget: StopTarget
            if target.lowercased().hasPrefix("trial:") {
                guard let id = UInt64(target.dropFirst("trial:".count)), id > 0 else {
                    throw CLIError("\(target): a trial is trial:ID with ID a trial id from `thresher status SWEEP`")
                }
                stopTarget = .trial(id)
            } else {
                stopTarget = .sweep(target)
            }
            let coordinator = try access.requiredURL()
            let connection = try access.connect(coordinator)
            defer { connection.close() }
            guard case .stopReply(let reply) = try await connection.request(.stopRequest(StopRequest(target: stopTarget, reason: reason))) else {
                throw CLIError("the coordinator at \(coordinator) answered StopRequest with something else")
            }
            print(reply.detail)
        } catch let error as CLIError {
            StandardError.write(["error: \(error)"])
            throw ExitCode(2)
        }
    }
}
