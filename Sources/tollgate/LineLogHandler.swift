import Foundation
import Logging
import Synchronization

/// `serve`'s log lines: one line per entry on standard error, as text or JSON, with the metadata as typed fields.
///
/// Under journald (systemd sets `JOURNAL_STREAM` when standard error is the journal) a line carries no timestamp of
/// its own, since the journal stamps each one, and starts with its syslog priority (`<3>` for an error), which the
/// journal takes as the entry's priority; elsewhere a line starts with an ISO 8601 timestamp.
struct LineLogHandler: LogHandler {
    enum Format: String, CaseIterable, Sendable {
        case text
        case json
    }

    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let label: String
    let format: Format
    let journald: Bool
    private let write: @Sendable (String) -> Void

    /// A handler writing each line with `write` (standard error unless a test gives another).
    init(label: String, level: Logger.Level, format: Format, journald: Bool,
         write: @escaping @Sendable (String) -> Void = LineLogHandler.standardError) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.journald = journald
        self.write = write
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        let line = switch format {
        case .text: text(event.level, event.message, fields)
        case .json: json(event.level, event.message, fields)
        }
        write((journald ? "<\(Self.priority(event.level))>" : "") + line + "\n")
    }

    /// The syslog priority of a level (RFC 5424): what journald files the entry under.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .critical: 2
        case .error: 3
        case .warning: 4
        case .notice: 5
        case .info: 6
        case .debug, .trace: 7
        }
    }

    private func text(_ level: Logger.Level, _ message: Logger.Message, _ fields: Logger.Metadata) -> String {
        var line = journald ? "" : Self.timestamp() + " "
        line += "\(level) \(label):"
        for key in fields.keys.sorted() { line += " \(key)=\(Self.flat(fields[key]!))" }
        return line + " \(message)"
    }

    private func json(_ level: Logger.Level, _ message: Logger.Message, _ fields: Logger.Metadata) -> String {
        var object: [String: String] = [:]
        for (key, value) in fields { object[key] = Self.flat(value) }
        // The entry's own fields win over metadata that would reuse their names.
        if !journald { object["ts"] = Self.timestamp() }
        object["level"] = "\(level)"
        object["logger"] = label
        object["message"] = "\(message)"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(object), let text = String(data: data, encoding: .utf8) else {
            return #"{"level":"error","message":"a log line could not be encoded"}"#
        }
        return text
    }

    private static func flat(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): "[" + values.map(flat).joined(separator: ", ") + "]"
        case .dictionary(let values):
            "{" + values.keys.sorted().map { "\($0): \(flat(values[$0]!))" }.joined(separator: ", ") + "}"
        }
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    /// One line to standard error, written whole.
    static let standardError: @Sendable (String) -> Void = { line in
        errorLock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }

    private static let errorLock = Mutex(())
}

extension LineLogHandler {
    /// Whether standard error is the journal: systemd sets `JOURNAL_STREAM` to its device and inode.
    static func writesToJournal(_ environment: [String: String]) -> Bool {
        guard let stream = environment["JOURNAL_STREAM"] else { return false }
        let parts = stream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(STDERR_FILENO, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }
}
