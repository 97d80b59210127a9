import Foundation
import ThresherCoordinator

/// `--metrics-listen HOST:PORT` of `thresher coordinator` and `thresher run`: parsed before
/// anything starts, bound once the coordinator serves; every problem is a `CLIError` naming the
/// flag (exit 2).
enum MetricsFlag {
    static let help = "Serve Prometheus metrics over HTTP at HOST:PORT/metrics (127.0.0.1:9464, [::1]:9464; port 0 picks one)."

    static func parse(_ text: String?) throws -> MetricsListenAddress? {
        guard let text else { return nil }
        do { return try MetricsListenAddress.parse(text) } catch {
            throw CLIError("--metrics-listen \(error)")
        }
    }

    /// Binds the endpoint and prints where it listens (tests read this line for the port).
    static func start(_ address: MetricsListenAddress?, server: CoordinatorServer, startTime: Date) throws -> MetricsEndpoint? {
        guard let address else { return nil }
        let endpoint: MetricsEndpoint
        do { endpoint = try MetricsEndpoint(address: address, server: server, startTime: startTime) } catch {
            throw CLIError("--metrics-listen \(error)")
        }
        StandardError.write(["metrics on http://\(endpoint.boundAddress)/metrics"])
        return endpoint
    }
}
