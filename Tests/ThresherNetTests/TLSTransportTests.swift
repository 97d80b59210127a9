import Foundation
import XCTest
@testable import ThresherNet

/// `tls+tcp://` with certificates made by `scripts/make-test-certs` (openssl) for each test.
final class TLSTransportTests: XCTestCase {
    private var certificates: TemporaryDirectory?
    private var dir: String { certificates?.path ?? "" }

    override func setUpWithError() throws {
        guard let openssl = Self.which("openssl") else {
            throw XCTSkip("openssl is not installed: skipping tls+tcp tests")
        }
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/make-test-certs").path
        guard FileManager.default.isExecutableFile(atPath: script) else {
            throw XCTSkip("\(script) not found")
        }
        let certificates = try TemporaryDirectory()
        self.certificates = certificates
        try Self.run(script, [certificates.path, "2"])
        // A second, unrelated CA for the negative test.
        try Self.run(openssl, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                               "-subj", "/CN=Other CA", "-days", "2",
                               "-keyout", "\(certificates.path)/other-ca.key", "-out", "\(certificates.path)/other-ca.pem"])
    }

    override func tearDown() {
        certificates?.remove()
    }

    private var serverTLS: TLSConfiguration {
        TLSConfiguration(certificateFile: "\(dir)/server.pem", keyFile: "\(dir)/server.key",
                         caFile: "\(dir)/ca.pem", requirePeerCertificate: true)
    }

    private func clientTLS(caFile: String? = nil, withCertificate: Bool = true, serverName: String? = "localhost") -> TLSConfiguration {
        TLSConfiguration(certificateFile: withCertificate ? "\(dir)/client.pem" : nil,
                         keyFile: withCertificate ? "\(dir)/client.key" : nil,
                         caFile: caFile ?? "\(dir)/ca.pem", serverName: serverName, requirePeerCertificate: true)
    }

    /// The client verifies the server against the URL's host (here an IP address) by default.
    func testMutualTLSRequestReply() async throws {
        let harness = try EchoHarness(listen: ["tls+tcp://127.0.0.1:0"], options: TransportOptions(tls: serverTLS))
        XCTAssertTrue(harness.url.hasPrefix("tls+tcp://127.0.0.1:"))
        XCTAssertNotNil(harness.server.port)

        let client = try RequestClient(dial: harness.url, options: TransportOptions(tls: clientTLS(serverName: nil)))
        for index in 0..<10 {
            let body = payload(client: 9, request: index, size: 10_000)
            let reply = try await client.request(body, timeout: .seconds(10))
            XCTAssertEqual(reply, body)
        }
        client.close()
        await harness.stop()
    }

    func testServerOnlyTLSWhenClientCertificatesAreOptional() async throws {
        var server = serverTLS
        server.requirePeerCertificate = false
        let harness = try EchoHarness(listen: ["tls+tcp://127.0.0.1:0"], options: TransportOptions(tls: server))
        let client = try RequestClient(dial: harness.url, options: TransportOptions(tls: clientTLS(withCertificate: false)))
        let reply = try await client.request([1, 2, 3], timeout: .seconds(10))
        XCTAssertEqual(reply, [1, 2, 3])
        client.close()
        await harness.stop()
    }

    func testClientWithoutCertificateIsRefusedWhenRequired() async throws {
        let harness = try EchoHarness(listen: ["tls+tcp://127.0.0.1:0"], options: TransportOptions(tls: serverTLS))
        let options = TransportOptions(tls: clientTLS(withCertificate: false), reconnectMin: .milliseconds(50))
        let client = try RequestClient(dial: harness.url, options: options)
        do {
            _ = try await client.request([1], timeout: .milliseconds(700))
            XCTFail("server answered a client without a certificate")
        } catch {
            XCTAssertTrue(error.isTimedOut, "\(error)")
        }
        client.close()
        await harness.stop()
    }

    func testClientRejectsServerSignedByAnotherCA() async throws {
        let harness = try EchoHarness(listen: ["tls+tcp://127.0.0.1:0"], options: TransportOptions(tls: serverTLS))
        let options = TransportOptions(tls: clientTLS(caFile: "\(dir)/other-ca.pem"), reconnectMin: .milliseconds(50))
        let client = try RequestClient(dial: harness.url, options: options)
        do {
            _ = try await client.request([1], timeout: .milliseconds(700))
            XCTFail("client trusted a server it cannot verify")
        } catch {
            XCTAssertTrue(error.isTimedOut, "\(error)")
        }
        client.close()
        await harness.stop()
    }

    func testClientRejectsServerWithWrongName() async throws {
        let harness = try EchoHarness(listen: ["tls+tcp://127.0.0.1:0"], options: TransportOptions(tls: serverTLS))
        let options = TransportOptions(tls: clientTLS(serverName: "not-this-server.example"), reconnectMin: .milliseconds(50))
        let client = try RequestClient(dial: harness.url, options: options)
        do {
            _ = try await client.request([1], timeout: .milliseconds(700))
            XCTFail("client accepted a certificate for another name")
        } catch {
            XCTAssertTrue(error.isTimedOut, "\(error)")
        }
        client.close()
        await harness.stop()
    }

    func testConfigurationErrorsSurfaceAtInit() throws {
        XCTAssertThrowsError(try ReplyServer(listen: ["tls+tcp://127.0.0.1:0"], options: TransportOptions())) { error in
            XCTAssertTrue("\(error)".contains("tls"), "\(error)")
        }
        let missing = TLSConfiguration(certificateFile: "\(dir)/nope.pem", keyFile: "\(dir)/nope.key",
                                       caFile: "\(dir)/ca.pem")
        XCTAssertThrowsError(try ReplyServer(listen: ["tls+tcp://127.0.0.1:0"], options: TransportOptions(tls: missing)))
        let noCA = TLSConfiguration(certificateFile: "\(dir)/server.pem", keyFile: "\(dir)/server.key",
                                    requirePeerCertificate: true)
        XCTAssertThrowsError(try ReplyServer(listen: ["tls+tcp://127.0.0.1:0"], options: TransportOptions(tls: noCA)))
    }

    private static func which(_ tool: String) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw XCTSkip("\(executable) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
    }
}
