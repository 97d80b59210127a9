import ArgumentParser
import Foundation
import ThresherCoordinator
import ThresherReport
import ThresherWire

/// `thresher report`: one sweep as a self-contained HTML page with SVG charts, from a state folder
/// or from a running coordinator.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a sweep's report: one self-contained HTML file with SVG charts (no network, no script).",
        discussion: """
        With --state, reads STATE/thresher.sqlite read-only (safe beside a running coordinator); with \
        --coordinator, the coordinator renders the same page from its store (ReportRequest; token from \
        --token-file, THRESHER_TOKEN_FILE or THRESHER_TOKEN). The file appears complete or not at all \
        (written beside OUT, then renamed). Curves longer than 500 points are thinned to 500, keeping \
        each bucket's minimum and maximum. See docs/operations.md, "Reports".
        """
    )

    @Argument(help: "A sweep id or name (the newest of that name).")
    var sweep: String

    @OptionGroup var source: StateOrCoordinator

    @Option(help: "The HTML file to write.")
    var out: String

    func run() async throws {
        do {
            let source = try self.source.checked()
            let html: String, what: String
            if let connection = try source.connection() {
                defer { connection.close() }
                guard case .reportReply(let reply) = try await connection.request(.reportRequest(ReportRequest(sweep: sweep))) else {
                    throw CLIError("the coordinator at \(connection.url) did not answer with a report")
                }
                (html, what) = (reply.html, "sweep \(sweep) from \(connection.url)")
            } else {
                let state = source.state ?? "."
                let local = try LocalState(state)
                let found = try local.sweep(sweep)
                let report: SweepReport
                do {
                    report = try SweepReportReader.read(store: local.store, sweep: found.id, now: Date())
                } catch {
                    throw CLIError("cannot read sweep \(found.id) from \(state): \(error)")
                }
                (html, what) = (ReportPage(report: report).html(), "sweep \(found.id) \(found.name)\t\(report.trials.count) trials")
            }
            try Self.writeAtomically(Data(html.utf8), to: out)
            print("\(out)\t\(html.utf8.count) bytes\t\(what)")
        } catch let error as CLIError {
            StandardError.write(["error: \(error)"])
            throw ExitCode(2)
        }
    }

    /// Writes a temporary file in OUT's folder, then renames it over OUT: a reader sees the old file
    /// or the new one, never a part.
    static func writeAtomically(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try data.write(to: temporary)
            guard rename(temporary.path, url.path) == 0 else {
                let reason = String(cString: strerror(errno))
                try? FileManager.default.removeItem(at: temporary)
                throw CLIError("cannot write \(path): \(reason)")
            }
        } catch let error as CLIError {
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw CLIError("cannot write \(path): \(error.localizedDescription)")
        }
    }
}
