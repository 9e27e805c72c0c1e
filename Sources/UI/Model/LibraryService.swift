/// Everything the interface asks of the library. The runtime calls it from one background serial
/// queue, never from the drawing loop, so implementations may block (scanning, clustering, file
/// moves) and need not be re-entrant. Errors are shown to the user by their description, so they
/// should name the file and the reason.
public protocol LibraryService: AnyObject {
    /// Scans (reusing the cache), reporting progress as it goes.
    func scan(progress: @escaping (ScanProgressInfo) -> Void) throws -> ScanOutcome
    /// Groups the present images into k clusters, or picks k itself when nil.
    func clusters(k: Int?) throws -> Clustering
    /// Near-duplicate groups among the present images, honouring "not duplicates" decisions.
    func duplicateGroups() throws -> [DuplicateSet]
    func similar(to id: Int, count: Int) throws -> [SimilarImage]
    /// Persists a flag (nil clears it).
    func setFlag(_ flag: ImageFlag?, ids: [Int]) throws
    /// Records (or withdraws) "these images are not duplicates of each other".
    func setNotDuplicates(_ ids: [Int], _ value: Bool) throws
    func trash(ids: [Int]) throws -> FileActionOutcome
    func move(ids: [Int], to folder: String) throws -> FileActionOutcome
    /// Undoes the most recent journalled move; nil when there is nothing to undo.
    func undoLastFileAction() throws -> UndoOutcome?
    /// Writes the groups; returns the absolute path written.
    func export(format: ExportFormat, to path: String, clustering: Clustering?, duplicates: [DuplicateSet]) throws -> String
}
