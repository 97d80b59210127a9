import ArgumentParser
import Foundation
import ThresherSweep

/// The repeatable `--set KEY=VALUE` option, shared by every command that reads a sweep file
/// (`thresher run`, `thresher sweep validate|expand|simulate`, and any command that submits one):
/// `@OptionGroup var overrides: SweepOverrideOptions`.
struct SweepOverrideOptions: ParsableArguments {
    @Option(name: .customLong("set"), parsing: .singleValue,
            help: ArgumentHelp(
                "Override a key of the sweep file (repeatable): a dotted KEY and a YAML VALUE.",
                discussion: """
                e.g. --set thresher.engine.epochs=2 --set parameters.lr.values=[0.01,0.001] \
                --set thresher.engine.data=../claims. The overridden file is validated like the file \
                itself. Paths given here for thresher.engine.data, embeddings and cache_dir are relative \
                to the current folder (paths in the file: to the file's folder).
                """,
                valueName: "KEY=VALUE"))
    var values: [String] = []
}
