import ArgumentParser
/// Commands owned by the interface work (browse, the default command).
enum UICommands {
    static let all: [ParsableCommand.Type] = [BrowseCommand.self]
    /// `corral PATH...` opens the interface.
    static let defaultCommand: ParsableCommand.Type? = BrowseCommand.self
}
