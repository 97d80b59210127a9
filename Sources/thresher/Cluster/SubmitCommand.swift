import ArgumentParser
import Foundation
import ThresherSweep
import ThresherWire

/// `thresher submit`: send a sweep file to a running coordinator.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a sweep file to a running coordinator.",
        discussion: """
        The file is checked here first (errors with line numbers, no round trip), then parsed again by \
        the coordinator. Submitting the same file (with the same --set values) under the same name again returns the \
        existing sweep. \
        Relative engine paths in the file (data, embeddings, cache) mean --base-dir, by default the file's \
        folder as seen from here: it must exist on the hosts that run the trials, or use absolute paths. A \
        command's program runs in each worker's working folder, as with W&B agents.
        """
    )

    @Argument(help: "The sweep file (YAML).")
    var file: String

    @Option(help: "The sweep's name (default: the file name without its extension).")
    var name: String?

    @Option(help: "Higher priorities run first; equal ones in submission order.")
    var priority: Int32 = 0

    @Option(help: "The folder relative engine paths in the file mean, on the worker hosts.")
    var baseDir: String?

    @OptionGroup var access: CoordinatorAccess

    @OptionGroup var overrides: SweepOverrideOptions

    func run() async throws {
        do {
            // Every problem of the file (or of a --set) at its line, exit 2, before any round trip;
            // the coordinator stores the text with the overrides applied, which is what the sweep runs.
            let text = try SweepFileLoader.load(file, overrides: overrides.values).text
            let url = URL(fileURLWithPath: file).standardizedFileURL
            let coordinator = try access.requiredURL()
            let connection = try access.connect(coordinator)
            defer { connection.close() }
            let request = SubmitSweep(fileText: text, fileName: url.lastPathComponent,
                                      baseDirectory: baseDir.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
                                          ?? url.deletingLastPathComponent().path,
                                      name: name ?? url.deletingPathExtension().lastPathComponent, priority: priority)
            guard case .sweepSubmitted(let submitted) = try await connection.request(.submitSweep(request)) else {
                throw CLIError("the coordinator at \(coordinator) answered SubmitSweep with something else")
            }
            print("sweep \(submitted.sweepID) \(submitted.name) \(submitted.created ? "submitted" : "already there (same name and file); not submitted again")")
        } catch let error as CLIError {
            StandardError.write(["error: \(error)"])
            throw ExitCode(2)
        }
    }
}
