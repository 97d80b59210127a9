#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A checkpoint a trial program finished writing: `step-<step>.safetensors` in its checkpoint folder.
///
/// Guarantees (at the moment it was looked up): `path` is a regular file, not a symlink, directly
/// in the checkpoint folder; `metadataPath`, when set, is the same for its `.json` sidecar.
public struct TrialCheckpoint: Sendable, Equatable, CustomStringConvertible {
    public var step: Int
    /// Absolute path of the safetensors file.
    public var path: String
    /// Absolute path of the `step-<step>.json` sidecar, when it existed at lookup time.
    public var metadataPath: String?

    public init(step: Int, path: String, metadataPath: String? = nil) {
        self.step = step
        self.path = path
        self.metadataPath = metadataPath
    }

    public var description: String { "checkpoint step \(step) at \(path)" }
}

/// Errors from laying out or pruning a trial folder.
public enum TrialFolderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The trial id cannot be a single, visible path component (empty, `..`, a `/`, a leading `.`, too long…).
    case invalidTrialID(String)
    /// A file system call failed.
    case io(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .invalidTrialID(let id): "trial id '\(id)' is not a safe folder name ([A-Za-z0-9_.-], 1–128 characters, not starting with '.')"
        case let .io(path, code): "\(path): \(String(cString: strerror(code)))"
        }
    }
}

/// The per-trial working folder a worker owns, and the only place a trial program writes to.
///
/// Layout under `root` (= `<base>/<trial id>`):
/// ```
/// metrics.jsonl              THRESHER_METRICS_FILE (created empty at each launch)
/// checkpoints/               THRESHER_CHECKPOINT_DIR
///   step-<N>.safetensors     a checkpoint tied to step N (files starting with "." are ignored)
///   step-<N>.json            its optional metadata sidecar
/// stdout.log, stdout.log.1   the program's stdout, newest bytes last (bounded, see `LogCapture`)
/// stderr.log, stderr.log.1   the same for stderr
/// ```
/// Guarantees: the trial id is validated as one safe path component, so the folder is always
/// directly under `base`; lookups and pruning consider only names of the exact form
/// `step-<decimal>.safetensors` / `.json` that are regular files (never symlinks or folders), so
/// nothing outside the checkpoint folder is ever read or deleted through them. The trial folder
/// and its `checkpoints/` are opened without following symlinks (`openCheckpointDirectory()`), and
/// every lookup, read and delete is relative to that descriptor: a program that replaces either
/// folder with a symlink to elsewhere makes its checkpoints invisible, never reachable.
public struct TrialFolder: Sendable, Equatable {
    /// Absolute path of the folder.
    public let root: String
    public let trialID: String

    public var metricsFile: String { root + "/metrics.jsonl" }
    public var checkpointDirectory: String { root + "/checkpoints" }
    public var stdoutLog: String { root + "/stdout.log" }
    /// The last launch's program, `<pid> <start time>` (see `LeftoverProgram`).
    public var programRecord: String { root + "/program.pid" }
    public var stderrLog: String { root + "/stderr.log" }

    /// The folder for `trialID` under `base` (not created yet: see `create()`). A relative `base` is
    /// taken from the worker's current folder now, so every path handed to the program is absolute
    /// and stays right whatever working folder the program gets.
    public init(base: String, trialID: String) throws(TrialFolderError) {
        guard Self.isSafeComponent(trialID) else { throw .invalidTrialID(trialID) }
        var base = base.hasPrefix("/") ? base : FileManager.default.currentDirectoryPath + "/" + base
        while base.count > 1, base.hasSuffix("/") { base.removeLast() }
        self.root = base == "/" ? "/" + trialID : base + "/" + trialID
        self.trialID = trialID
    }

