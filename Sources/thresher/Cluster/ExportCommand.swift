import ArgumentParser
import Foundation
import ThresherCoordinator
import ThresherSweep
import ThresherWire

/// `thresher export`: every stored metric value of a sweep as CSV or JSON lines.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every stored metric value of a sweep as CSV or JSON lines, with each trial's parameters.",
        discussion: """
        Rows come in pages (ExportRequest with --coordinator, the state folder read-only with --state), \
        so any size streams with bounded memory. One row per stored value: trial, index, state, seq, \
        step, name, value (empty / null when missing), time (seconds since 1970) and the trial's \
        parameters (a JSON object; in CSV one quoted column). With --out the file appears complete or \
        not at all (temporary file, then rename).
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case csv, jsonl }

    @Argument(help: "A sweep id or name.")
    var sweep: String

    @Option(help: "csv or jsonl.")
    var format: Format

    @Option(help: "Output file (default: standard output).")
    var out: String?

    @OptionGroup var source: StateOrCoordinator

    @Option(help: "Rows per page (1…10000).")
    var pageSize: Int = 5000

    func validate() throws {
        guard (1...ExportPages.maxRows).contains(pageSize) else { throw ValidationError("--page-size must be 1...\(ExportPages.maxRows)") }
    }

    func run() async throws {
        var temporary: String?
        do {
            let source = try self.source.checked()
            let connection = try source.connection()
            defer { connection?.close() }
            let local = try source.state.map { try LocalState($0) }
            let localSweep = try local.map { try $0.sweep(sweep) }

            let handle: FileHandle
            if let out {
                let path = (out as NSString).deletingLastPathComponent.isEmpty ? "." : (out as NSString).deletingLastPathComponent
                let name = path + "/.\((out as NSString).lastPathComponent).\(getpid()).part"
                guard FileManager.default.createFile(atPath: name, contents: nil) , let opened = FileHandle(forWritingAtPath: name) else {
                    throw CLIError("cannot write \(out)")
                }
                temporary = name
                handle = opened
            } else {
                handle = FileHandle.standardOutput
            }
            var writer = ExportWriter(format: format, handle: handle)
            try writer.header()
            var cursor = ExportCursor.start
            var params: [UInt64: ExportTrial] = [:]
            while true {
                let page: ExportPage
                if let connection {
                    guard case .exportPage(let reply) = try await connection.request(
                        .exportRequest(ExportRequest(sweep: sweep, after: cursor, limit: UInt32(pageSize)))) else {
                        throw CLIError("the coordinator at \(connection.url) answered ExportRequest with something else")
                    }
                    page = reply
                } else if let local, let localSweep,
                          let reply = try ExportPages.page(store: local.store, sweep: localSweep.id, after: cursor, limit: pageSize) {
                    page = reply
                } else {
                    throw CLIError("export cursor out of range")
                }
                for trial in page.trials { params[trial.trialID] = trial }
                for row in page.rows { try writer.write(row, trial: params[row.trialID]) }
                // Only the trials of the next page are needed again; keep memory bounded.
                params = params.filter { $0.key == page.next.trialID }
                if page.complete || page.rows.isEmpty { break }
                cursor = page.next
            }
            try writer.flush()
            if let temporary, let out {
                try handle.synchronize()
                try handle.close()
                guard rename(temporary, out) == 0 else { throw CLIError("cannot rename \(temporary) to \(out)") }
            }
        } catch let error as CLIError {
            if let temporary { unlink(temporary) }
            StandardError.write(["error: \(error)"])
            throw ExitCode(2)
        } catch {
            if let temporary { unlink(temporary) }
            throw error
        }
    }
}

/// One export row per stored value, as CSV or JSON lines, buffered and written in blocks.
struct ExportWriter {
    let format: ExportCommand.Format
    let handle: FileHandle
    private var buffer = ""

    init(format: ExportCommand.Format, handle: FileHandle) {
        self.format = format
        self.handle = handle
    }

    mutating func header() throws {
        if format == .csv { try emit("trial,index,state,seq,step,name,value,time,params\n") }
    }

    mutating func write(_ row: ExportRow, trial: ExportTrial?) throws {
        let params = trial.map { PythonFormat.json(.map($0.params)) } ?? "{}"
        let value = row.value.isFinite ? "\(row.value)" : nil
        switch format {
        case .csv:
            let fields = ["\(row.trialID)", trial.map { "\($0.index)" } ?? "", trial?.state ?? "", "\(row.seq)", "\(row.step)",
                          Self.csv(row.name), value ?? "", "\(row.time)", Self.csv(params)]
            try emit(fields.joined(separator: ",") + "\n")
        case .jsonl:
            var object: [String: Any] = ["trial": row.trialID, "seq": row.seq, "step": row.step, "name": row.name,
                                         "value": value.map { _ in row.value as Any } ?? NSNull(), "time": row.time]
            if let trial {
                object["index"] = trial.index
                object["state"] = trial.state
                object["params"] = (try? JSONSerialization.jsonObject(with: Data(params.utf8))) ?? [String: Any]()
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            try emit(String(decoding: data, as: UTF8.self) + "\n")
        }
    }

    private mutating func emit(_ text: String) throws {
        buffer += text
        if buffer.utf8.count >= 1 << 16 { try flush() }
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: Data(buffer.utf8))
        buffer = ""
    }

    /// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break.
    static func csv(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
