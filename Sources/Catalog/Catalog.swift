/// Catalog: folder walk, the SQLite cache, the scan pipeline, file actions and their journal.
public enum CatalogModule {}
