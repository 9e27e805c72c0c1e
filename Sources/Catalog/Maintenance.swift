import Foundation

public struct CacheInfo: Codable, Sendable {
    public var directory: String
    public var schemaVersion: Int
    public var bytes: Int               // database + WAL on disk
    public var files: Int
    public var analyses: [String: Int]  // per model
    public var flags: Int
    public var notDuplicatePairs: Int
    public var journalEntries: Int
}

public struct PruneReport: Codable, Sendable {
    public var filesRemoved: Int
    public var analysesRemoved: Int
    public var bytesBefore: Int
    public var bytesAfter: Int
}

extension Library {
    public func info() throws -> CacheInfo {
        try locked {
            func count(_ sql: String) throws -> Int { Int(try db.scalar(sql)?.int64 ?? 0) }
            var perModel: [String: Int] = [:]
            for (m, n) in try db.query("SELECT model, COUNT(*) FROM analyses GROUP BY model", row: { ($0.string(0) ?? "", $0.int(1) ?? 0) }) {
                perModel[m] = n
            }
            return CacheInfo(directory: cacheDirectory.path, schemaVersion: try db.userVersion, bytes: diskBytes(),
                             files: try count("SELECT COUNT(*) FROM files"), analyses: perModel,
                             flags: try count("SELECT COUNT(*) FROM flags"),
                             notDuplicatePairs: try count("SELECT COUNT(*) FROM not_duplicates"),
                             journalEntries: try count("SELECT COUNT(*) FROM journal"))
        }
    }

    func diskBytes() -> Int {
        let base = cacheDirectory.appendingPathComponent(CacheLocation.databaseName).path
        return [base, base + "-wal", base + "-shm"].reduce(0) { $0 + ((try? FS.stat($1))?.size ?? 0) }
    }

    /// Forgets files that no longer exist and analyses no file refers to, then compacts. Flags and
    /// the journal stay: they are decisions, and a file restored from the Trash finds its flag again.
    public func prune() throws -> PruneReport {
        try locked {
            let before = diskBytes()
            let paths = try db.query("SELECT path FROM files") { $0.string(0) ?? "" }
            let gone = paths.filter { !FS.exists($0) }
            var analysesRemoved = 0
            try db.transaction {
                for p in gone { try db.run("DELETE FROM files WHERE path = ?", p) }
                try db.run("DELETE FROM analyses WHERE content_hash NOT IN (SELECT content_hash FROM files)")
                analysesRemoved = db.changes
            }
            try db.execute("VACUUM")
            try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return PruneReport(filesRemoved: gone.count, analysesRemoved: analysesRemoved, bytesBefore: before, bytesAfter: diskBytes())
        }
    }

    /// Drops everything computed (files and analyses, all models); keeps flags, "not duplicates"
    /// decisions and the journal, which cannot be recomputed.
    public func clearComputed() throws -> PruneReport {
        try locked {
            let before = diskBytes()
            var files = 0, analyses = 0
            try db.transaction {
                try db.run("DELETE FROM files"); files = db.changes
                try db.run("DELETE FROM analyses"); analyses = db.changes
            }
            try db.execute("VACUUM")
            try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return PruneReport(filesRemoved: files, analysesRemoved: analyses, bytesBefore: before, bytesAfter: diskBytes())
        }
    }
}
