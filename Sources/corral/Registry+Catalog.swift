import ArgumentParser
/// Commands owned by the catalog work (scan, cache, export, undo).
enum CatalogCommands {
    static let all: [ParsableCommand.Type] = []
}
