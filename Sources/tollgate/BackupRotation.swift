import Foundation

/// The names `backup --into` gives its files, and which ones `--keep` lets go. Only files of that exact shape
/// are ever deleted, so nothing else an operator keeps in the folder is touched.
enum BackupRotation {
    static let prefix = "tollgate-"
    static let suffix = ".sqlite"

    /// `tollgate-20261207T101500Z.sqlite`: UTC, so the names sort as the instants do.
    static func name(at date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ n: Int?) -> String { n.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        return "\(prefix)\(c.year ?? 0)\(two(c.month))\(two(c.day))T\(two(c.hour))\(two(c.minute))\(two(c.second))Z\(suffix)"
    }

    /// Whether a file name is one `name(at:)` gives.
    static func isBackupName(_ name: String) -> Bool {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return false }
        let stamp = Array(name.dropFirst(prefix.count).dropLast(suffix.count))
        guard stamp.count == 16, stamp[8] == "T", stamp[15] == "Z" else { return false }
        return stamp.indices.allSatisfy { $0 == 8 || $0 == 15 || ("0"..."9").contains(stamp[$0]) }
    }

    /// The backups in `directory` older than the newest `keep`, oldest first.
    static func beyond(_ keep: Int, in directory: String) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter(isBackupName).sorted()
        return names.dropLast(keep).map { URL(fileURLWithPath: directory).appendingPathComponent($0).path }
    }
}
