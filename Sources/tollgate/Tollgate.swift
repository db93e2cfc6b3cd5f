import ArgumentParser

/// The `tollgate` executable: the engine's commands.
@main
struct Tollgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate",
        abstract: "Real-time call billing for IP PBXs.",
        subcommands: [SimulateCommand.self, VerifyCommand.self],
        defaultSubcommand: nil)
}
