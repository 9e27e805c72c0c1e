import XCTest
@testable import Catalog
import Imaging
import TestSupport

/// Real decoding (Imaging) through the pipeline with a fake model: the decode stage, thumbnails
/// and the way hostile real files are reported.
final class RealImageTests: XCTestCase {
    var root: URL!
    override func setUpWithError() throws { root = try TestPaths.makeTempDir("catalog-real") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    /// Decodes with the real DecodeStage; "embeds" by averaging the input per channel.
    final class DecodingAnalyzer: ImageAnalyzer {
        let stage = DecodeStage(preprocessing: .efficientNet(size: 32), signature: { img in
            let t = Imaging.resize(img, width: 4, height: 4); return t.pixels
        })
        let modelName = "decoding-fake"
        var inputElements: Int { 32 * 32 * 3 }
        let batchSize = 3
        func prepare(data: [UInt8], path: String) throws -> PreparedImage { try stage.prepare(data: data, path: path) }
        func embed(batch: [Float], count: Int) throws -> [(embedding: [Float], probabilities: [Float])] {
            (0..<count).map { i in
                var m: [Float] = [0, 0, 0, 1]
                for p in 0..<(32 * 32) { for c in 0..<3 { m[c] += batch[i * inputElements + p * 3 + c] / 1024 } }
                let n = m.map { $0 * $0 }.reduce(0, +).squareRoot()
                return (m.map { $0 / n }, [0.1, 0.2, 0.3, 0.4, 0, 0])
            }
        }
    }

    static func gradient(_ w: Int, _ h: Int, seed: Int) -> RGBImage {
        var px = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h { for x in 0..<w {
            px[(y * w + x) * 3] = UInt8((x * 255 / max(1, w - 1) + seed * 40) % 256)
            px[(y * w + x) * 3 + 1] = UInt8((y * 255 / max(1, h - 1)) % 256)
            px[(y * w + x) * 3 + 2] = UInt8((seed * 70) % 256)
        } }
        return RGBImage(width: w, height: h, pixels: px)
    }

    func testRealFilesAndHostileOnes() throws {
        let photos = root.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        var good: [String] = []
        for i in 0..<4 {
            let p = photos.appendingPathComponent("photo\(i).jpg").path
            try Data(encodeJPEG(Self.gradient(300 + i * 10, 200, seed: i), quality: 90)).write(to: URL(fileURLWithPath: p))
            good.append(p)
        }
        let png = photos.appendingPathComponent("drawing.png").path
        try Data(encodePNG(Self.gradient(64, 120, seed: 9))).write(to: URL(fileURLWithPath: png))
        good.append(png)
        // Named without an extension: found by content.
        let noExt = photos.appendingPathComponent("IMG_0001").path
        try Data(encodeJPEG(Self.gradient(120, 90, seed: 5), quality: 80)).write(to: URL(fileURLWithPath: noExt))
        good.append(noExt)

        let full = try encodeJPEG(Self.gradient(400, 300, seed: 7), quality: 90)
        let truncated = photos.appendingPathComponent("truncated.jpg").path
        try Data(full.prefix(full.count / 3)).write(to: URL(fileURLWithPath: truncated))
        // A PNG whose header claims 100000 x 100000 pixels.
        var lying = try encodePNG(Self.gradient(8, 8, seed: 1))
        lying.replaceSubrange(16..<24, with: [0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0])
        let huge = photos.appendingPathComponent("huge.png").path
        try Data(lying).write(to: URL(fileURLWithPath: huge))

        let lib = try Library(cacheDirectory: root.appendingPathComponent("cache"), model: "decoding-fake",
                              analyzer: { _, _ in DecodingAnalyzer() })
        let r = try lib.scan(paths: [photos.path])
        XCTAssertEqual(Set(r.entries.map(\.path)), Set(good))
        let failed = Dictionary(r.failures.map { ($0.path, $0.reason) }, uniquingKeysWith: { a, b in a + " | " + b })
        XCTAssertEqual(Set(failed.keys), [truncated, huge], "\(r.failures)")
        XCTAssertFalse(failed[truncated]!.isEmpty)
        XCTAssertFalse(failed[truncated]!.hasPrefix("/"), "the path is not repeated in the reason")
        XCTAssertFalse(failed[huge]!.isEmpty)

        let byPath = Dictionary(uniqueKeysWithValues: r.entries.map { ($0.path, $0) })
        let e0 = try XCTUnwrap(byPath[good[0]])
        XCTAssertEqual(e0.metadata.width, 300)
        XCTAssertEqual(e0.metadata.height, 200)
        XCTAssertEqual(e0.metadata.format, .jpeg)
        XCTAssertEqual(e0.thumbnail.width, 96)
        XCTAssertEqual(e0.thumbnail.height, 64)
        XCTAssertEqual(e0.thumbnail.pixels.count, 96 * 64 * 3)
        XCTAssertEqual(e0.signature.count, 4 * 4 * 3)
        let p = try XCTUnwrap(byPath[png])
        XCTAssertEqual(p.thumbnail.height, 64)
        XCTAssertEqual(p.thumbnail.width, 34)   // 64 x 120 fitted into 96 x 64 keeps its aspect
        XCTAssertEqual(p.metadata.format, .png)
    }
}
