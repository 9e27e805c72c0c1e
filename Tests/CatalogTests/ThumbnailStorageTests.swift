import XCTest
@testable import Catalog
import Imaging
import TestSupport

/// Thumbnails are stored as JPEG since schema 3; rows from older caches keep raw RGB8 and must
/// read exactly as before, and a damaged row must degrade to "no preview", never crash.
final class ThumbnailStorageTests: XCTestCase {
    var root: URL!
    override func setUpWithError() throws { root = try TestPaths.makeTempDir("catalog-thumbs") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    /// A thumbnail-like picture: smooth colour ramps plus a few hard edges.
    static func picture(width: Int = 96, height: Int = 64) -> RGBImage {
        var im = RGBImage(width: width, height: height)
        for y in 0..<height { for x in 0..<width {
            let o = (y * width + x) * 3
            let edge = (x / 24 + y / 16) % 2 == 0 ? 40 : 0
            im.pixels[o] = UInt8(min(255, x * 255 / width + edge))
            im.pixels[o + 1] = UInt8(y * 255 / height)
            im.pixels[o + 2] = UInt8(min(255, 128 + edge))
        } }
        return im
    }

    static func meanAbsDiff(_ a: RGBImage, _ b: RGBImage) -> Double {
        Double(zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }.reduce(0, +)) / Double(max(1, a.pixels.count))
    }

    func testEncodingRoundTripAndDamagedRows() throws {
        let im = Self.picture()
        let stored = StoredThumbnail(encoding: im)
        XCTAssertEqual(stored.format, .jpeg)
        XCTAssertEqual(stored.width, 96); XCTAssertEqual(stored.height, 64)
        XCTAssertLessThan(stored.bytes.count, im.pixels.count / 3, "JPEG is the point: at most a third of 18 KB")
        let back = stored.decoded()
        XCTAssertEqual(back.width, 96); XCTAssertEqual(back.height, 64)
        XCTAssertLessThan(Self.meanAbsDiff(back, im), 3)

        // Tiny images stay raw (JPEG's headers would be larger) and exact.
        let tiny = RGBImage(width: 2, height: 1, pixels: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(StoredThumbnail(encoding: tiny).format, .rgb)
        XCTAssertEqual(StoredThumbnail(encoding: tiny).decoded(), tiny)
        XCTAssertEqual(StoredThumbnail(encoding: RGBImage(width: 0, height: 0, pixels: [])).decoded().width, 0)

        // Damage: garbage JPEG, truncated JPEG, sizes that disagree, raw bytes of the wrong length.
        let empty = RGBImage(width: 0, height: 0, pixels: [])
        XCTAssertEqual(StoredThumbnail(format: .jpeg, width: 96, height: 64, bytes: [1, 2, 3]).decoded(), empty)
        XCTAssertEqual(StoredThumbnail(format: .jpeg, width: 96, height: 64, bytes: Array(stored.bytes.prefix(200))).decoded(), empty)
        XCTAssertEqual(StoredThumbnail(format: .jpeg, width: 95, height: 64, bytes: stored.bytes).decoded(), empty)
        XCTAssertEqual(StoredThumbnail(format: .rgb, width: 96, height: 64, bytes: [1, 2, 3]).decoded(), empty)
        XCTAssertEqual(Library.cachedThumbnail(width: 2, height: 1, format: "webp", bytes: tiny.pixels), empty)
    }

    /// A schema-2 cache (raw RGB8 thumbnails, no thumb_format column) opens in place: its rows read
    /// back exactly, nothing is re-embedded, and new rows are written as JPEG beside them.
    func testVersion2CacheWithRawThumbnailsOpensAndWorks() throws {
        let dir = root.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let photos = root.appendingPathComponent("photos")
        let path = try Fixture.image(photos, "old.png", "scanned by schema 2")
        let st = try FS.stat(path)
        let hash = ContentHasher.hash(Array(FileManager.default.contents(atPath: path)!))
        let oldThumb = Self.picture()
        do {
            let db = try Database(path: dir.appendingPathComponent(CacheLocation.databaseName).path)
            try Schema.migrate(db, upTo: 2)
            XCTAssertEqual(try db.userVersion, 2)
            try db.run("INSERT INTO files VALUES (?,?,?,?,?)", path, st.size, st.mtimeNanoseconds, hash, 0.0)
            try db.run("""
                INSERT INTO analyses(content_hash, model, embedding, top_classes, signature, width, height, orientation, date,
                  camera_make, camera_model, format, thumb_width, thumb_height, thumbnail, created, exif_fields)
                VALUES (?, 'fake', ?, ?, ?, 400, 300, 1, NULL, NULL, NULL, 'png', 96, 64, ?, 0, 4)
                """, hash, Blob.bytes([0.6, 0.8]), Blob.bytes([(index: 3, probability: 0.5)]), [UInt8]([9]), oldThumb.pixels)
        }
        let fake = FakeAnalyzer()
        fake.thumbnail = Self.picture(width: 90, height: 60)
        let lib = try Fixture.library(dir, fake)
        XCTAssertEqual(try lib.info().schemaVersion, Schema.currentVersion)
        XCTAssertEqual(try lib.thumbnail(contentHash: hash), oldThumb, "raw row read exactly")

        let newPath = try Fixture.image(photos, "new.png", "scanned by schema 3")
        let r = try lib.scan(paths: [photos.path], options: ScanOptions(includeThumbnails: true))
        XCTAssertEqual(fake.preparedPaths, [newPath], "the old row is reused, only the new file is analysed")
        let byPath = Dictionary(uniqueKeysWithValues: r.entries.map { ($0.path, $0) })
        XCTAssertEqual(byPath[path]?.thumbnail, oldThumb)
        XCTAssertEqual(byPath[path]?.embedding, [0.6, 0.8])
        let fresh = try XCTUnwrap(byPath[newPath]?.thumbnail)
        XCTAssertEqual(fresh.width, 90); XCTAssertEqual(fresh.height, 60)
        XCTAssertLessThan(Self.meanAbsDiff(fresh, fake.thumbnail), 3)

        let formats = try lib.locked {
            try lib.db.query("SELECT content_hash, thumb_format, length(thumbnail) FROM analyses") {
                ($0.string(0) ?? "", $0.string(1) ?? "", $0.int(2) ?? 0)
            }
        }
        XCTAssertEqual(formats.count, 2)
        for (h, format, bytes) in formats {
            if h == hash { XCTAssertEqual(format, "rgb"); XCTAssertEqual(bytes, 96 * 64 * 3) }
            else { XCTAssertEqual(format, "jpeg"); XCTAssertLessThan(bytes, 90 * 60 * 3 / 3) }
        }
        XCTAssertEqual(try lib.integrityCheck(), ["ok"])
    }
}
