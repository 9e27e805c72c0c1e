import XCTest
import TestSupport
@testable import Imaging

/// Every PNG colour type and bit depth, with and without Adam7 and tRNS, against expected pixels
/// computed here from the raw samples (bit replication, 16 -> 8 rounding, compositing over white).
final class PNGTests: XCTestCase {
    struct Case { var colorType: Int; var depth: Int; var palette = false; var trns = false }

    static let cases: [Case] = {
        var c: [Case] = []
        for d in [1, 2, 4, 8, 16] { c.append(Case(colorType: 0, depth: d)) }
        for d in [1, 8, 16] { c.append(Case(colorType: 0, depth: d, trns: true)) }
        for d in [8, 16] { c.append(Case(colorType: 2, depth: d)); c.append(Case(colorType: 2, depth: d, trns: true)) }
        for d in [1, 2, 4, 8] { c.append(Case(colorType: 3, depth: d)); c.append(Case(colorType: 3, depth: d, trns: true)) }
        for d in [8, 16] { c.append(Case(colorType: 4, depth: d)); c.append(Case(colorType: 6, depth: d)) }
        return c
    }()

    /// Packs samples (one per channel, each < 2^depth) into PNG rows.
    static func pack(_ samples: [Int], width: Int, height: Int, channels: Int, depth: Int) -> (rows: [UInt8], rowBytes: Int) {
        let rowBytes = (width * channels * depth + 7) / 8
        var rows = [UInt8](repeating: 0, count: rowBytes * height)
        for y in 0..<height {
            for i in 0..<(width * channels) {
                let v = samples[y * width * channels + i]
                switch depth {
                case 16:
                    rows[y * rowBytes + 2 * i] = UInt8(v >> 8)
                    rows[y * rowBytes + 2 * i + 1] = UInt8(v & 0xFF)
                case 8:
                    rows[y * rowBytes + i] = UInt8(v)
                default:
                    let bit = i * depth
                    rows[y * rowBytes + bit / 8] |= UInt8(v << (8 - depth - bit % 8))
                }
            }
        }
        return (rows, rowBytes)
    }

    static func to8(_ v: Int, depth: Int) -> Double {
        depth == 16 ? Double(v) * 255 / 65535 : Double(v * 255 / ((1 << depth) - 1))
    }

    static func overWhite(_ c: Double, _ a: Double) -> Double { (c * a + 255 * (255 - a)) / 255 }

    func check(_ tc: Case, interlaced: Bool, width: Int = 13, height: Int = 11) throws {
        var rng = SeededRNG(seed: UInt64(tc.colorType * 100 + tc.depth + (interlaced ? 7 : 0) + (tc.trns ? 50 : 0)))
        let channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][tc.colorType]!
        let maxV = (1 << tc.depth) - 1
        var samples = (0..<(width * height * channels)).map { _ in Int(rng.next() % UInt64(maxV + 1)) }
        var palette: [UInt8] = [], paletteAlpha: [UInt8] = []
        var transparent: [UInt16]? = nil
        if tc.colorType == 3 {
            let n = min(1 << tc.depth, 256)
            palette = (0..<(n * 3)).map { _ in UInt8(rng.next() % 256) }
            if tc.trns { paletteAlpha = (0..<max(1, n / 2)).map { _ in UInt8(rng.next() % 256) } }
        }
        if tc.trns && tc.colorType != 3 {
            // Make some pixels exactly the transparent colour.
            let key = (0..<channels).map { _ in Int(rng.next() % UInt64(maxV + 1)) }
            transparent = key.map { UInt16($0) }
            for p in stride(from: 0, to: width * height, by: 3) { for c in 0..<channels { samples[p * channels + c] = key[c] } }
        }
        let packed = Self.pack(samples, width: width, height: height, channels: channels, depth: tc.depth)
        let png = try ImageEncoders.png(rows: packed.rows, rowBytes: packed.rowBytes, width: width, height: height,
                                        bitDepth: tc.depth, colorType: tc.colorType, interlaced: interlaced,
                                        palette: palette, paletteAlpha: paletteAlpha, transparentColor: transparent)
        let ((image, meta), err) = try capturingStderr { try decodeImage(data: png, name: "t.png") }
        XCTAssertEqual(err, "")
        XCTAssertEqual(meta.format, .png)
        XCTAssertEqual(image.width, width); XCTAssertEqual(image.height, height)
        let tolerance = tc.depth == 16 ? 1 : 0
        let label = "type \(tc.colorType) depth \(tc.depth) trns \(tc.trns) interlaced \(interlaced)"
        for p in 0..<(width * height) {
            let s = Array(samples[(p * channels)..<(p * channels + channels)])
            var rgb: [Double]
            var alpha = 255.0
            switch tc.colorType {
            case 0:
                let g = Self.to8(s[0], depth: tc.depth); rgb = [g, g, g]
                if let t = transparent, Int(t[0]) == s[0] { alpha = 0 }
            case 2:
                rgb = s.map { Self.to8($0, depth: tc.depth) }
                if let t = transparent, t.map(Int.init) == s { alpha = 0 }
            case 3:
                rgb = (0..<3).map { Double(palette[s[0] * 3 + $0]) }
                if s[0] < paletteAlpha.count { alpha = Double(paletteAlpha[s[0]]) }
            case 4:
                let g = Self.to8(s[0], depth: tc.depth); rgb = [g, g, g]
                alpha = Self.to8(s[1], depth: tc.depth)
            default:
                rgb = s[0..<3].map { Self.to8($0, depth: tc.depth) }
                alpha = Self.to8(s[3], depth: tc.depth)
            }
            if tc.depth == 16 { rgb = rgb.map { $0.rounded() }; alpha = alpha.rounded() }
            for c in 0..<3 {
                let expected = Int(Self.overWhite(rgb[c], alpha).rounded())
                let got = Int(image.pixels[p * 3 + c])
                if abs(expected - got) > tolerance {
                    XCTFail("\(label): pixel \(p) channel \(c) expected \(expected) got \(got)")
                    return
                }
            }
        }
    }

    func testEveryColourTypeAndDepth() throws {
        for tc in Self.cases { try check(tc, interlaced: false) }
    }

    func testEveryColourTypeAndDepthInterlaced() throws {
        for tc in Self.cases { try check(tc, interlaced: true) }
    }

    func testOddSizesInterlaced() throws {
        // Adam7 passes are empty for some rows/columns of tiny images.
        for (w, h) in [(1, 1), (2, 9), (9, 2), (3, 5)] {
            try check(Case(colorType: 6, depth: 8), interlaced: true, width: w, height: h)
            try check(Case(colorType: 0, depth: 1), interlaced: true, width: w, height: h)
        }
    }

    func testEncodePNGRoundTrip() throws {
        let im = Fixture.pattern(width: 31, height: 17)
        let (back, meta) = try decodeImage(data: try encodePNG(im), name: "rt.png")
        XCTAssertEqual(back, im)
        XCTAssertEqual(meta.width, 31); XCTAssertEqual(meta.height, 17); XCTAssertEqual(meta.orientation, 1)
    }

    func testFormatComesFromMagicBytesNotName() throws {
        let im = Fixture.pattern(width: 5, height: 4)
        let dir = try TestPaths.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("really-a-png.jpg").path
        try Data(try encodePNG(im)).write(to: URL(fileURLWithPath: path))
        let (back, meta) = try decodeImage(path: path)
        XCTAssertEqual(meta.format, .png)
        XCTAssertEqual(back, im)
        XCTAssertEqual(try readImageMetadata(path: path), meta)
    }
}
