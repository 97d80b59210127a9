import ArgumentParser

@main
struct Thresher: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thresher",
        abstract: "Hyperparameter sweeps across Linux machines over NNG."
    )
}
