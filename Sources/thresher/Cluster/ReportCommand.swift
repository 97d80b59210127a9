import ArgumentParser
import Foundation
import ThresherReport

/// `thresher report`: one sweep as a self-contained HTML page with SVG charts.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a sweep's report: one self-contained HTML file with SVG charts (no network, no script).",
        discussion: """
        Reads STATE/thresher.sqlite read-only (safe beside a running coordinator). There is no \
        --coordinator form: the storage chart comes from the store's event log (checkpoints stored \
        and evicted over time), which no coordinator request carries. The file appears complete or \
        not at all (written beside OUT, then renamed). Curves longer than 500 points are thinned \
        to 500, keeping each bucket's minimum and maximum. See docs/operations.md, "Reports".
        """
    )

    @Argument(help: "A sweep id or name (the newest of that name).")
    var sweep: String

    @Option(help: "The coordinator's state folder (read-only).")
    var state: String = "."

    @Option(help: "The HTML file to write.")
    var out: String

    func run() throws {
        do {
            let local = try LocalState(state)
            let sweep = try local.sweep(sweep)
            let report: SweepReport
            do {
                report = try SweepReportReader.read(store: local.store, sweep: sweep.id, now: Date())
            } catch {
                throw CLIError("cannot read sweep \(sweep.id) from \(state): \(error)")
            }
            let html = ReportPage(report: report).html()
            try Self.writeAtomically(Data(html.utf8), to: out)
            print("\(out)\t\(html.utf8.count) bytes\tsweep \(sweep.id) \(sweep.name)\t\(report.trials.count) trials")
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
