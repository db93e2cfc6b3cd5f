import ArgumentParser

/// The `tollgate` executable: the engine's commands.
@main
struct Tollgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate",
        abstract: "Real-time call billing for IP PBXs.",
        version: Tollgate.version,
        subcommands: [
            ServeCommand.self, DemoCommand.self, VerifyCommand.self, BackupCommand.self, RestoreCommand.self, SeedCommand.self,
            LoginCommand.self, LogoutCommand.self, ExtensionCommand.self, RechargeCommand.self, RateCommand.self,
            CallsCommand.self, StatsCommand.self, SettingsCommand.self, LiveCommand.self, BillingCommand.self,
            LicenseCommand.self, UserCommand.self,
        ],
        defaultSubcommand: nil)

    /// The software version reported to PBXs and by `--version`.
    static let version = "0.1.0"
}
