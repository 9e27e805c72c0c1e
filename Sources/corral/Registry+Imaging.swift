import ArgumentParser
/// Commands owned by the imaging work.
enum ImagingCommands {
    static let all: [ParsableCommand.Type] = []
    static let bench: [ParsableCommand.Type] = [BenchDecodeCommand.self]
}
