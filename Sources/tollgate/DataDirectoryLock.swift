import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive advisory lock on a data directory (`DIR/tollgate.lock`), held by `serve` for its whole life and
/// by `restore` while it replaces the ledger, so neither runs beside the other. The kernel drops it when the
/// process ends, however it ends, so a crash never leaves a stale lock behind.
final class DataDirectoryLock: Sendable {
    /// Another process holds the directory.
    struct Held: Error, CustomStringConvertible {
        var directory: String
        var holder: String
        var description: String { "\(directory) is in use by another tollgate process (\(holder))" }
    }

    private let fd: Int32

    /// The lock file of a data directory.
    static func path(dataDirectory: String) -> String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("tollgate.lock").path
    }

    /// Takes the lock without waiting, creating the directory if needed; throws `Held` when another process has it.
    init(dataDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let path = Self.path(dataDirectory: dataDirectory)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw Held(directory: dataDirectory, holder: holder.map { $0.isEmpty ? "unknown pid" : $0 } ?? "unknown pid")
        }
        // Who holds it, for the message another process prints; the lock itself is the flock, not this text.
        let text = Array("pid \(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.fd = fd
    }

    deinit { close(fd) }
}
