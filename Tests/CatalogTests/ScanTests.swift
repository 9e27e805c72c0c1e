import XCTest
@testable import Catalog
import Imaging
import TestSupport

final class ScanTests: XCTestCase {
    var root: URL!
    var photos: URL!
    var cache: URL!

    override func setUpWithError() throws {
        root = try TestPaths.makeTempDir("catalog-scan")
        photos = root.appendingPathComponent("photos")
        cache = root.appendingPathComponent("cache")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func testSecondScanReadsNothingAndReturnsTheSameEntries() throws {
        for i in 0..<10 { try Fixture.image(photos, "sub\(i % 3)/img\(i).png", "picture \(i)") }
        let fake = FakeAnalyzer()
        let lib = try Fixture.library(cache, fake)
        let first = try lib.scan(paths: [photos.path])
        XCTAssertEqual(first.stats.embedded, 10)
        XCTAssertEqual(first.entries.count, 10)
        XCTAssertTrue(first.failures.isEmpty)
        XCTAssertEqual(fake.embeddedImages, 10)
        XCTAssertGreaterThanOrEqual(fake.embedCalls, 3)   // batches of 4

        let fake2 = FakeAnalyzer()
        let lib2 = try Fixture.library(cache, fake2)     // a new process, same cache
        let second = try lib2.scan(paths: [photos.path])
        XCTAssertEqual(second.stats.unchanged, 10)
        XCTAssertEqual(second.stats.embedded, 0)
        XCTAssertTrue(fake2.preparedPaths.isEmpty)
        XCTAssertEqual(second.entries.map(\.path), first.entries.map(\.path))
        XCTAssertEqual(second.entries.map(\.embedding), first.entries.map(\.embedding))
        XCTAssertEqual(second.entries.map(\.contentHash), first.entries.map(\.contentHash))
        let e = second.entries[0]
        XCTAssertEqual(e.topClasses.count, 5)
        XCTAssertEqual(e.metadata.cameraMake, "Fake")
        XCTAssertEqual(e.metadata.exifFieldCount, 3)
        XCTAssertEqual(e.thumbnail, RGBImage(width: 2, height: 1, pixels: [1, 2, 3, 4, 5, 6]))
        XCTAssertEqual(e.embedding.map { $0 * $0 }.reduce(0, +), 1, accuracy: 1e-5)
        XCTAssertTrue(e.path.hasPrefix("/"))
        XCTAssertEqual(try lib2.integrityCheck(), ["ok"])
    }

    func testRenamedAndMovedFilesAreNotReembeddedModifiedAreAndDeletedDropOut() throws {
        let a = try Fixture.image(photos, "a.png", "alpha")
        let b = try Fixture.image(photos, "b.png", "beta")
        let c = try Fixture.image(photos, "c.png", "gamma")
        let d = try Fixture.image(photos, "d.png", "delta")
        let fake = FakeAnalyzer()
        let lib = try Fixture.library(cache, fake)
        let first = try lib.scan(paths: [photos.path])
        XCTAssertEqual(first.stats.embedded, 4)
        let hashOf = Dictionary(uniqueKeysWithValues: first.entries.map { ($0.path, $0.contentHash) })

        let renamed = photos.appendingPathComponent("renamed.png").path
        try FileManager.default.moveItem(atPath: a, toPath: renamed)
        let moved = photos.appendingPathComponent("deeper/folder/b-moved.png").path
        try FileManager.default.createDirectory(atPath: (moved as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: b, toPath: moved)
        try Data(FakeAnalyzer.magic + Array("gamma, edited".utf8)).write(to: URL(fileURLWithPath: c))
        try FileManager.default.removeItem(atPath: d)

        let fake2 = FakeAnalyzer()
        let second = try Fixture.library(cache, fake2).scan(paths: [photos.path])
        XCTAssertEqual(fake2.preparedPaths, [c], "only the modified file is decoded")
        XCTAssertEqual(second.stats.embedded, 1)
        XCTAssertEqual(second.stats.rehashed, 2)
        XCTAssertEqual(Set(second.entries.map(\.path)), [renamed, moved, c])
        let byPath = Dictionary(uniqueKeysWithValues: second.entries.map { ($0.path, $0) })
        XCTAssertEqual(byPath[renamed]?.contentHash, hashOf[a])
        XCTAssertEqual(byPath[moved]?.contentHash, hashOf[b])
        XCTAssertNotEqual(byPath[c]?.contentHash, hashOf[c])
        // entries() alone sees the same, without computing anything.
        XCTAssertEqual(Set(try lib.entries(paths: [photos.path]).map(\.path)), [renamed, moved, c])
    }

    func testIdenticalFilesAreEmbeddedOnce() throws {
        for i in 0..<5 { try Fixture.image(photos, "copy\(i).png", "same bytes") }
        let fake = FakeAnalyzer()
        let r = try Fixture.library(cache, fake).scan(paths: [photos.path])
        XCTAssertEqual(r.entries.count, 5)
        XCTAssertEqual(fake.embeddedImages, 1)
        XCTAssertEqual(Set(r.entries.map(\.contentHash)).count, 1)
        XCTAssertTrue(r.failures.isEmpty)
    }

    func testHostileEntriesAreReportedOnceAndGoodImagesProcessed() throws {
        let fm = FileManager.default
        var good: [String] = []
        for i in 0..<6 { good.append(try Fixture.image(photos, "good\(i).png", "good \(i)")) }
        let bad = try Fixture.image(photos, "corrupt.png", "BAD:corrupt data in chunk IDAT")
        let empty = photos.appendingPathComponent("empty.jpg").path
        _ = fm.createFile(atPath: empty, contents: Data())
        let random = photos.appendingPathComponent("random.jpg").path
        var rng = SeededRNG(seed: 3)
        _ = fm.createFile(atPath: random, contents: Data((0..<500).map { _ in UInt8(truncatingIfNeeded: rng.next() | 1) }))
        _ = fm.createFile(atPath: photos.appendingPathComponent("notes.txt").path, contents: Data("not an image".utf8))
        let loop = photos.appendingPathComponent("loop.jpg").path
        try fm.createSymbolicLink(atPath: loop, withDestinationPath: loop)
        let dangling = photos.appendingPathComponent("dangling.png").path
        try fm.createSymbolicLink(atPath: dangling, withDestinationPath: "/nonexistent/x.png")
        let up = photos.appendingPathComponent("sub/up").path
        try fm.createDirectory(atPath: photos.appendingPathComponent("sub").path, withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: up, withDestinationPath: photos.path)
        let fifo = photos.appendingPathComponent("pipe.jpg").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)

        let lib = try Fixture.library(cache, FakeAnalyzer())
        let r = try lib.scan(paths: [photos.path])
        XCTAssertEqual(Set(r.entries.map(\.path)), Set(good))
        let reasons = Dictionary(r.failures.map { ($0.path, [$0.reason]) }, uniquingKeysWith: +)
        XCTAssertEqual(reasons[bad], ["corrupt data in chunk IDAT"])
        XCTAssertEqual(reasons[empty], ["empty file"])
        XCTAssertEqual(reasons[random]?.count, 1)
        XCTAssertTrue(reasons[random]?.first?.contains("not an image") ?? false)
        XCTAssertEqual(reasons[loop], ["symlink loop"])
        XCTAssertEqual(reasons[dangling], ["no such file or directory"])
        XCTAssertEqual(reasons[up]?.count, 1)
        XCTAssertTrue(reasons[up]?.first?.contains("symlink loop") ?? false)
        XCTAssertEqual(reasons[fifo], ["not a regular file"])
        XCTAssertEqual(r.failures.count, 7, "\(r.failures)")
    }

    func testHiddenFoldersSkippedUnlessAsked() throws {
        try Fixture.image(photos, "visible.png", "v")
        try Fixture.image(photos, ".thumbnails/hidden.png", "h")
        let lib = try Fixture.library(cache, FakeAnalyzer())
        XCTAssertEqual(try lib.scan(paths: [photos.path]).entries.count, 1)
        XCTAssertEqual(try lib.scan(paths: [photos.path], options: ScanOptions(includeHidden: true)).entries.count, 2)
    }

    func testSymlinkedFolderIsFollowedOnce() throws {
        let elsewhere = root.appendingPathComponent("elsewhere")
        try Fixture.image(elsewhere, "x.png", "x")
        try Fixture.image(photos, "y.png", "y")
        try FileManager.default.createSymbolicLink(atPath: photos.appendingPathComponent("link").path, withDestinationPath: elsewhere.path)
        try FileManager.default.createSymbolicLink(atPath: photos.appendingPathComponent("link2").path, withDestinationPath: elsewhere.path)
        let r = try Fixture.library(cache, FakeAnalyzer()).scan(paths: [photos.path])
        XCTAssertEqual(r.entries.map(\.path), [photos.appendingPathComponent("link/x.png").path, photos.appendingPathComponent("y.png").path])
        XCTAssertTrue(r.failures.isEmpty)
    }

    /// Cancelling keeps the committed batches; the next scan finishes only the rest.
    func testCancelledScanKeepsFinishedWorkAndResumes() throws {
        for i in 0..<40 { try Fixture.image(photos, String(format: "img%02d.png", i), "picture \(i)") }
        let cancel = Cancellation()
        let fake = FakeAnalyzer(batchSize: 4)
        let lib = try Fixture.library(cache, fake)
        var opts = ScanOptions(decodeThreads: 1, cancellation: cancel)
        opts.batchSize = 4
        fake.onEmbed = { calls in if calls == 2 { cancel.cancel() } }
        let r = try lib.scan(paths: [photos.path], options: opts)
        XCTAssertTrue(r.cancelled)
        XCTAssertGreaterThanOrEqual(r.entries.count, 8)
        XCTAssertLessThan(r.entries.count, 40)
        let kept = r.entries.count

        let fake2 = FakeAnalyzer()
        let full = try Fixture.library(cache, fake2).scan(paths: [photos.path])
        XCTAssertEqual(full.entries.count, 40)
        XCTAssertEqual(full.stats.unchanged, kept)
        XCTAssertEqual(fake2.embeddedImages, 40 - kept)

        let reference = try Fixture.library(root.appendingPathComponent("cache2"), FakeAnalyzer()).scan(paths: [photos.path])
        XCTAssertEqual(full.entries.map(\.embedding), reference.entries.map(\.embedding))
        XCTAssertEqual(full.entries.map(\.path), reference.entries.map(\.path))
    }

    func testProgressReachesTotal() throws {
        for i in 0..<9 { try Fixture.image(photos, "p\(i).png", "p\(i)") }
        var events: [ScanProgress] = []
        _ = try Fixture.library(cache, FakeAnalyzer()).scan(paths: [photos.path]) { events.append($0) }
        XCTAssertEqual(events.first?.phase, .walking)
        XCTAssertEqual(events.last?.phase, .finished)
        XCTAssertEqual(events.last?.done, 9)
        XCTAssertTrue(events.allSatisfy { $0.done <= $0.total || $0.phase == .walking })
    }

    func testAnalyzerNotBuiltWhenNothingIsNew() throws {
        try Fixture.image(photos, "a.png", "a")
        _ = try Fixture.library(cache, FakeAnalyzer()).scan(paths: [photos.path])
        let lib = try Library(cacheDirectory: cache, model: "fake", analyzer: { _, _ in
            XCTFail("analyzer built for a fully cached folder"); return FakeAnalyzer()
        })
        XCTAssertEqual(try lib.scan(paths: [photos.path]).entries.count, 1)
    }
}
