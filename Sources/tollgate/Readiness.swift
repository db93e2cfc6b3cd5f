import Synchronization

/// Which of `serve`'s listeners have bound their address. `serve` says it serves only once every listener is
/// bound, so a port that is taken ends it before anything claims otherwise (and, later, a service manager's
/// READY can be sent from the same place).
final class Readiness: Sendable {
    /// `serve`'s listeners.
    enum Listener: String, Sendable, CaseIterable {
        case pbx, http
    }

    private let ports = Mutex<[Listener: Int]>([:])
    private let onReady: @Sendable ([Listener: Int]) -> Void

    /// `onReady` runs once, with the bound port of every listener, when the last of them binds.
    init(onReady: @escaping @Sendable ([Listener: Int]) -> Void) {
        self.onReady = onReady
    }

    func bound(_ listener: Listener, port: Int) {
        let ready: [Listener: Int]? = ports.withLock { ports in
            let wasReady = ports.count == Listener.allCases.count
            ports[listener] = port
            return !wasReady && ports.count == Listener.allCases.count ? ports : nil
        }
        if let ready { onReady(ready) }
    }

    func isBound(_ listener: Listener) -> Bool {
        ports.withLock { $0[listener] != nil }
    }
}
