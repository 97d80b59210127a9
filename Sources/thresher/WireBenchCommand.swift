import ArgumentParser
import Foundation

struct WireBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wire",
        abstract: "Measure the wire codec, zstd and NNG round trips (ThresherNet against bare NNG, same run).",
        discussion: """
        Figures: encode/decode MB/s and messages/s for a Report of 1,000 metric records; zstd ratio \
        and MB/s on that batch; round trips/s for 64 B and 64 KiB over tcp loopback through ThresherNet \
        and through bare NNG calls, and their ratio (ThresherNet time per round trip ÷ bare NNG's); \
        bulk MB/s for 1 MiB chunks. Round-trip figures alternate the two stacks over several rounds \
        and report medians, so a noisy neighbour affects both alike.
        """
    )

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Flag(help: "A short run (CI smoke test): fewer iterations, same figures.")
    var quick = false

    @Option(help: "zstd level for the compression figures (1-19).")
    var zstdLevel: Int32 = 3

    @Option(help: "Rounds of alternating ThresherNet / bare NNG round-trip measurements.")
    var rounds: Int = 11

    func validate() throws {
        guard (1...19).contains(zstdLevel) else { throw ValidationError("--zstd-level must be 1...19, got \(zstdLevel)") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
    }

    func run() async throws {
        let plan = WireBenchmark.Plan(quick: quick, zstdLevel: zstdLevel, rounds: quick ? 3 : rounds)
        let result = try await WireBenchmark(plan: plan).run()
        if json {
            print(result.json())
        } else {
            print(result.table())
        }
    }
}
