import Foundation
import XCTest
import Yams

/// deploy/kubernetes and deploy/container/compose.yaml: they parse as YAML, render with kustomize,
/// match the Kubernetes API schema (kubernetes-validate --strict: unknown keys fail) and the
/// compose-spec JSON schema, name only the image deploy/container/Dockerfile builds, and pass
/// `thresher` only flags it accepts.
final class DeployManifestTests: XCTestCase {
    static let image = "thresher:latest"
    static let kubernetes = ExternalTool.deployFolder.appendingPathComponent("kubernetes")
    static let compose = ExternalTool.deployFolder.appendingPathComponent("container/compose.yaml")

    func testEveryManifestParsesAsYAMLMappings() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.kubernetes.path)
            .filter { $0.hasSuffix(".yaml") }.map { Self.kubernetes.appendingPathComponent($0) } + [Self.compose]
        XCTAssertGreaterThanOrEqual(files.count, 8)
        for file in files {
            let documents = try Yams.load_all(yaml: String(contentsOf: file, encoding: .utf8)).map { $0 }
            XCTAssertFalse(documents.isEmpty, file.path)
            for document in documents { XCTAssertTrue(document is [String: Any], "\(file.path): a document is not a mapping") }
        }
    }

    /// `kubectl kustomize` output, as documents.
    private func rendered() throws -> (text: String, documents: [[String: Any]]) {
        let kubectl = try ExternalTool.find("kubectl", installedBy: "kubectl renders the kustomization offline")
        let output = try kubectl.check(["kustomize", Self.kubernetes.path])
        let documents = try Yams.load_all(yaml: output.stdout).compactMap { $0 as? [String: Any] }
        return (output.stdout, documents)
    }

    func testKubernetesRendersTheSixKindsAndMatchesTheAPISchema() throws {
        let (text, documents) = try rendered()
        XCTAssertEqual(Set(documents.compactMap { $0["kind"] as? String }),
                       ["Namespace", "ConfigMap", "Secret", "Service", "Deployment", "StatefulSet"])
        let validate = try ExternalTool.venv("kubernetes-validate")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rendered-\(UUID().uuidString).yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let output = try validate.run(["--strict", file.path])
        XCTAssertEqual(output.status, 0, output.stdout + output.stderr)
        XCTAssertEqual(output.stdout.components(separatedBy: " passed for resource ").count - 1, documents.count,
                       "every resource should pass: \(output.stdout)\(output.stderr)")
        XCTAssertFalse((output.stdout + output.stderr).contains("WARN"), output.stdout + output.stderr)
    }

    func testKubernetesWiring() throws {
        let documents = try rendered().documents
        func resource(_ kind: String) throws -> [String: Any] { try XCTUnwrap(documents.first { $0["kind"] as? String == kind }, kind) }
        let statefulSet = try resource("StatefulSet"), service = try resource("Service"), secret = try resource("Secret")
        XCTAssertEqual(path(statefulSet, "spec", "replicas") as? Int, 1, "exactly one coordinator")
        XCTAssertNotNil((path(statefulSet, "spec", "volumeClaimTemplates") as? [Any])?.first, "the coordinator's state needs a PersistentVolumeClaim")
        XCTAssertEqual(path(statefulSet, "spec", "serviceName") as? String, path(service, "metadata", "name") as? String)
        let port = try XCTUnwrap((path(service, "spec", "ports") as? [[String: Any]])?.first?["port"] as? Int)
        let args = containerArgs(documents)
        XCTAssertTrue(args["coordinator"]?.contains("tcp://0.0.0.0:\(port)") == true, "\(args)")
        let serviceName = try XCTUnwrap(path(service, "metadata", "name") as? String)
        XCTAssertTrue(args["worker"]?.contains("tcp://\(serviceName):\(port)") == true, "\(args)")
        XCTAssertNotNil(path(secret, "stringData", "token"))
    }

    func testImagesAreTheOneTheDockerfileBuilds() throws {
        let dockerfile = try String(contentsOf: ExternalTool.deployFolder.appendingPathComponent("container/Dockerfile"), encoding: .utf8)
        XCTAssertTrue(dockerfile.contains("-t \(Self.image) ."), "the Dockerfile's build command should tag \(Self.image)")
        var images: [String] = []
        for document in try rendered().documents {
            for container in containers(document) { images.append(container["image"] as? String ?? "(none)") }
        }
        XCTAssertEqual(images.count, 2)
        let compose = try XCTUnwrap(try Yams.load(yaml: String(contentsOf: Self.compose, encoding: .utf8)) as? [String: Any])
        let services = try XCTUnwrap(compose["services"] as? [String: [String: Any]])
        images += services.values.map { $0["image"] as? String ?? "(none)" }
        XCTAssertEqual(Set(images), [Self.image])
        let build = try XCTUnwrap(services["coordinator"]?["build"] as? [String: Any])
        let context = Self.compose.deletingLastPathComponent().appendingPathComponent(try XCTUnwrap(build["context"] as? String))
        XCTAssertEqual(context.standardizedFileURL.path, ThresherProcess.repositoryRoot.standardizedFileURL.path)
        XCTAssertTrue(FileManager.default.fileExists(atPath: context.appendingPathComponent(try XCTUnwrap(build["dockerfile"] as? String)).path))
    }

    func testComposeMatchesTheComposeSpecSchema() throws {
        let python = try ExternalTool.venv("python")
        let lib = ExternalTool.venvFolder.appendingPathComponent("lib")
        let schema = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: lib.path)
            .map { lib.appendingPathComponent("\($0)/site-packages/compose/config/compose_spec.json") }
            .first { FileManager.default.fileExists(atPath: $0.path) },
            "scripts/setup installs docker-compose 1.29.2's compose_spec.json into .venv-deploy")
        // The schema is JSON Schema 2019-09 and forbids unknown keys (additionalProperties: false).
        let check = """
            import json, sys, yaml, jsonschema
            schema = json.load(open(sys.argv[1]))
            errors = list(jsonschema.Draft201909Validator(schema).iter_errors(yaml.safe_load(open(sys.argv[2]))))
            for e in errors: print("/".join(map(str, e.absolute_path)), e.message)
            sys.exit(1 if errors else 0)
            """
        let output = try python.run(["-c", check, schema.path, Self.compose.path])
        XCTAssertEqual(output.status, 0, output.stdout + output.stderr)
        // The schema accepts any string as a volume source: check the bind-mounted files exist.
        let compose = try XCTUnwrap(try Yams.load(yaml: String(contentsOf: Self.compose, encoding: .utf8)) as? [String: Any])
        let services = try XCTUnwrap(compose["services"] as? [String: [String: Any]])
        for volume in services.values.flatMap({ $0["volumes"] as? [String] ?? [] }) where volume.hasPrefix(".") {
            let source = String(volume.split(separator: ":")[0])
            XCTAssertTrue(FileManager.default.fileExists(atPath: Self.compose.deletingLastPathComponent().appendingPathComponent(source).path), volume)
        }
        XCTAssertEqual(services.count, 2)
        XCTAssertEqual(path(services["worker"] ?? [:], "deploy", "replicas") as? Int, 3, "three workers")
    }

    /// Every `thresher` command line in the manifests uses flags the real binary lists in its help.
    func testFlagsAreOnesThresherAccepts() throws {
        var commands = containerArgs(try rendered().documents)
        let compose = try XCTUnwrap(try Yams.load(yaml: String(contentsOf: Self.compose, encoding: .utf8)) as? [String: Any])
        for service in (compose["services"] as? [String: [String: Any]] ?? [:]).values {
            if let command = service["command"] as? [String], let first = command.first { commands["compose " + first] = command }
        }
        XCTAssertEqual(commands.count, 4, "\(commands.keys)")
        for command in commands.values {
            let help = try ThresherProcess.run([command[0], "--help"])
            XCTAssertEqual(help.status, 0, "thresher \(command[0]) --help")
            for flag in command.dropFirst() where flag.hasPrefix("--") {
                XCTAssertTrue(help.stdout.contains(flag + " "), "thresher \(command[0]) does not list \(flag)")
            }
        }
    }

    func testTheDemoSweepIsValidAndThePlaceholderTokenIsRefused() throws {
        let sweep = try ThresherProcess.run(["sweep", "validate", Self.kubernetes.appendingPathComponent("sweep.yaml").path])
        XCTAssertEqual(sweep.status, 0, sweep.stderr)
        XCTAssertTrue(sweep.stdout.contains("trials: 12"), sweep.stdout)
        // A forgotten placeholder must stop Thresher, not become a known token.
        let secret = try XCTUnwrap(try rendered().documents.first { $0["kind"] as? String == "Secret" })
        let placeholder = try XCTUnwrap(path(secret, "stringData", "token") as? String)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("placeholder-\(UUID().uuidString)")
        XCTAssertTrue(FileManager.default.createFile(atPath: file.path, contents: Data(placeholder.utf8), attributes: [.posixPermissions: 0o600]))
        defer { try? FileManager.default.removeItem(at: file) }
        let worker = try ThresherProcess.run(["worker", "--connect", "tcp://127.0.0.1:1", "--token-file", file.path])
        XCTAssertEqual(worker.status, 2, worker.stderr)
        XCTAssertTrue(worker.stderr.contains("at least 16 are required"), worker.stderr)
    }

    // MARK: - Reading rendered resources

    private func path(_ object: [String: Any], _ keys: String...) -> Any? {
        var current: Any? = object
        for key in keys { current = (current as? [String: Any])?[key] }
        return current
    }

    private func containers(_ document: [String: Any]) -> [[String: Any]] {
        path(document, "spec", "template", "spec", "containers") as? [[String: Any]] ?? []
    }

    /// The `args` of each container, keyed by the thresher subcommand (its first argument).
    private func containerArgs(_ documents: [[String: Any]]) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for document in documents {
            for container in containers(document) {
                if let args = container["args"] as? [String], let first = args.first { result[first] = args }
            }
        }
        return result
    }
}
