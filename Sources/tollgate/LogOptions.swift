import ArgumentParser
import Foundation
import Logging

/// `--log-level` and `--log-format`: flags over `logLevel`/`logFormat` from the environment or the config file
/// (resolved with the other settings in `ServeSettings`).
struct LogOptions: ParsableArguments {
    @Option(name: .customLong("log-level"),
            help: "trace, debug, info, notice, warning, error or critical (env TOLLGATE_LOG_LEVEL; default info).")
    var level: String?
    @Option(name: .customLong("log-format"), help: "text or json (env TOLLGATE_LOG_FORMAT; default text).")
    var format: String?

    /// Sets up the process's logging: one line per entry on standard error, without a timestamp and with syslog
    /// priorities when standard error is the journal.
    static func bootstrap(level: Logger.Level, format: LineLogHandler.Format,
                          environment: [String: String] = ProcessInfo.processInfo.environment) {
        let journald = LineLogHandler.writesToJournal(environment)
        LoggingSystem.bootstrap { label in
            LineLogHandler(label: label, level: level, format: format, journald: journald)
        }
    }
}
