import Foundation
import XCTest

/// Hosts in network namespaces on one bridge (10.200.0.0/24, see ../shared/PLATFORM.md): host i
/// is namespace `thr<tag>n<i>` at 10.200.0.(20 + i). The bridge has no address unless
/// `reachFromHere()` gives it one, so the hosts reach only each other. Faults are iptables rules inside a host's own
/// namespace, so nothing outside the namespaces the test made is touched.
///
/// Guarantees: `init` throws `XCTSkip` (with the reason) where `ip netns add` or iptables is not
/// permitted; every namespace and the bridge are removed at the test's teardown, also on failure
/// (deleting a namespace removes its veth and its iptables rules with it).
final class NetnsHosts {
    let tag: String
    let count: Int
    private(set) var namespaces: [String] = []
    private(set) var bridge = ""

    init(count: Int, for testCase: XCTestCase) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") else { throw XCTSkip("netns: no /usr/sbin/ip (iproute2)") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables") else { throw XCTSkip("netns: no /usr/sbin/iptables") }
        self.count = count
        tag = String(getpid() % 10_000) + "x" + String(Self.nextInstance())
        testCase.addTeardownBlock { [self] in removeAll() }
        guard Self.run("/usr/sbin/ip", ["netns", "add", name(1)]) == 0 else {
            throw XCTSkip("netns: `ip netns add` is not permitted here (needs root or CAP_SYS_ADMIN)")
        }
        namespaces = [name(1)]
        guard Self.run("/usr/sbin/ip", ["netns", "exec", name(1), "iptables", "-L", "-n"]) == 0 else {
            throw XCTSkip("netns: iptables does not work inside a network namespace here")
        }
        bridge = "thrb\(tag)"
        try must(["link", "add", bridge, "type", "bridge"])
        try must(["link", "set", bridge, "up"])
        for i in 1...count {
            if i > 1 { try must(["netns", "add", name(i)]); namespaces.append(name(i)) }
            let veth = "thv\(tag)n\(i)"
            try must(["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", name(i)])
            try must(["link", "set", veth, "master", bridge, "up"])
            try must(["-n", name(i), "addr", "add", address(i) + "/24", "dev", "eth0"])
            try must(["-n", name(i), "link", "set", "eth0", "up"])
            try must(["-n", name(i), "link", "set", "lo", "up"])
        }
    }

    /// Gives the bridge 10.200.0.2/24, so this (the root) namespace reaches the hosts, e.g. a
    /// `FaultProxy` here forwarding to a coordinator on host 1.
    func reachFromHere() throws {
        try must(["addr", "add", "10.200.0.2/24", "dev", bridge])
    }

    /// The namespace of host `i` (1-based).
    func name(_ i: Int) -> String { "thr\(tag)n\(i)" }
    /// The address of host `i`.
    func address(_ i: Int) -> String { "10.200.0.\(20 + i)" }

    /// `ip netns exec <host i> PROGRAM ARGUMENTS` as a process (not started).
    func process(on i: Int, _ executable: String, _ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", name(i), executable] + arguments
        return process
    }

    /// Drops every packet in and out of host `i`'s eth0 (a cable pulled; loopback untouched).
    func partition(_ i: Int) throws {
        try iptables(i, ["-A", "INPUT", "-i", "eth0", "-j", "DROP"])
        try iptables(i, ["-A", "OUTPUT", "-o", "eth0", "-j", "DROP"])
    }

    /// Drops each packet in and out of host `i`'s eth0 with probability `probability`.
    func loss(_ i: Int, probability: Double) throws {
        for (chain, side) in [("INPUT", "-i"), ("OUTPUT", "-o")] {
            try iptables(i, ["-A", chain, side, "eth0", "-m", "statistic", "--mode", "random",
                             "--probability", String(probability), "-j", "DROP"])
        }
    }

    /// Removes every fault rule from host `i`.
    func heal(_ i: Int) throws {
        try iptables(i, ["-F", "INPUT"])
        try iptables(i, ["-F", "OUTPUT"])
    }

    /// Packets host `i`'s fault rules dropped so far (both chains).
    func droppedPackets(_ i: Int) -> Int {
        let process = self.process(on: i, "/usr/sbin/iptables", ["-L", "-n", "-v", "-x"])
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return 0 }
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.split(separator: "\n").filter { $0.contains("DROP") && !$0.hasPrefix("Chain") }
            .compactMap { Int($0.split(separator: " ").first ?? "") }.reduce(0, +)
    }

    private func iptables(_ i: Int, _ arguments: [String]) throws {
        let status = Self.run("/usr/sbin/ip", ["netns", "exec", name(i), "iptables"] + arguments)
        guard status == 0 else { throw NetnsError.failed("iptables \(arguments.joined(separator: " ")) in \(name(i)): status \(status)") }
    }

    private func must(_ arguments: [String]) throws {
        let status = Self.run("/usr/sbin/ip", arguments)
        guard status == 0 else { throw NetnsError.failed("ip \(arguments.joined(separator: " ")): status \(status)") }
    }

    private func removeAll() {
        for ns in namespaces { _ = Self.run("/usr/sbin/ip", ["netns", "del", ns]) }
        if !bridge.isEmpty { _ = Self.run("/usr/sbin/ip", ["link", "del", bridge]) }
        namespaces = []
        bridge = ""
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    enum NetnsError: Error { case failed(String) }

    /// Namespace names must differ between the tests of one process (and stay short: a link name
    /// has at most 15 bytes), so they carry the process id and a count.
    private static let counter = Counter()
    private static func nextInstance() -> Int { counter.next() }

    private final class Counter: @unchecked Sendable {
        // @unchecked: `value` is only touched under `lock`.
        private let lock = NSLock()
        private var value = 0
        func next() -> Int { lock.withLock { value += 1; return value } }
    }
}
