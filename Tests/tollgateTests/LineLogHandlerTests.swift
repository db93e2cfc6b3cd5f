import Foundation
import Logging
import Synchronization
import Testing
@testable import tollgate

/// `serve`'s log lines: text or JSON, typed metadata as fields, and under journald no timestamp of their own but
/// the syslog priority the journal files them under.
@Suite("Log lines: text, JSON, journald")
struct LineLogHandlerTests {
    /// The lines a handler wrote.
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        @Sendable func write(_ line: String) { lines.withLock { $0.append(line) } }
    }

    private func logger(_ format: LineLogHandler.Format, journald: Bool, level: Logger.Level = .info,
                        into lines: Lines) -> Logger {
        Logger(label: "tollgate.pbx") { label in
            LineLogHandler(label: label, level: level, format: format, journald: journald, write: lines.write)
        }
    }

    @Test("text: a timestamp, the level, the label, the metadata sorted, the message; nothing below the level")
    func text() throws {
        let lines = Lines()
        let log = logger(.text, journald: false, into: lines)
        log.debug("not shown")
        log.warning("call cut", metadata: ["extension": "8101", "call_id": "c-1"])
        #expect(lines.all.count == 1)
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix(" warning tollgate.pbx: call_id=c-1 extension=8101 call cut\n"))
        #expect(line.first?.isNumber == true, "starts with its timestamp: \(line)")
    }

    @Test("under journald: the syslog priority first and no timestamp of its own", arguments: [
        (Logger.Level.critical, 2), (.error, 3), (.warning, 4), (.notice, 5), (.info, 6), (.debug, 7), (.trace, 7),
    ])
    func journald(level: Logger.Level, priority: Int) {
        let lines = Lines()
        logger(.text, journald: true, level: .trace, into: lines).log(level: level, "x")
        #expect(lines.all == ["<\(priority)>\(level) tollgate.pbx: x\n"])
    }

    @Test("JSON: one object a line, the metadata as fields; under journald without ts")
    func json() throws {
        let lines = Lines()
        logger(.json, journald: false, into: lines).error("settled", metadata: ["call_id": "c/1", "count": "2"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines.all[0].utf8)) as? [String: String])
        #expect(object["message"] == "settled" && object["level"] == "error" && object["logger"] == "tollgate.pbx")
        #expect(object["call_id"] == "c/1" && object["count"] == "2" && object["ts"] != nil)
        let journal = Lines()
        logger(.json, journald: true, into: journal).info("x", metadata: ["message": "a field cannot hide the entry's"])
        #expect(journal.all == [#"<6>{"level":"info","logger":"tollgate.pbx","message":"x"}"# + "\n"])
    }

    @Test("journald is recognised only when JOURNAL_STREAM names standard error itself")
    func journalStream() {
        #expect(!LineLogHandler.writesToJournal([:]))
        #expect(!LineLogHandler.writesToJournal(["JOURNAL_STREAM": "1:2"]))
        var status = stat()
        fstat(STDERR_FILENO, &status)
        #expect(LineLogHandler.writesToJournal(["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino)"]))
    }
}
