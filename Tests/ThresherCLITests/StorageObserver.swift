import Foundation

/// Watches a coordinator's state folder from outside while a sweep runs, on its own thread: at every
/// observation it adds up the bytes of finished blobs (`blobs/`) and partial uploads (`uploads/`),
/// which is everything the retention budget (`max_bytes`) must cover, and keeps the peak, the
/// number of observations and every observation over the budget.
///
/// Guarantees: `stop()` ends the thread before it returns and the summary covers every observation
/// made; a folder that does not exist yet, or a file deleted while it is listed, counts as absent
/// rather than failing the observation.
///
/// **No torn reads.** Listing `blobs/` and then `uploads/` takes time, and the coordinator changes
/// both meanwhile: a blob evicted just after `blobs/` was listed and an upload begun just before
/// `uploads/` was would be added together although they never coexisted (the soak saw exactly
/// that: 14,336 bytes "held" under a 12,288-byte budget). So an observation is two listings in a
/// row that found the same files with the same sizes: every file in it was present at both
/// listings, hence all at once at the moment between them. Listings that keep changing are
/// retried a few times, then counted in `unsettled` and not used.
final class StorageObserver: @unchecked Sendable {
    // @unchecked: every mutable field is read and written under `lock`.

    /// What the observer saw, when it was stopped.
    struct Summary {
        var observations = 0
        var peakBytes = 0
        /// Observations whose total was over the budget, with the files seen then (at most 10 kept).
        var overBudget: [(bytes: Int, files: [(path: String, bytes: Int)])] = []
        var overBudgetCount = 0
        /// Observations given up because five listings in a row all differed from the one before.
        var unsettled = 0
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
        var previous = listing()
        var settled: [(path: String, bytes: Int)]?
        for _ in 0..<5 {
            let next = listing()
            if next.elementsEqual(previous, by: { $0.path == $1.path && $0.bytes == $1.bytes }) { settled = next; break }
            previous = next
        }
        guard let held = settled else {
            lock.withLock { summary.unsettled += 1 }
            return
        }
        let blobs = held.filter { $0.path.hasPrefix(stateDirectory + "/blobs/") }
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

    /// Blobs and partial uploads as one sorted listing.
    private func listing() -> [(path: String, bytes: Int)] {
        (Self.files(under: stateDirectory + "/blobs") + Self.files(under: stateDirectory + "/uploads")).sorted { $0.path < $1.path }
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
