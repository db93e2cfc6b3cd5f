public import Logging
import Synchronization

/// A logger whose lines a test reads back: each line's level, message and metadata (the logger's own merged with
/// the line's).
public final class CapturedLog: Sendable {
    /// One logged line.
    public struct Entry: Sendable {
        public let level: Logger.Level
        public let message: String
        public let metadata: Logger.Metadata
    }

    private let lines = Mutex<[Entry]>([])

    public init() {}

    /// A logger writing here, at every level.
    public var logger: Logger { Logger(label: "test") { _ in Handler(log: self) } }

    /// Every line, in the order logged.
    public var all: [Entry] { lines.withLock { $0 } }

    /// The lines whose message contains `text`.
    public func entries(containing text: String) -> [Entry] {
        lines.withLock { $0.filter { $0.message.contains(text) } }
    }

    fileprivate func append(_ entry: Entry) { lines.withLock { $0.append(entry) } }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = metadata.merging(event.metadata ?? [:]) { _, new in new }
            log.append(Entry(level: event.level, message: "\(event.message)", metadata: fields))
        }
    }
}
