import XCTest
import TestSupport
@testable import Imaging

final class WebPTests: XCTestCase {
    func decode(_ data: [UInt8]) throws -> (RGBImage, ImageMetadata) {
        let (r, err) = try capturingStderr { try decodeImage(data: data, name: "t.webp") }
        XCTAssertEqual(err, "")
        return r
    }

    func testLosslessIsExact() throws {
        let im = Fixture.pattern(width: 37, height: 21)
        let (back, meta) = try decode(try encodeWebP(im, lossless: true))
        XCTAssertEqual(meta.format, .webp)
        XCTAssertEqual(back, im)
    }

    func testLossyIsClose() throws {
        let im = Fixture.smooth(width: 64, height: 48)
        let (back, _) = try decode(try encodeWebP(im, quality: 95))
        XCTAssertEqual(back.width, 64); XCTAssertEqual(back.height, 48)
        XCTAssertLessThan(Fixture.meanAbsDiff(back, im), 3)
    }

    func testAlphaCompositedOverWhite() throws {
        let w = 9, h = 7
        var rng = SeededRNG(seed: 7)
        let smooth = Fixture.smooth(width: w, height: h)
        for lossless in [true, false] {
            // Lossless: noise in every channel survives exactly. Lossy: smooth colour (what VP8 is
            // for) under noisy alpha, which WebP always stores losslessly.
            var rgba = [UInt8](repeating: 0, count: w * h * 4)
            for p in 0..<(w * h) {
                for c in 0..<3 { rgba[4 * p + c] = lossless ? UInt8(rng.next() % 256) : smooth.pixels[3 * p + c] }
                rgba[4 * p + 3] = UInt8(rng.next() % 256)
            }
            let webp = try ImageEncoders.webp(samples: rgba, width: w, height: h, hasAlpha: true, lossless: lossless, quality: 100)
            let (back, _) = try decode(webp)
            var worst = 0, total = 0
            for p in 0..<(w * h) {
                let a = Double(rgba[4 * p + 3])
                for c in 0..<3 {
                    let expected = (Double(rgba[4 * p + c]) * a + 255 * (255 - a)) / 255
                    let d = abs(Int(expected.rounded()) - Int(back.pixels[3 * p + c]))
                    worst = max(worst, d); total += d
                }
            }
            if lossless {
                XCTAssertLessThanOrEqual(worst, 1)
            } else {  // chroma is subsampled even at quality 100: judge the average
                XCTAssertLessThan(Double(total) / Double(w * h * 3), 6)
            }
        }
        // Fully transparent pixels come out white.
        let clear = [UInt8](repeating: 0, count: 4 * 4 * 4)
        let (white, _) = try decode(try ImageEncoders.webp(samples: clear, width: 4, height: 4, hasAlpha: true, lossless: true))
        XCTAssertEqual(white.pixels, [UInt8](repeating: 255, count: 4 * 4 * 3))
    }

    /// Wraps a simple (VP8L) WebP in an extended VP8X container with an EXIF chunk.
    static func withExif(_ simple: [UInt8], width: Int, height: Int, tiff: [UInt8]) -> [UInt8] {
        func chunk(_ fourcc: String, _ payload: [UInt8]) -> [UInt8] {
            Array(fourcc.utf8) + Fixture.le32(UInt32(payload.count)) + payload + (payload.count % 2 == 1 ? [0] : [])
        }
        let w1 = width - 1, h1 = height - 1
        let vp8x: [UInt8] = [0x08, 0, 0, 0, UInt8(w1 & 0xFF), UInt8((w1 >> 8) & 0xFF), UInt8(w1 >> 16),
                             UInt8(h1 & 0xFF), UInt8((h1 >> 8) & 0xFF), UInt8(h1 >> 16)]
        let body = chunk("VP8X", vp8x) + Array(simple[12...]) + chunk("EXIF", tiff)
        return Array("RIFF".utf8) + Fixture.le32(UInt32(4 + body.count)) + Array("WEBP".utf8) + body
    }

    func testExifChunkOrientation() throws {
        let upright = Fixture.pattern(width: 12, height: 7)
        for o in 1...8 {
            let stored = Fixture.stored(upright, orientation: o)
            let simple = try encodeWebP(stored, lossless: true)
            let webp = Self.withExif(simple, width: stored.width, height: stored.height,
                                     tiff: Fixture.exif(orientation: o, littleEndian: o % 2 == 0))
            let (back, meta) = try decode(webp)
            XCTAssertEqual(meta.orientation, o)
            XCTAssertEqual(meta.cameraModel, "Test Camera")
            XCTAssertEqual(back, upright, "orientation \(o)")
        }
    }
}
