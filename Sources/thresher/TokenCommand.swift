import ArgumentParser
import Foundation
import ThresherNet

struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the cluster token that authenticates workers and coordinator.",
        subcommands: [New.self]
    )

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new random cluster token to a file (mode 0600), or print it."
        )

        @Option(name: .shortAndLong, help: "File to write; prints to stdout when omitted.")
        var out: String?

        func run() throws {
            let token = ClusterToken.random()
            guard let out else { print(token); return }
            let url = URL(fileURLWithPath: out)
            guard !FileManager.default.fileExists(atPath: out) else {
                throw ValidationError("\(out) already exists; refusing to overwrite a cluster token")
            }
            guard FileManager.default.createFile(atPath: out, contents: Data((token + "\n").utf8),
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot create \(url.path)")
            }
            print("wrote a new cluster token to \(out)")
        }
    }
}
