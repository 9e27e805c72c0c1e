import ArgumentParser
/// Commands owned by the catalog work (scan, cache, export, undo). `scan` and `export` join once the
/// embedder and grouping they need are merged.
enum CatalogCommands {
    static let all: [ParsableCommand.Type] = [CacheCommand.self, UndoCommand.self]
}
