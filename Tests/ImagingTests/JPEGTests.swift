import XCTest
import TestSupport
@testable import Imaging

final class JPEGTests: XCTestCase {
    func decode(_ data: [UInt8], minimumShortSide: Int? = nil) throws -> (RGBImage, ImageMetadata) {
        let (r, err) = try capturingStderr { try decodeImage(data: data, name: "t.jpg", minimumShortSide: minimumShortSide) }
        XCTAssertEqual(err, "", "nothing may reach stderr")
        return r
    }

    func testBaselineAndProgressiveEverySubsampling() throws {
        let im = Fixture.smooth(width: 67, height: 45)  // not a multiple of the MCU size
        for progressive in [false, true] {
            for sub in [JPEGSubsampling.s444, .s422, .s420] {
                let jpg = try ImageEncoders.jpeg(samples: im.pixels, width: im.width, height: im.height, components: 3,
                                                 quality: 95, progressive: progressive, subsampling: sub)
                let (back, meta) = try decode(jpg)
                XCTAssertEqual(meta.format, .jpeg)
                XCTAssertEqual(back.width, 67); XCTAssertEqual(back.height, 45)
                let mad = Fixture.meanAbsDiff(back, im)
                XCTAssertLessThan(mad, 2.0, "progressive \(progressive) \(sub)")
                XCTAssertLessThan(Fixture.maxAbsDiff(back, im), 24, "progressive \(progressive) \(sub)")
            }
        }
    }

    func testGrayscaleBecomesRGB() throws {
        let w = 40, h = 24
        let gray = (0..<(w * h)).map { UInt8(($0 % w) * 255 / (w - 1)) }
        let jpg = try ImageEncoders.jpeg(samples: gray, width: w, height: h, components: 1, quality: 98)
        let (back, _) = try decode(jpg)
        for p in 0..<(w * h) {
            XCTAssertEqual(back.pixels[3 * p], back.pixels[3 * p + 1])
            XCTAssertEqual(back.pixels[3 * p], back.pixels[3 * p + 2])
            XCTAssertLessThanOrEqual(abs(Int(back.pixels[3 * p]) - Int(gray[p])), 6)
        }
    }

    /// Adobe CMYK stores inverted ink; R = C'*K'/255 with C', K' the stored (inverted) values.
    func testCMYKAndYCCKAdobeInverted() throws {
        let im = Fixture.blocks(blocksWide: 4, blocksHigh: 3)
        var cmyk = [UInt8](repeating: 0, count: im.width * im.height * 4)
        for p in 0..<(im.width * im.height) {
            let r = Double(im.pixels[3 * p]), g = Double(im.pixels[3 * p + 1]), b = Double(im.pixels[3 * p + 2])
            let k = max(r, g, b)  // stored (inverted) black = 255 - ink
            cmyk[4 * p] = UInt8((r * 255 / k).rounded())
            cmyk[4 * p + 1] = UInt8((g * 255 / k).rounded())
            cmyk[4 * p + 2] = UInt8((b * 255 / k).rounded())
            cmyk[4 * p + 3] = UInt8(k)
        }
        for ycck in [false, true] {
            let jpg = try ImageEncoders.jpeg(samples: cmyk, width: im.width, height: im.height, components: 4,
                                             quality: 100, subsampling: .s444, ycck: ycck)
            XCTAssertTrue(Self.hasAdobeMarker(jpg), "libjpeg writes APP14 Adobe for CMYK/YCCK")
            let (back, _) = try decode(jpg)
            XCTAssertLessThan(Fixture.meanAbsDiff(back, im), 2.5, "ycck \(ycck)")
            XCTAssertLessThan(Fixture.maxAbsDiff(back, im), 12, "ycck \(ycck)")
        }
    }

    func testScaleChoice() {
        // Smallest n/8, n >= 2, whose short side still reaches the minimum; sizes round up like libjpeg.
        XCTAssertEqual(jpegScale(width: 4000, height: 3000, minimumShortSide: 256), 2)  // never 1/8 (DC only)
        XCTAssertEqual(jpegScale(width: 4000, height: 3000, minimumShortSide: 750), 2)  // 1000x750
        XCTAssertEqual(jpegScale(width: 4000, height: 3000, minimumShortSide: 751), 3)
        XCTAssertEqual(jpegScale(width: 8000, height: 6000, minimumShortSide: 512), 2)  // 1/8 would give 750
        XCTAssertEqual(jpegScale(width: 800, height: 600, minimumShortSide: 150), 2)
        XCTAssertEqual(jpegScale(width: 800, height: 600, minimumShortSide: 151), 3)
        XCTAssertEqual(jpegScale(width: 801, height: 601, minimumShortSide: 151), 2)  // ceil(601 * 2 / 8) = 151
        XCTAssertEqual(jpegScale(width: 1024, height: 768, minimumShortSide: 512), 6)
        XCTAssertEqual(jpegScale(width: 800, height: 600, minimumShortSide: 1000), 8) // never upscales
        XCTAssertEqual(jpegScale(width: 800, height: 600, minimumShortSide: nil), 8)
        XCTAssertEqual(jpegScale(width: 600, height: 800, minimumShortSide: 300), 4)  // portrait: width is short
    }

    func testDCTScaledDecodeSizeAndContent() throws {
        let im = Fixture.smooth(width: 800, height: 600)
        let jpg = try encodeJPEG(im, quality: 92)
        let full = try decode(jpg).0
        XCTAssertEqual(full.width, 800)
        for (minimum, w, h) in [(150, 200, 150), (151, 300, 225), (75, 200, 150), (301, 500, 375), (600, 800, 600), (10, 200, 150)] {
            let (scaled, meta) = try decode(jpg, minimumShortSide: minimum)
            XCTAssertEqual(scaled.width, w, "min \(minimum)"); XCTAssertEqual(scaled.height, h, "min \(minimum)")
            XCTAssertEqual(meta.width, 800, "metadata reports the full size"); XCTAssertEqual(meta.height, 600)
            // Same picture: compare against the full decode downsampled by our resampler.
            let reference = resize(full, width: w, height: h)
            XCTAssertLessThan(Fixture.meanAbsDiff(scaled, reference), 1.5, "min \(minimum)")
        }
    }

    func testEncodeJPEGRoundTrip() throws {
        let im = Fixture.blocks(blocksWide: 5, blocksHigh: 2)
        let (back, meta) = try decode(try ImageEncoders.jpeg(samples: im.pixels, width: im.width, height: im.height,
                                                             components: 3, quality: 100, subsampling: .s444))
        XCTAssertEqual(meta.orientation, 1); XCTAssertNil(meta.cameraMake)
        XCTAssertLessThanOrEqual(Fixture.maxAbsDiff(back, im), 4)
    }

    static func hasAdobeMarker(_ d: [UInt8]) -> Bool {
        let tag: [UInt8] = [0xFF, 0xEE, 0x00, 0x0E] + Array("Adobe".utf8)
        guard d.count > tag.count else { return false }
        return (0..<(d.count - tag.count)).contains { i in d[i..<(i + tag.count)].elementsEqual(tag) }
    }
}
