import Foundation

/// Watches a coordinator's state folder from outside while a sweep runs, on its own thread: at every
/// observation it adds up the bytes of finished blobs (`blobs/`) and partial uploads (`uploads/`),
/// which is everything the retention budget (`max_bytes`) must cover, and keeps the peak, the
/// number of observations and every observation over the budget.
///
/// Guarantees: `stop()` ends the thread before it returns and the summary covers every observation
/// made; a folder that does not exist yet, or a file deleted while it is listed, counts as absent
/// rather than failing the observation.
final class StorageObserver: @unchecked Sendable {
    // @unchecked: every mutable field is read and written under `lock`.

    /// What the observer saw, when it was stopped.
    struct Summary {
        var observations = 0
        var peakBytes = 0
        /// Observations whose total was over the budget, with the files seen then (at most 10 kept).
        var overBudget: [(bytes: Int, files: [(path: String, bytes: Int)])] = []
        var overBudgetCount = 0
        /// Every blob path ever seen under `blobs/` (to tell whether anything churned).
        var blobsSeen = Set<String>()
    }

    let stateDirectory: String
    let budget: Int?
    let interval: TimeInterval
    private let lock = NSLock()
    private var summary = Summary()
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    /// Starts observing at once; `budget` nil only measures.
    init(stateDirectory: String, budget: Int?, interval: TimeInterval = 0.005) {
        self.stateDirectory = stateDirectory
        self.budget = budget
        self.interval = interval
        Thread.detachNewThread { [self] in
            while !lock.withLock({ stopping }) {
                observe()
                Thread.sleep(forTimeInterval: interval)
            }
            finished.signal()
        }
    }

    /// Takes one observation now (also done by the thread).
    func observe() {
        let blobs = Self.files(under: stateDirectory + "/blobs")
        let held = blobs + Self.files(under: stateDirectory + "/uploads")
        let bytes = held.reduce(0) { $0 + $1.bytes }
        lock.withLock {
            summary.observations += 1
            summary.peakBytes = max(summary.peakBytes, bytes)
            summary.blobsSeen.formUnion(blobs.map(\.path))
            if let budget, bytes > budget {
                summary.overBudgetCount += 1
                if summary.overBudget.count < 10 { summary.overBudget.append((bytes, held)) }
            }
        }
    }

    /// Stops the thread, takes a last observation and returns what was seen.
    func stop() -> Summary {
        let first = lock.withLock { () -> Bool in
            defer { stopping = true }
            return !stopping
        }
        if first { finished.wait() }
        observe()
        return lock.withLock { summary }
    }

    /// Regular files under `root` (recursively) with their sizes; a folder that does not exist yet
    /// or a file deleted while listing is simply not there.
    static func files(under root: String) -> [(path: String, bytes: Int)] {
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        var found: [(String, Int)] = []
        while let relative = enumerator.nextObject() as? String {
            let path = root + "/" + relative
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                  attributes[.type] as? FileAttributeType == .typeRegular,
                  let size = attributes[.size] as? NSNumber else { continue }
            found.append((path, size.intValue))
        }
        return found
    }
}
