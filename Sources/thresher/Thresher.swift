import ArgumentParser
import ThresherWire

@main
struct Thresher: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thresher",
        abstract: "Hyperparameter sweeps across Linux machines over NNG.",
        version: ThresherRelease.description,
        subcommands: [RunCommand.self, CoordinatorCommand.self, WorkerCommand.self, SubmitCommand.self, StatusCommand.self, StopCommand.self, ExportCommand.self, FetchCommand.self, ReportCommand.self, Sweep.self, Train.self, Bench.self, Token.self]
    )
}

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Thresher's components and print the figures.",
        subcommands: [WireBench.self, SweepBench.self, EngineBench.self, ClusterBench.self]
    )
}
