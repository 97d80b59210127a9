import Foundation
import ThresherCoordinator
import ThresherSweep
import ThresherWire

/// Submits a sweep file as `thresher run` sees it — its text after `--set` overrides — so that
/// the text stored for the sweep is the one it really runs.
///
/// Guarantees: the same file with the same overrides finds and continues its sweep; a state
/// folder already holding a sweep of that name with any other text (the file was edited, or other
/// `--set` values) is refused with a message, never continued or run beside it.
enum EffectiveSweepSubmission {
    static func submit(_ effective: EffectiveSweepFile, file: String, stateFolder: String,
                       to coordinator: Coordinator) async throws -> Int64 {
        let url = URL(fileURLWithPath: file).standardizedFileURL
        let name = url.deletingPathExtension().lastPathComponent
        if let existing = try await coordinator.existingSweep(named: name, text: effective.text) { return existing }
        if let other = try coordinator.sweepStore.sweeps().first(where: { $0.name == name }) {
            throw CLIError("""
                \(stateFolder) already holds sweep \(other.id) (\(name)) from a different text: \(file) changed, or the \
                --set values differ. Rerun with the same file and --set values to continue that sweep, or pass another --state.
                """)
        }
        do {
            return try await coordinator.submit(sweepFileText: effective.text, fileName: url.lastPathComponent,
                                                baseDirectory: url.deletingLastPathComponent().path, name: name)
        } catch let error as CoordinatorError {
            throw CLIError("\(file): \(error)")
        }
    }

    /// The default state folder of `thresher run FILE`: `thresher-runs/NAME`, and with `--set`
    /// values `thresher-runs/NAME-set-XXXXXXXX` (a digest of the arguments in order), so the same
    /// command continues its own sweep and different overrides never meet in one folder.
    static func defaultStateFolder(file: String, overrides: [String]) -> String {
        let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        guard !overrides.isEmpty else { return "thresher-runs/\(name)" }
        var digest = SHA256()
        for argument in overrides { digest.update(Array(argument.utf8) + [0]) }
        return "thresher-runs/\(name)-set-\(digest.hexDigest().prefix(8))"
    }
}
