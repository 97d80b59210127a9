import ArgumentParser
import Foundation
import ThresherCoordinator
import ThresherStore
import ThresherWire

/// A coordinator's state folder opened read-only, beside a running coordinator or after it ended.
struct LocalState {
    let folder: String
    let store: SweepStore

    init(_ folder: String) throws {
        self.folder = folder
        do { store = try SweepStore(readingAt: (folder as NSString).appendingPathComponent("thresher.sqlite")) } catch {
            throw CLIError("--state \(folder): \(error)")
        }
    }

    /// A sweep by id or by name (the newest of that name).
    func sweep(_ reference: String) throws -> ThresherStore.Sweep {
        if let sweep = try StatusDocument.resolve(reference, in: store) { return sweep }
        let all = try store.sweeps()
        throw CLIError("no sweep \(reference) in \(folder); there are: \(all.map { "\($0.id) \($0.name)" }.joined(separator: ", "))")
    }
}
