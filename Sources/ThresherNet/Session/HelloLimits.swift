import ThresherWire

/// Bounds on what a `Hello` may claim, checked by `ClusterServer` before it issues a challenge.
///
/// Guarantees: a worker id that passes is 1–`maxWorkerIDBytes` bytes of UTF-8 with no control
/// character (so it is safe to log, to store — SQLite returns text only up to a NUL — and to show
/// in a table); at most `maxCapabilities` capabilities, each 1–`maxCapabilityBytes` bytes, likewise.
public enum HelloLimits {
    public static let maxWorkerIDBytes = 128
    public static let maxCapabilities = 16
    public static let maxCapabilityBytes = 64

    /// Why `hello` is refused, or nil when it is within bounds.
    public static func violation(_ hello: Hello) -> String? {
        if let problem = problem(hello.workerID, limit: maxWorkerIDBytes) { return "the worker id \(problem)" }
        guard hello.capabilities.count <= maxCapabilities else {
            return "\(hello.capabilities.count) capabilities; at most \(maxCapabilities)"
        }
        for capability in hello.capabilities {
            if let problem = problem(capability, limit: maxCapabilityBytes) { return "a capability \(problem)" }
        }
        return nil
    }

    private static func problem(_ text: String, limit: Int) -> String? {
        let bytes = text.utf8
        if bytes.isEmpty { return "is empty" }
        if bytes.count > limit { return "is \(bytes.count) bytes; at most \(limit)" }
        if bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return "holds a control character" }
        return nil
    }
}
