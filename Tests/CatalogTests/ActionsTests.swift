import XCTest
@testable import Catalog
import TestSupport

final class ActionsTests: XCTestCase {
    var root: URL!
    var env: [String: String] = [:]
    var lib: Library!

    override func setUpWithError() throws {
        root = try TestPaths.makeTempDir("catalog-actions")
        env = ["XDG_DATA_HOME": root.appendingPathComponent("data").path, "HOME": root.path]
        lib = try Fixture.library(root.appendingPathComponent("cache"), FakeAnalyzer())
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func path(_ rel: String) -> String { root.appendingPathComponent(rel).path }

    func testTrashWritesTrashInfoAndUndoRestores() throws {
        let a = try Fixture.image(root.appendingPathComponent("photos"), "beach day.png", "a")
        let b = try Fixture.image(root.appendingPathComponent("photos/sub"), "beach day.png", "b")   // same name
        let before = Date()
        let r = try lib.moveFiles([a, b], to: .trash, environment: env)
        XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
        XCTAssertFalse(FS.exists(a)); XCTAssertFalse(FS.exists(b))
        let trash = path("data/Trash")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: trash + "/files").sorted(), ["beach day.2.png", "beach day.png"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: trash + "/info").sorted(),
                       ["beach day.2.png.trashinfo", "beach day.png.trashinfo"])
        let info = try String(contentsOfFile: trash + "/info/beach day.2.png.trashinfo", encoding: .utf8)
        let lines = info.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3)
        XCTAssertEqual(lines[0], "[Trash Info]")
        XCTAssertEqual(lines[1], "Path=" + b.replacingOccurrences(of: " ", with: "%20"))
        XCTAssertTrue(lines[2].hasPrefix("DeletionDate="))
        let f = DateFormatter(); f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"; f.timeZone = .current
        let when = try XCTUnwrap(f.date(from: String(lines[2].dropFirst("DeletionDate=".count))))
        XCTAssertLessThan(abs(when.timeIntervalSince(before)), 5)
        XCTAssertEqual(Data(FakeAnalyzer.magic + Array("b".utf8)), FileManager.default.contents(atPath: trash + "/files/beach day.2.png"))
        XCTAssertEqual(try lib.journal().map(\.state), ["done", "done"])

        let u = try XCTUnwrap(try lib.undoLastBatch())
        XCTAssertTrue(u.failures.isEmpty)
        XCTAssertEqual(u.records.count, 2)
        XCTAssertEqual(Data(FakeAnalyzer.magic + Array("a".utf8)), FileManager.default.contents(atPath: a))
        XCTAssertEqual(Data(FakeAnalyzer.magic + Array("b".utf8)), FileManager.default.contents(atPath: b))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: trash + "/files"), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: trash + "/info"), [])
        XCTAssertNil(try lib.undoLastBatch(), "nothing left to undo")
    }

    func testUndoRestoresOnlyTheLastBatch() throws {
        let a = try Fixture.image(root.appendingPathComponent("p"), "a.png", "a")
        let b = try Fixture.image(root.appendingPathComponent("p"), "b.png", "b")
        _ = try lib.moveFiles([a], to: .trash, environment: env)
        _ = try lib.moveFiles([b], to: .folder(path("rejected")), environment: env)
        XCTAssertTrue(FS.exists(path("rejected/b.png")))
        _ = try lib.undoLastBatch()
        XCTAssertTrue(FS.exists(b)); XCTAssertFalse(FS.exists(a))
        _ = try lib.undoLastBatch()
        XCTAssertTrue(FS.exists(a))
    }

    func testMoveNeverOverwrites() throws {
        let a = try Fixture.image(root.appendingPathComponent("p"), "x.png", "mine")
        let existing = try Fixture.image(root.appendingPathComponent("dest"), "x.png", "already there")
        let r = try lib.moveFiles([a], to: .folder(path("dest")), environment: env)
        XCTAssertEqual(r.records.first?.destination, path("dest/x.2.png"))
        XCTAssertEqual(FileManager.default.contents(atPath: existing), Data(FakeAnalyzer.magic + Array("already there".utf8)))
        XCTAssertEqual(FileManager.default.contents(atPath: path("dest/x.2.png")), Data(FakeAnalyzer.magic + Array("mine".utf8)))
        // Undo refuses to overwrite a file that appeared at the original place.
        try Fixture.image(root.appendingPathComponent("p"), "x.png", "newcomer")
        let u = try XCTUnwrap(try lib.undoLastBatch())
        XCTAssertEqual(u.failures.count, 1)
        XCTAssertEqual(FileManager.default.contents(atPath: a), Data(FakeAnalyzer.magic + Array("newcomer".utf8)))
        XCTAssertTrue(FS.exists(path("dest/x.2.png")))
    }

    func testRefusesToTrashTheLastCopyOfAGroup() throws {
        let a = try Fixture.image(root.appendingPathComponent("p"), "a.png", "same")
        let b = try Fixture.image(root.appendingPathComponent("p"), "b.png", "same")
        XCTAssertThrowsError(try lib.moveFiles([a, b], to: .trash, protecting: [[a, b]], environment: env)) { e in
            XCTAssertTrue(e is ActionRefused)
        }
        XCTAssertTrue(FS.exists(a) && FS.exists(b), "nothing moved")
        XCTAssertTrue(try lib.journal().isEmpty)
        // Trashing one of them is fine; then the other is the last copy.
        XCTAssertTrue(try lib.moveFiles([a], to: .trash, protecting: [[a, b]], environment: env).failures.isEmpty)
        XCTAssertThrowsError(try lib.moveFiles([b], to: .trash, protecting: [[a, b]], environment: env))
        XCTAssertTrue(FS.exists(b))
    }

    /// A crash after the journal said "intent": undo trusts the disk, in both possible states.
    func testUndoAfterACrashMidMove() throws {
        let a = try Fixture.image(root.appendingPathComponent("p"), "a.png", "a")
        let b = try Fixture.image(root.appendingPathComponent("p"), "b.png", "b")
        let r = try lib.moveFiles([a, b], to: .trash, environment: env)
        // Pretend the process died right after renaming a (journal still "intent") ...
        try lib.db.run("UPDATE journal SET state = 'intent' WHERE source = ?", a)
        // ... and before renaming b: put b back, leaving its reserved .trashinfo.
        let bRec = try XCTUnwrap(r.records.first { $0.source == b })
        try FileManager.default.moveItem(atPath: bRec.destination, toPath: b)
        try lib.db.run("UPDATE journal SET state = 'intent' WHERE source = ?", b)
        let u = try XCTUnwrap(try lib.undoLastBatch())
        XCTAssertTrue(u.failures.isEmpty, "\(u.failures)")
        XCTAssertTrue(FS.exists(a) && FS.exists(b))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path("data/Trash/info")), [])
        XCTAssertEqual(Set(try lib.journal().map(\.state)), ["undone"])
    }

    func testMovedFileKeepsItsCacheIdentity() throws {
        let photos = root.appendingPathComponent("photos")
        let a = try Fixture.image(photos, "a.png", "a")
        _ = try lib.scan(paths: [photos.path])
        _ = try lib.moveFiles([a], to: .folder(path("photos/kept")), environment: env)
        let fake = FakeAnalyzer()
        let again = try Fixture.library(root.appendingPathComponent("cache"), fake).scan(paths: [photos.path])
        XCTAssertEqual(again.entries.map(\.path), [path("photos/kept/a.png")])
        XCTAssertEqual(again.stats.unchanged, 1)
        XCTAssertTrue(fake.preparedPaths.isEmpty)
    }

    func testFlagsAndNotDuplicatesPersistByContent() throws {
        let cache = root.appendingPathComponent("cache")
        try lib.setFlag(.keep, contentHash: "h1")
        try lib.setFlags(["h2": .reject, "h3": .keep])
        try lib.setFlag(nil, contentHash: "h3")
        try lib.setNotDuplicates("h9", "h2")
        lib = nil
        let reopened = try Fixture.library(cache, FakeAnalyzer())
        XCTAssertEqual(try reopened.allFlags(), ["h1": .keep, "h2": .reject])
        XCTAssertEqual(try reopened.flag(contentHash: "h2"), .reject)
        XCTAssertNil(try reopened.flag(contentHash: "h3"))
        XCTAssertEqual(try reopened.notDuplicatePairs(), [ContentPair("h2", "h9")])
        XCTAssertTrue(try reopened.notDuplicatePairs().contains(ContentPair("h9", "h2")))
    }
}
