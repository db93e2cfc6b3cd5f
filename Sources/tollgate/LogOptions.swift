import ArgumentParser
import Foundation
import Logging

/// `--log-level` and `--log-format` (flags over `TOLLGATE_LOG_LEVEL` and `TOLLGATE_LOG_FORMAT`).
struct LogOptions: ParsableArguments {
    @Option(name: .customLong("log-level"),
            help: "trace, debug, info, notice, warning, error or critical (env TOLLGATE_LOG_LEVEL; default info).")
    var level: String?
    @Option(name: .customLong("log-format"), help: "text or json (env TOLLGATE_LOG_FORMAT; default text).")
    var format: String?

    /// Sets up the process's logging: one line per entry on standard error, without a timestamp and with syslog
    /// priorities when standard error is the journal. A bad value names the setting, the value and what is allowed.
    func bootstrap(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let (logLevel, logFormat) = try resolved(environment)
        let journald = LineLogHandler.writesToJournal(environment)
        LoggingSystem.bootstrap { label in
            LineLogHandler(label: label, level: logLevel, format: logFormat, journald: journald)
        }
    }

    /// Checks the values without touching the process's logging (tests).
    func bootstrapCheck(environment: [String: String] = [:]) throws { _ = try resolved(environment) }

    private func resolved(_ environment: [String: String]) throws -> (Logger.Level, LineLogHandler.Format) {
        let levelText = level ?? environment["TOLLGATE_LOG_LEVEL"] ?? "info"
        guard let logLevel = Logger.Level(rawValue: levelText.lowercased()) else {
            throw ValidationError("log level '\(levelText)' is not one of "
                + Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let formatText = format ?? environment["TOLLGATE_LOG_FORMAT"] ?? "text"
        guard let logFormat = LineLogHandler.Format(rawValue: formatText.lowercased()) else {
            throw ValidationError("log format '\(formatText)' is not one of text, json")
        }
        return (logLevel, logFormat)
    }
}
