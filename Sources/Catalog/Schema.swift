import Foundation

/// Where the cache lives: `--cache DIR`, else $CORRAL_CACHE, else $XDG_CACHE_HOME/corral, else
/// ~/.cache/corral (the XDG base-directory convention, so `rm -rf ~/.cache` does what users expect).
public enum CacheLocation {
    public static func resolve(_ explicit: URL?, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let explicit { return explicit }
        if let c = environment["CORRAL_CACHE"], !c.isEmpty { return URL(fileURLWithPath: FS.absolute(c)) }
        if let x = environment["XDG_CACHE_HOME"], x.hasPrefix("/") { return URL(fileURLWithPath: x).appendingPathComponent("corral") }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".cache/corral")
    }
    public static let databaseName = "catalog.sqlite"
}

/// The schema as an append-only list of migrations; `PRAGMA user_version` records how many ran.
/// Never edit a shipped step: add one, so every old cache upgrades in place and keeps its work.
enum Schema {
    static let migrations: [String] = [
        // 1: identity of files and per-(content, model) analyses; flags by content.
        """
        CREATE TABLE files(
            path TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            content_hash TEXT NOT NULL,
            last_seen REAL NOT NULL);
        CREATE INDEX files_hash ON files(content_hash);
        CREATE TABLE analyses(
            content_hash TEXT NOT NULL,
            model TEXT NOT NULL,
            embedding BLOB NOT NULL,          -- float32 little-endian, L2-normalised
            top_classes BLOB NOT NULL,        -- 5 x (int32 index, float32 probability), little-endian
            signature BLOB NOT NULL,          -- Grouping.PixelSignature bytes
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            orientation INTEGER NOT NULL,
            date TEXT,
            camera_make TEXT,
            camera_model TEXT,
            format TEXT NOT NULL,
            thumb_width INTEGER NOT NULL,
            thumb_height INTEGER NOT NULL,
            thumbnail BLOB NOT NULL,          -- RGB8 interleaved
            created REAL NOT NULL,
            PRIMARY KEY(content_hash, model)) WITHOUT ROWID;
        CREATE TABLE flags(
            content_hash TEXT PRIMARY KEY,
            flag TEXT NOT NULL CHECK(flag IN ('keep', 'reject')),
            updated REAL NOT NULL);
        """,
        // 2: EXIF field count (a keeper hint: originals carry more EXIF than re-encodes), "not
        // duplicates" decisions, and the journal of file moves that makes undo possible.
        """
        ALTER TABLE analyses ADD COLUMN exif_fields INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE not_duplicates(
            a TEXT NOT NULL, b TEXT NOT NULL, created REAL NOT NULL,
            PRIMARY KEY(a, b), CHECK(a < b)) WITHOUT ROWID;
        CREATE TABLE journal(
            id INTEGER PRIMARY KEY,
            batch INTEGER NOT NULL,
            action TEXT NOT NULL CHECK(action IN ('trash', 'move')),
            source TEXT NOT NULL,
            destination TEXT NOT NULL,
            trash_info TEXT,
            state TEXT NOT NULL CHECK(state IN ('intent', 'done', 'undone', 'failed')),
            created REAL NOT NULL);
        CREATE INDEX journal_batch ON journal(batch);
        """,
        // 3: thumbnails stored as JPEG (about a fifth of the raw 18 KB); rows written before keep their
        // raw RGB8 bytes, marked 'rgb', and are read as before, so an old cache needs no rebuild.
        """
        ALTER TABLE analyses ADD COLUMN thumb_format TEXT NOT NULL DEFAULT 'rgb' CHECK(thumb_format IN ('rgb', 'jpeg'));
        """,
    ]

    static var currentVersion: Int { migrations.count }

    /// Brings the database to the current version, one transaction per step.
    static func migrate(_ db: Database, upTo target: Int = Schema.currentVersion) throws {
        let version = try db.userVersion
        guard version <= migrations.count else {
            throw SQLiteError(code: 0, message: "cache schema version \(version) is newer than this corral (\(migrations.count)); upgrade corral or use another --cache",
                              context: db.path)
        }
        for v in version..<target {
            try db.transaction {
                try db.execute(migrations[v])
                try db.setUserVersion(v + 1)
            }
        }
    }
}
