import Foundation
import TestSupport
import Testing
@testable import tollgate
#if canImport(Glibc)
import Glibc
#endif

/// The sd_notify protocol as `serve` speaks it: one datagram per message to NOTIFY_SOCKET.
@Suite("systemd notifications: READY, WATCHDOG, STOPPING")
struct SystemdNotifierTests {
    /// A datagram socket bound at `path` (or in the abstract namespace for "@name"), as systemd holds one.
    final class Listener {
        let fd: Int32

        init(_ name: String) throws {
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            var bytes = Array(name.utf8)
            if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
            let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &buffer, buffer.count, 0)
            return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
        }

        deinit { close(fd) }
    }

    @Test("a message reaches the socket NOTIFY_SOCKET names, a path or an abstract name", arguments: [false, true])
    func notify(abstract: Bool) throws {
        let directory = try TemporaryDirectory("notify")
        defer { directory.remove() }
        let name = abstract ? "@tollgate-test-\(getpid())" : directory.path + "/notify"
        let listener = try Listener(name)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": name])
        #expect(notifier.isActive)
        #expect(notifier.notify("READY=1\nSTATUS=serving"))
        #expect(listener.receive() == "READY=1\nSTATUS=serving")
    }

    @Test("outside systemd nothing is sent and nothing fails")
    func inactive() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isActive)
        #expect(!notifier.notify("READY=1"))
    }

    @Test("the watchdog is fed at half WATCHDOG_USEC, only when it is meant for this process")
    func watchdog() {
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "30000000"]).watchdogInterval
            == .seconds(15))
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "30000000",
                                              "WATCHDOG_PID": "\(getpid())"]).watchdogInterval == .seconds(15))
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "30000000",
                                              "WATCHDOG_PID": "1"]).watchdogInterval == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "junk"]).watchdogInterval == nil)
    }
}