    /// True for a name that is one visible path component a user would not be surprised by.
    public static func isSafeComponent(_ name: String) -> Bool {
        guard (1...128).contains(name.utf8.count), !name.hasPrefix(".") else { return false }
        return name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
                true
            default:
                false
            }
        }
    }

    /// Creates the folder and its checkpoint folder (keeping what is already there, for a resume)
    /// and truncates the metrics file to empty, so each launch's lines start at line 1.
    public func create() throws(TrialFolderError) {
        for path in [root, checkpointDirectory] {
            if mkdir(path, 0o755) != 0, errno != EEXIST { throw .io(path: path, errno: errno) }
        }
        let fd = open(metricsFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: metricsFile, errno: errno) }
        close(fd)
    }

    /// The step of a checkpoint file name, or nil unless the name is exactly `step-<N>.<ext>` with N
    /// in canonical decimal (no sign, no leading zeros, at most 2⁵³).
    public static func step(fromFileName name: String, extension ext: String = "safetensors") -> Int? {
        let prefix = "step-", suffix = "." + ext
        guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count > prefix.count + suffix.count else { return nil }
        let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
        guard digits.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              digits == "0" || !digits.hasPrefix("0"), digits.count <= 16,
              let step = Int(digits), step <= MetricLineParser.maxStep
        else { return nil }
        return step
    }

    public func checkpointPath(step: Int) -> String { checkpointDirectory + "/step-\(step).safetensors" }
    public func metadataPath(step: Int) -> String { checkpointDirectory + "/step-\(step).json" }

    /// The finished checkpoint for `step`, if its safetensors file is there as a regular file.
    public func checkpoint(step: Int) -> TrialCheckpoint? {
        guard step >= 0, let directory = openCheckpointDirectory() else { return nil }
        defer { close(directory) }
        guard Self.isRegularFile("step-\(step).safetensors", in: directory) else { return nil }
        let hasMeta = Self.isRegularFile("step-\(step).json", in: directory)
        return TrialCheckpoint(step: step, path: checkpointPath(step: step), metadataPath: hasMeta ? metadataPath(step: step) : nil)
    }

    /// `checkpoints/` opened as a folder without following a symlink at the trial folder or at
    /// `checkpoints` itself (the worker's own `base` is trusted); nil when either is a symlink, is
    /// missing or is not a folder. The caller closes the descriptor.
    public func openCheckpointDirectory() -> Int32? {
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard rootFD >= 0 else { return nil }
        defer { close(rootFD) }
        let fd = openat(rootFD, "checkpoints", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        return fd >= 0 ? fd : nil
    }

    /// Every finished checkpoint, by increasing step.
    public func checkpoints() -> [TrialCheckpoint] {
        checkpointFiles().keys.sorted().compactMap { checkpoint(step: $0) }
    }

    /// Which file a checkpoint name points at: a rename into place always gives a new inode, so a
    /// step rewritten by a resumed run is told apart from the file an earlier run left.
    struct FileIdentity: Equatable, Sendable {
        var device: UInt64, inode: UInt64, size: Int64, modifiedSeconds: Int, modifiedNanoseconds: Int
    }

    /// The `step-<N>.safetensors` regular files present now, by step.
    func checkpointFiles() -> [Int: FileIdentity] {
        var files: [Int: FileIdentity] = [:]
        guard let directory = openCheckpointDirectory() else { return files }
        defer { close(directory) }
        for name in Self.names(in: directory) {
            guard let step = Self.step(fromFileName: name) else { continue }
            var info = stat()
            guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            files[step] = FileIdentity(
                device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                modifiedSeconds: Int(info.st_mtim.tv_sec), modifiedNanoseconds: Int(info.st_mtim.tv_nsec))
        }
        return files
    }

    /// Deletes every checkpoint (and sidecar) whose step is not in `keepingSteps` and, when
    /// `throughStep` is given, is at most `throughStep`, as the coordinator releases them; returns
    /// the steps deleted. Hidden files (a program's half-written temporaries) and foreign names are
    /// left alone. A file that vanished meanwhile is not an error.
    ///
    /// `throughStep` is decided together with each deletion, on the names listed here: a running
    /// program may rename a new checkpoint into place at any moment, and a keep-set built from an
    /// earlier listing would not name it.
    @discardableResult
    public func prune(keepingSteps: Set<Int>, throughStep: Int? = nil) throws(TrialFolderError) -> [Int] {
        var deleted = Set<Int>()
        // A missing folder, or one replaced by a symlink, has nothing of this trial's to delete.
        guard let directory = openCheckpointDirectory() else { return [] }
        defer { close(directory) }
        for name in Self.names(in: directory) {
            guard let step = Self.step(fromFileName: name) ?? Self.step(fromFileName: name, extension: "json"),
                  !keepingSteps.contains(step), throughStep.map({ step <= $0 }) ?? true
            else { continue }
            let path = checkpointDirectory + "/" + name
            guard Self.isRegularFile(name, in: directory) else { continue }
            if unlinkat(directory, name, 0) != 0, errno != ENOENT { throw .io(path: path, errno: errno) }
            if name.hasSuffix(".safetensors") { deleted.insert(step) }
        }
        return deleted.sorted()
    }

    /// The names in the open folder `directory` (its descriptor stays open for the caller).
    private static func names(in directory: Int32) -> [String] {
        // A second descriptor of the same folder for the stream (closedir closes it), close-on-exec
        // so a trial program spawned meanwhile does not inherit it (dup would not set that flag).
        let copy = openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard copy >= 0 else { return [] }
        guard let stream = fdopendir(copy) else {
            close(copy)
            return []
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// fstatat without following, so a symlink named like a checkpoint is never followed.
    static func isRegularFile(_ name: String, in directory: Int32) -> Bool {
        var info = stat()
        return fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }
}
