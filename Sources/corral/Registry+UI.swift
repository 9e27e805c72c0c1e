import ArgumentParser
/// Commands owned by the interface work (browse, the default command).
enum UICommands {
    static let all: [ParsableCommand.Type] = []
    static let defaultCommand: ParsableCommand.Type? = nil
}
