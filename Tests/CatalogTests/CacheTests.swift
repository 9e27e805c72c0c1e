import XCTest
@testable import Catalog
import TestSupport

final class CacheTests: XCTestCase {
    var root: URL!
    override func setUpWithError() throws { root = try TestPaths.makeTempDir("catalog-cache") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func testLocationPrecedence() {
        let explicit = URL(fileURLWithPath: "/x/y")
        XCTAssertEqual(CacheLocation.resolve(explicit, environment: ["CORRAL_CACHE": "/a"]).path, "/x/y")
        XCTAssertEqual(CacheLocation.resolve(nil, environment: ["CORRAL_CACHE": "/a", "XDG_CACHE_HOME": "/b"]).path, "/a")
        XCTAssertEqual(CacheLocation.resolve(nil, environment: ["XDG_CACHE_HOME": "/b", "HOME": "/h"]).path, "/b/corral")
        XCTAssertEqual(CacheLocation.resolve(nil, environment: ["XDG_CACHE_HOME": "relative", "HOME": "/h"]).path, "/h/.cache/corral")
        XCTAssertEqual(CacheLocation.resolve(nil, environment: ["HOME": "/h"]).path, "/h/.cache/corral")
    }

    func testSQLiteErrorsAreTypedWithTheMessage() throws {
        let db = try Database(path: root.appendingPathComponent("t.sqlite").path)
        XCTAssertThrowsError(try db.execute("SELEKT 1")) { e in
            let s = e as? SQLiteError
            XCTAssertNotNil(s)
            XCTAssertTrue(s?.message.contains("syntax error") ?? false, "\(String(describing: s))")
        }
        try db.execute("CREATE TABLE t(a INTEGER PRIMARY KEY, b BLOB, c TEXT, d REAL)")
        try db.run("INSERT INTO t VALUES (?,?,?,?)", 1, [UInt8](), "x", 2.5)
        try db.run("INSERT INTO t VALUES (?,?,?,?)", 2, [UInt8]([1, 2, 3]), String?.none, 0.0)
        XCTAssertThrowsError(try db.run("INSERT INTO t VALUES (?,?,?,?)", 1, [UInt8](), "dup", 1.0)) { e in
            XCTAssertTrue((e as? SQLiteError)?.message.contains("UNIQUE") ?? false)
        }
        XCTAssertThrowsError(try db.run("INSERT INTO t VALUES (?,?)", 3, 4))
        let rows = try db.query("SELECT a, b, c, d FROM t ORDER BY a") { ($0.int(0), $0.blob(1), $0.string(2), $0.double(3)) }
        XCTAssertEqual(rows.map(\.0), [1, 2])
        XCTAssertEqual(rows[0].1, [])
        XCTAssertEqual(rows[1].1, [1, 2, 3])
        XCTAssertNil(rows[1].2)
        XCTAssertEqual(rows[0].3, 2.5)
        // A failed transaction leaves nothing behind.
        XCTAssertThrowsError(try db.transaction { try db.run("INSERT INTO t VALUES (9, NULL, 'y', 0)"); try db.execute("NOPE") })
        XCTAssertEqual(try db.scalar("SELECT COUNT(*) FROM t")?.int64, 2)
        XCTAssertEqual(try db.scalar("PRAGMA journal_mode"), .text("wal"))
    }

    /// A cache written by schema version 1 opens in place: rows kept, new columns defaulted, new tables usable.
    func testMigrationFromVersion1KeepsData() throws {
        let dir = root.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let photos = root.appendingPathComponent("photos")
        let path = try Fixture.image(photos, "old.png", "from an old corral")
        let st = try FS.stat(path)
        let hash = ContentHasher.hash(Array(FileManager.default.contents(atPath: path)!))
        do {
            let db = try Database(path: dir.appendingPathComponent(CacheLocation.databaseName).path)
            try Schema.migrate(db, upTo: 1)
            XCTAssertEqual(try db.userVersion, 1)
            try db.run("INSERT INTO files VALUES (?,?,?,?,?)", path, st.size, st.mtimeNanoseconds, hash, 0.0)
            try db.run("""
                INSERT INTO analyses(content_hash, model, embedding, top_classes, signature, width, height, orientation, date,
                  camera_make, camera_model, format, thumb_width, thumb_height, thumbnail, created)
                VALUES (?, 'fake', ?, ?, ?, 40, 30, 6, '2020:01:01 00:00:00', NULL, NULL, 'png', 1, 1, ?, 0)
                """, hash, Blob.bytes([0.6, 0.8]), Blob.bytes([(index: 3, probability: 0.5)]), [UInt8]([9]), [UInt8]([1, 2, 3]))
            try db.run("INSERT INTO flags VALUES (?, 'keep', 0)", hash)
            XCTAssertThrowsError(try db.execute("SELECT * FROM journal"))
        }
        let fake = FakeAnalyzer()
        let lib = try Fixture.library(dir, fake)
        XCTAssertEqual(try lib.info().schemaVersion, Schema.currentVersion)
        let r = try lib.scan(paths: [photos.path])
        XCTAssertTrue(fake.preparedPaths.isEmpty, "the old embedding is reused")
        XCTAssertEqual(r.entries.count, 1)
        XCTAssertEqual(r.entries[0].embedding, [0.6, 0.8])
        XCTAssertEqual(r.entries[0].metadata.orientation, 6)
        XCTAssertEqual(r.entries[0].metadata.exifFieldCount, 0)
        XCTAssertEqual(r.entries[0].topClasses.map(\.index), [3])
        XCTAssertEqual(try lib.flag(contentHash: hash), .keep)
        try lib.setNotDuplicates(hash, "other")
        XCTAssertEqual(try lib.journal().count, 0)
    }

    func testNewerSchemaIsRefusedClearly() throws {
        let dir = root.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        do {
            let db = try Database(path: dir.appendingPathComponent(CacheLocation.databaseName).path)
            try db.setUserVersion(99)
        }
        XCTAssertThrowsError(try Fixture.library(dir, FakeAnalyzer())) { e in
            XCTAssertTrue("\(e)".contains("newer"), "\(e)")
        }
    }

    func testPruneForgetsVanishedFilesButKeepsFlags() throws {
        let photos = root.appendingPathComponent("photos")
        let a = try Fixture.image(photos, "a.png", "a")
        try Fixture.image(photos, "b.png", "b")
        let lib = try Fixture.library(root.appendingPathComponent("cache"), FakeAnalyzer())
        let r = try lib.scan(paths: [photos.path])
        try lib.setFlag(.reject, contentHash: r.entries[0].contentHash)
        try FileManager.default.removeItem(atPath: a)
        let p = try lib.prune()
        XCTAssertEqual(p.filesRemoved, 1)
        XCTAssertEqual(p.analysesRemoved, 1)
        let i = try lib.info()
        XCTAssertEqual(i.files, 1)
        XCTAssertEqual(i.analyses, ["fake": 1])
        XCTAssertEqual(i.flags, 1)
        let c = try lib.clearComputed()
        XCTAssertEqual(c.filesRemoved, 1)
        XCTAssertEqual(try lib.info().files, 0)
        XCTAssertEqual(try lib.info().flags, 1)
        XCTAssertEqual(try lib.integrityCheck(), ["ok"])
    }
}
