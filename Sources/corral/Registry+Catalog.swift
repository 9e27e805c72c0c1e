import ArgumentParser
/// Commands owned by the catalog work (scan, cache, export, undo). `export` joins once the
/// clusters and duplicate groups of Grouping are merged.
enum CatalogCommands {
    static let all: [ParsableCommand.Type] = [ScanCommand.self, CacheCommand.self, UndoCommand.self]
}
