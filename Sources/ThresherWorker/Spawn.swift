#if canImport(Glibc)
import Glibc
#endif

/// Why a trial program could not be started.
public enum TrialProcessError: Error, Sendable, Equatable, CustomStringConvertible {
    /// argv was empty.
    case emptyCommand
    /// An argument or environment entry holds a NUL byte, which no C string can carry.
    case nulByte(String)
    /// argv[0] has no `/` and is not an executable file in any folder of `PATH`.
    case executableNotFound(String)
    /// posix_spawn (or a pipe it needed) failed; `errno` says why (ENOENT, EACCES, ENOEXEC…).
    case spawnFailed(executable: String, errno: Int32)
    /// The trial folder could not be prepared.
    case folder(TrialFolderError)

    public var description: String {
        switch self {
        case .emptyCommand: "the trial command is empty"
        case .nulByte(let text): "a NUL byte in '\(text.replacingNUL())'"
        case .executableNotFound(let name): "'\(name)' was not found in PATH"
        case let .spawnFailed(executable, code): "cannot start '\(executable)': \(String(cString: strerror(code)))"
        case .folder(let error): error.description
        }
    }
}

extension String {
    fileprivate func replacingNUL() -> String { split(separator: "\0", omittingEmptySubsequences: false).joined(separator: "\\0") }
}

/// The pieces of `posix_spawn` a trial needs, kept apart from the actor that follows the trial.
enum Spawn {
    /// Finds argv[0] the way `execvp` would, but in the *child's* PATH (the environment the trial
    /// gets), falling back to the worker's PATH and then `/usr/local/bin:/usr/bin:/bin`.
    /// A name with a `/` is used as written (relative to the child's working folder).
    static func resolve(_ name: String, environment: [String: String]) throws(TrialProcessError) -> String {
        if name.contains("/") { return name }
        let searchPath = environment["PATH"] ?? getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in searchPath.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (folder.isEmpty ? "." : String(folder)) + "/" + name
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        throw .executableNotFound(name)
    }

    /// Starts `executable` with `argv` and `environment` as the leader of a new process group.
    ///
    /// Why each setting: a new group (POSIX_SPAWN_SETPGROUP, pgid = pid) lets one `killpg` stop the
    /// program and everything it started; an empty signal mask and default dispositions for every
    /// signal (the worker's runtime may block or ignore some, e.g. SIGPIPE) give the program the
    /// plain start a shell would; stdin is /dev/null so a program waiting for input fails fast;
    /// every descriptor above 2 is closed so the worker's sockets and files never leak into it.
    static func start(
        executable: String, argv: [String], environment: [String], directory: String?,
        stdout: Int32, stderr: Int32
    ) throws(TrialProcessError) -> pid_t {
        for text in argv + environment + [executable] + (directory.map { [$0] } ?? []) where text.contains("\0") {
            throw .nulByte(text)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        if let directory {
            guard let addChdir = GNU.addChdir() else { throw .spawnFailed(executable: executable, errno: ENOSYS) }
            _ = addChdir(&actions, directory)
        }
        // Without closefrom (glibc < 2.34) descriptors still close on exec when opened with O_CLOEXEC,
        // as Swift's and this module's are.
        if let addClosefrom = GNU.addClosefrom() { _ = addClosefrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        let flags = Int32(POSIX_SPAWN_SETPGROUP) | Int32(POSIX_SPAWN_SETSIGMASK) | Int32(POSIX_SPAWN_SETSIGDEF)
        posix_spawnattr_setflags(&attributes, Int16(flags))

        var pid: pid_t = 0
        let code = withCStrings(argv) { argvPointer in
            withCStrings(environment) { environmentPointer in
                guard let argvPointer, let environmentPointer else { return EINVAL }
                return posix_spawn(&pid, executable, &actions, &attributes, argvPointer, environmentPointer)
            }
        }
        guard code == 0 else { throw .spawnFailed(executable: executable, errno: code) }
        return pid
    }

    /// A NULL-terminated array of C strings alive for the duration of `body` (never nil in
    /// practice: the array always holds at least the terminating NULL).
    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>?) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    /// A pipe whose both ends close on exec (the child gets its end through dup2, which clears the flag).
    static func pipe() throws(TrialProcessError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        // pipe2 sets close-on-exec atomically; pipe + fcntl could leak an end into a program
        // another thread spawns in between.
        guard let pipe2 = GNU.pipe2() else { throw .spawnFailed(executable: "pipe2", errno: ENOSYS) }
        guard pipe2(&fds, O_CLOEXEC) == 0 else { throw .spawnFailed(executable: "pipe", errno: errno) }
        return (fds[0], fds[1])
    }

    /// GNU extensions of glibc that the Glibc module hides (it is imported without _GNU_SOURCE),
    /// looked up by name at run time; nil where the C library lacks them.
    private enum GNU {
        typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
        typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

        static func addChdir() -> AddChdir? { symbol("posix_spawn_file_actions_addchdir_np") }
        static func addClosefrom() -> AddClosefrom? { symbol("posix_spawn_file_actions_addclosefrom_np") }
        static func pipe2() -> Pipe2? { symbol("pipe2") }

        private static func symbol<F>(_ name: String) -> F? {
            // A null handle is RTLD_DEFAULT: the symbol as the program's own libraries resolve it.
            guard let address = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
            return unsafeBitCast(address, to: F.self)
        }
    }

    /// How a reaped process ended, decoded from a `waitpid` status word (the W* macros are not
    /// visible from Swift, so their arithmetic is spelled out).
    static func termination(_ status: Int32) -> TerminationStatus {
        let signal = status & 0x7F
        if signal == 0 { return .exited((status >> 8) & 0xFF) }
        return .signaled(signal)
    }
}
