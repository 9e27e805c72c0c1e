import ArgumentParser
import Foundation

/// The command tree. Each module's commands are listed in its own Registry file, so that adding a
/// command never touches another team's file, and `--help` lists exactly the commands that exist.
@main
struct Corral: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corral",
        abstract: "Organize a folder of photos: group by content, find near-duplicates, act safely.",
        version: CorralVersion.string,
        subcommands: Registry.commands,
        defaultSubcommand: Registry.defaultCommand
    )

    /// ArgumentParser exits 64 on a usage error; Corral's contract (../shared/CLI.md) is 1, so that
    /// scripts can tell "you called me wrong" (1) from "some inputs failed" (2).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(1)
            }
            exit(withError: error)
        }
    }
}

enum CorralVersion {
    static let string = "0.1.0"
}

enum Registry {
    static var commands: [ParsableCommand.Type] {
        var all = ImagingCommands.all + ModelCommands.all + GroupingCommands.all + CatalogCommands.all + UICommands.all
        if !Bench.configuration.subcommands.isEmpty { all.append(Bench.self) }
        return all
    }
    /// `corral PATH...` opens the interface once the UI exists.
    static var defaultCommand: ParsableCommand.Type? { UICommands.defaultCommand }
}

/// `corral bench ...`: measurement commands (decode, embed). Listed only when one exists.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure decoding and inference speed.",
        subcommands: ImagingCommands.bench + ModelCommands.bench + GroupingCommands.bench
    )
}
