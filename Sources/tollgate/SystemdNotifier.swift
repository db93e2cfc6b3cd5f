import Foundation
import Metering
#if canImport(Glibc)
import Glibc
#endif

/// Tells systemd how `serve` is doing when it runs as a `Type=notify` service: `READY=1` once the ledger is open and
/// both listeners are bound, `WATCHDOG=1` at half the unit's `WatchdogSec`, `STOPPING=1` when it shuts down.
///
/// The protocol is one datagram per message to the socket named by `NOTIFY_SOCKET` (a path, or `@name` in the
/// abstract namespace); written here in a few lines rather than through libsystemd, which no package of ours links.
/// Without `NOTIFY_SOCKET` (not under systemd) every call does nothing.
struct SystemdNotifier: Sendable {
    private let address: String?
    /// Half the watchdog interval systemd asked for (`WATCHDOG_USEC`), when it asked for one of this process.
    let watchdogInterval: Duration?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        address = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        let forThisProcess = environment["WATCHDOG_PID"].map { $0 == String(getpid()) } ?? true
        if forThisProcess, let text = environment["WATCHDOG_USEC"], let micros = Int64(text), micros > 0 {
            watchdogInterval = .microseconds(micros / 2)
        } else {
            watchdogInterval = nil
        }
    }

    var isActive: Bool { address != nil }

    /// Sends `state` (`READY=1`, `STATUS=…`, …); false when it could not be sent (or not under systemd).
    @discardableResult
    func notify(_ state: String) -> Bool {
        guard let address else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        var path = Array(address.utf8)
        // An abstract socket's name starts with a NUL byte where systemd writes '@'.
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: socketAddress.sun_path)
        guard path.count < capacity else { return false }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { bytes in
            bytes.copyBytes(from: path)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &socketAddress) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                sendto(fd, message, message.count, Int32(MSG_NOSIGNAL), address, length)
            }
        }
        return sent == message.count
    }

    /// Pets the watchdog at half its interval, on the engine's clock, until cancelled; returns at once without a
    /// watchdog.
    func keepWatchdogFed(time: EngineTime) async {
        guard let watchdogInterval, isActive else { return }
        while !Task.isCancelled {
            notify("WATCHDOG=1")
            do { try await time.sleep(for: watchdogInterval) } catch { return }
        }
    }
}
