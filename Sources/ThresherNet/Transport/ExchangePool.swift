import Synchronization

/// Reuses `Exchange`s (one REQ context + aio each) across requests, so a request costs no
/// context or aio allocation once the pool has warmed up to the peak concurrency.
///
/// Guarantees:
/// - An exchange is handed out to one task at a time, and only after its previous run is
///   quiescent (every NNG callback and cancel handler done with it).
/// - After `close()`, `checkout()` fails with `NNG_ECLOSED`; idle exchanges are retired at once,
///   busy ones when `shutdown()` runs.
/// - `shutdown()` waits until no NNG callback touches any exchange, then drops them all. The
///   owner calls it exactly once, from its `deinit` — never on an NNG thread.
///
/// Exchanges refer back to the pool (to return themselves); `shutdown()` breaks that cycle.
final class ExchangePool: Sendable {
    private struct State {
        var idle: [Exchange] = []
        var all: [ObjectIdentifier: Exchange] = [:]
        var closed = false
    }

    private let socket: SocketHandle
    private let label: String
    private let state = Mutex(State())

    init(socket: SocketHandle, label: String) {
        self.socket = socket
        self.label = label
    }

    /// An exchange for one run; it comes back by itself when the run is quiescent.
    func checkout() throws(NetError) -> Exchange {
        let reused: Exchange?? = state.withLock { state in
            guard !state.closed else { return .none }
            return .some(state.idle.popLast())
        }
        switch reused {
        case .none:
            throw NetError.closed(label)
        case .some(.some(let exchange)):
            return exchange
        case .some(.none):
            let exchange = try Exchange(socket: socket, label: label) { [self] exchange in
                self.checkin(exchange)
            }
            let accepted = state.withLock { state in
                guard !state.closed else { return false }
                state.all[ObjectIdentifier(exchange)] = exchange
                return true
            }
            guard accepted else {
                exchange.retire()
                throw NetError.closed(label)
            }
            return exchange
        }
    }

    private func checkin(_ exchange: Exchange) {
        state.withLock { state in
            if !state.closed { state.idle.append(exchange) }
        }
    }

    /// Refuses further checkouts and retires the idle exchanges.
    func close() {
        let idle = state.withLock { state in
            state.closed = true
            defer { state.idle.removeAll() }
            return state.idle
        }
        for exchange in idle { exchange.retire() }
    }

    /// Waits for every exchange's callbacks to finish and drops them all.
    func shutdown() {
        close()
        let all = state.withLock { state in
            defer { state.all.removeAll() }
            return Array(state.all.values)
        }
        for exchange in all { exchange.retire() }
    }
}
