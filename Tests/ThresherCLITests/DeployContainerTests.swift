import Foundation
import XCTest

/// deploy/container/Dockerfile, checked without Docker (no daemon, no network here): the builder is
/// the official Swift image of the toolchain this repository builds with, the runtime is Debian 12
/// slim, every runtime package it installs exists in Debian 12, and together with libc6 they
/// provide every shared library `ldd` finds in the built binary outside the Swift runtime (which
/// `--static-swift-stdlib` puts in the binary).
final class DeployContainerTests: XCTestCase {
    static let dockerfile = ExternalTool.deployFolder.appendingPathComponent("container/Dockerfile")

    private func dockerfileText() throws -> String { try String(contentsOf: Self.dockerfile, encoding: .utf8) }

    /// The packages of the first `apt-get install` after `FROM image` (continuation lines joined).
    private func installedPackages(afterFrom image: String) throws -> [String] {
        let text = try dockerfileText().replacingOccurrences(of: "\\\n", with: " ")
        let stage = try XCTUnwrap(text.components(separatedBy: "\nFROM ").first { $0.hasPrefix(image) }, "no stage FROM \(image)")
        let install = try XCTUnwrap(stage.split(separator: "\n").first { $0.contains("apt-get install") }, "no apt-get install after FROM \(image)")
        let words = install.split(separator: " ").map(String.init)
        let start = try XCTUnwrap(words.firstIndex(of: "--no-install-recommends")) + 1
        return Array(words[start...].prefix { $0 != "&&" })
    }

    func testBaseImagesAreSwiftOfThisToolchainAndDebian12Slim() throws {
        let text = try dockerfileText()
        let swift = try ExternalTool.find("swift", installedBy: "the Swift toolchain")
        let version = try swift.check(["--version"]).stdout
        // "Swift version 6.3.1 (swift-6.3.1-RELEASE)" -> "6.3"
        let numbers = try XCTUnwrap(version.split(separator: " ").drop { $0 != "version" }.dropFirst().first)
        let majorMinor = numbers.split(separator: ".").prefix(2).joined(separator: ".")
        XCTAssertTrue(text.contains("ARG SWIFT_IMAGE=swift:\(majorMinor)-bookworm\n"), "the builder should be swift:\(majorMinor)-bookworm")
        XCTAssertTrue(text.contains("FROM ${SWIFT_IMAGE} AS builder\n"))
        XCTAssertTrue(text.contains("\nFROM debian:bookworm-slim\n"))
        XCTAssertTrue(text.contains("--static-swift-stdlib"), "the runtime stage has no Swift runtime: it must be linked in")
        XCTAssertTrue(text.contains("\nUSER 10001:10001\n"), "the image runs as the non-root uid the Kubernetes manifests name")
    }

    /// The builder installs the -dev packages scripts/setup installs for the libraries we link.
    func testBuilderPackagesAreTheSetupScriptsDevPackages() throws {
        let builder = try installedPackages(afterFrom: "${SWIFT_IMAGE} AS builder")
        let setup = try String(contentsOf: ThresherProcess.repositoryRoot.appendingPathComponent("scripts/setup"), encoding: .utf8)
        let line = try XCTUnwrap(setup.split(separator: "\n").first { $0.hasPrefix("packages=(") })
        let setupPackages = line.dropFirst("packages=(".count).dropLast().split(separator: " ").map(String.init)
        let devPackages = setupPackages.filter { $0.hasSuffix("-dev") } + ["pkg-config"]
        XCTAssertEqual(Set(builder), Set(devPackages))
    }

    func testRuntimePackagesExistInDebian12AndProvideEveryLinkedLibrary() throws {
        let osRelease = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        guard osRelease.contains("VERSION_ID=\"12\"") else {
            throw XCTSkip("this machine is not Debian 12, so apt-cache here does not answer for bookworm")
        }
        let aptCache = try ExternalTool.find("apt-cache", installedBy: "apt")
        let dpkg = try ExternalTool.find("dpkg", installedBy: "dpkg")
        let ldd = try ExternalTool.find("ldd", installedBy: "libc-bin")
        let runtime = try installedPackages(afterFrom: "debian:bookworm-slim")
        XCTAssertFalse(runtime.isEmpty)

        guard try aptCache.run(["show", "--no-all-versions", "libc6"]).status == 0 else {
            throw XCTSkip("apt's package lists are empty (apt-cache show libc6 fails): run apt-get update")
        }
        // One apt-cache call for all (each call reads the whole package index).
        let show = try aptCache.run(["show", "--no-all-versions"] + runtime + ["libc6"])  // libc6 is in every Debian image
        XCTAssertEqual(show.status, 0, "a runtime package is not in Debian 12: \(show.stderr)")
        for package in runtime + ["libc6"] {
            XCTAssertTrue(show.stdout.contains("Package: \(package)\n"), "apt-cache show does not know \(package)")
        }
        var provided: Set<String> = []
        for package in runtime + ["libc6"] {
            let files = try dpkg.run(["-L", package])
            guard files.status == 0 else { continue }  // not installed here: its files cannot be listed
            for file in files.stdout.split(separator: "\n") {
                provided.insert(String(file.split(separator: "/").last ?? ""))
            }
        }

        let binary = try ThresherProcess.executable()
        let linked = try ldd.check([binary.path]).stdout.split(separator: "\n").compactMap { line -> (name: String, path: String)? in
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 3, parts[1] == "=>" else { return nil }
            return (String(parts[0]), String(parts[2]))
        }
        let swiftRuntime = linked.filter { $0.path.contains("/swift/") }
        let system = linked.filter { !$0.path.contains("/swift/") }
        XCTAssertFalse(swiftRuntime.isEmpty, "a debug build links the Swift runtime dynamically; ldd found none")
        XCTAssertGreaterThanOrEqual(system.count, 8, "\(system)")
        let missing = system.map(\.name).filter { !provided.contains($0) }
        XCTAssertEqual(missing, [], "no runtime package in the Dockerfile provides \(missing)")
    }
}
