import ArgumentParser
/// Commands owned by the catalog work (scan, cache, export, undo).
/// Each is registered because it works end to end.
enum CatalogCommands {
    static let all: [ParsableCommand.Type] = [ScanCommand.self, CacheCommand.self, UndoCommand.self, ExportCommand.self]
}
