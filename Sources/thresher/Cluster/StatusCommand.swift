import ArgumentParser
import Foundation
import ThresherCoordinator
import ThresherStore
import ThresherWire

/// `thresher status`: sweeps and their trials, from a state folder or a coordinator.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show sweeps (or one sweep's trials, with every stop decision's explanation).",
        discussion: """
        With --state, reads STATE/thresher.sqlite read-only (safe beside a running coordinator); with \
        --coordinator, asks the coordinator (token from --token-file, THRESHER_TOKEN_FILE or \
        THRESHER_TOKEN). --watch follows a sweep until it has ended: on a terminal the live table \
        (trials with step, best, rung, elapsed and ETA, and a progress bar) redrawn in place; otherwise one \
        line per trial that starts or ends and the summary whenever it changes; with --json the status \
        document whenever it changes, one per line. Without a sweep, --watch follows the list of sweeps.
        """
    )

    @Argument(help: "A sweep id or name; without it, one line per sweep.")
    var sweep: String?

    @OptionGroup var source: StateOrCoordinator

    @Flag(help: "One JSON object (with --watch: one per change, one per line).")
    var json = false

    @Flag(help: "Redraw until the sweep has ended.")
    var watch = false

    @Option(help: "Seconds between redraws with --watch.")
    var interval: Double = 2

    func validate() throws {
        guard interval.isFinite, interval >= 0.1 else { throw ValidationError("--interval must be at least 0.1 seconds") }
    }

    func run() async throws {
        do {
            let source = try self.source.checked()
            let connection = try source.connection()
            defer { connection?.close() }
            let display = ProgressDisplay(json: json)
            // On a terminal, Ctrl-C ends the watch between redraws, so the cursor comes back.
            let interrupted = watch && display.mode == .table ? InterruptFlag() : nil
            var last = ""
            var boards = LiveBoards()
            while true {
                if interrupted?.isSet == true {
                    display.finish(nil)
                    throw ExitCode(130)
                }
                let (document, documentText) = try await fetch(source, connection, boards: &boards)
                if !watch { return print(json ? documentText : StatusText.render(document)) }
                if display.mode != .json, let board = StatusBoard.decode(document) {
                    // One sweep: the live table on a terminal, trial events and summary lines otherwise.
                    display.show(board.progress, rows: board.rows)
                    if board.progress.finished { return display.finish(board.progress, rows: board.rows) }
                } else {
                    let text = json ? documentText : StatusText.render(document)
                    if text != last {
                        // On a terminal, cut to its size: a wrapped or scrolled line breaks the redraw in place.
                        let size = ProgressDisplay.terminalSize()
                        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).prefix(max(1, size.rows - 1))
                            .map { $0.replacingOccurrences(of: "\t", with: "  ") }  // a tab's width depends on the column
                            .map { $0.count <= size.columns ? $0 : String($0.prefix(max(1, size.columns - 1))) + "…" }
                        // Unbuffered, so a pipe sees each view as it is drawn.
                        FileHandle.standardOutput.write(Data((display.mode == .table ? display.frame(lines) : text + "\n").utf8))
                        last = text
                    }
                    if StatusText.ended(document) { return display.finish(nil) }
                }
                try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
            }
        } catch let error as CLIError {
            StandardError.write(["error: \(error)"])
            throw ExitCode(2)
        }
    }

    /// The status document, and its JSON text as the coordinator (or `StatusDocument`) wrote it.
    private func fetch(_ source: StateOrCoordinator, _ connection: CoordinatorConnection?,
                       boards: inout LiveBoards) async throws -> ([String: Any], String) {
        if let connection {
            guard case .statusReply(let reply) = try await connection.request(.statusRequest(StatusRequest(sweep: sweep))),
                  let document = try? JSONSerialization.jsonObject(with: Data(reply.json.utf8)) as? [String: Any] else {
                throw CLIError("the coordinator at \(connection.url) sent a status that is not a JSON object")
            }
            return (document, reply.json)
        }
        let local = try LocalState(source.state ?? ".")
        let document: [String: Any]
        if let reference = sweep {
            // --watch keeps the boards, so each redraw reads only the reports stored since the last.
            let found = try local.sweep(reference)
            document = try StatusDocument.sweep(store: local.store, found, board: boards.board(for: found.id))
        } else {
            document = try StatusDocument.allSweeps(store: local.store, boards: &boards)
        }
        return (document, try StatusDocument.text(document))
    }
}

/// The human view of a status document (docs/protocol.md, StatusReply): the same for a local
/// and a remote status, since both come from the same document.
enum StatusText {
    static func render(_ document: [String: Any]) -> String {
        if let sweeps = document["sweeps"] as? [[String: Any]] {
            if sweeps.isEmpty { return "no sweeps" }
            return sweeps.map { s in
                let metric = s["metric"] as? String ?? ""
                let best = (s["best"] as? [String: Any]).map { "best \(metric) \(number($0["value"])) (trial \(number($0["trial"])))" }
                    ?? "no \(metric) yet"
                return "\(number(s["id"]))\t\(s["name"] as? String ?? "")\t\(s["state"] as? String ?? "")\t\(counts(s))\t\(best)"
            }.joined(separator: "\n")
        }
        var lines = ["sweep \(number(document["id"])) \(document["name"] as? String ?? "") (\(document["state"] as? String ?? "")): \(counts(document))"]
        for t in document["trials"] as? [[String: Any]] ?? [] {
            var line = "\(number(t["trial"]))\t#\(number(t["index"]))\t\(t["state"] as? String ?? "")\t\(number(t["reports"])) values"
            if let best = t["best"] { line += "\tbest \(number(best))" }
            if let params = t["params"], JSONSerialization.isValidJSONObject(params),
               let data = try? JSONSerialization.data(withJSONObject: params, options: [.sortedKeys, .withoutEscapingSlashes]) {
                line += "\t" + String(decoding: data, as: UTF8.self)
            }
            if let why = t["stop_explanation"] as? [String: Any], let message = why["message"] as? String { line += "\t\(message)" }
            if let error = t["last_error"] as? String { line += "\terror: \(error)" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// True once the sweep (or every sweep) has finished or been stopped.
    static func ended(_ document: [String: Any]) -> Bool {
        if let sweeps = document["sweeps"] as? [[String: Any]] { return sweeps.allSatisfy { $0["finished"] as? Bool ?? false } }
        return document["finished"] as? Bool ?? false
    }

    /// "12/81 trials ended, 2 running, …" from the document's per-state counts.
    static func counts(_ sweep: [String: Any]) -> String {
        var counts: [TrialState: Int] = [:]
        for (key, value) in sweep["counts"] as? [String: Any] ?? [:] {
            if let state = TrialState(rawValue: key), let n = value as? NSNumber { counts[state] = n.intValue }
        }
        return ProgressDisplay.counts(counts, total: (sweep["total_trials"] as? NSNumber)?.intValue)
    }

    private static func number(_ value: Any?) -> String {
        guard let number = value as? NSNumber else { return value.map { "\($0)" } ?? "-" }
        let value = number.doubleValue
        // Ids and counts are integers; metric values print as doubles.
        if value == value.rounded(), abs(value) < 1e15 { return "\(Int64(value))" }
        return "\(value)"
    }
}
