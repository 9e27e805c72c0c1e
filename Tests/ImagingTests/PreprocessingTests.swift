import XCTest
import TestSupport
@testable import Imaging

/// The preprocessing against a naive reference written from Pillow's description (separable
/// filter, horizontal pass first, support widened by the scale when downscaling, taps clipped to
/// the image, weights normalised, 8-bit rounding after each pass) in Double, straight loops, no
/// shared code.
final class PreprocessingTests: XCTestCase {
    static func cubic(_ t: Double) -> Double {
        let x = abs(t), a = -0.5
        if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
        if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
        return 0
    }
    static func triangle(_ t: Double) -> Double { max(0, 1 - abs(t)) }

    /// Resizes the sub-image (x0, y0, w, h) to ow x oh, returns [oh][ow][3] rounded to 0...255.
    static func naiveResize(_ im: RGBImage, x0: Int, y0: Int, w: Int, h: Int, ow: Int, oh: Int,
                            support: Double, filter: (Double) -> Double) -> [Double] {
        func weights(inSize: Int, outSize: Int, i: Int) -> [(Int, Double)] {
            let scale = Double(inSize) / Double(outSize)
            let fs = max(scale, 1)
            let center = (Double(i) + 0.5) * scale
            var list: [(Int, Double)] = []
            for j in 0..<inSize {
                // Pillow's window: [int(center - support*fs + 0.5), int(center + support*fs + 0.5)).
                guard j >= max(0, Int(center - support * fs + 0.5)), j < min(inSize, Int(center + support * fs + 0.5)) else { continue }
                list.append((j, filter((Double(j) - center + 0.5) / fs)))
            }
            let total = list.reduce(0) { $0 + $1.1 }
            return list.map { ($0.0, $0.1 / total) }
        }
        var mid = [Double](repeating: 0, count: h * ow * 3)
        for y in 0..<h {
            for x in 0..<ow {
                for (j, wt) in weights(inSize: w, outSize: ow, i: x) {
                    for c in 0..<3 { mid[(y * ow + x) * 3 + c] += wt * Double(im.pixels[((y0 + y) * im.width + x0 + j) * 3 + c]) }
                }
            }
        }
        mid = mid.map { min(max($0, 0), 255).rounded() }  // Pillow's intermediate image is 8-bit
        var out = [Double](repeating: 0, count: oh * ow * 3)
        for y in 0..<oh {
            for (j, wt) in weights(inSize: h, outSize: oh, i: y) {
                for k in 0..<(ow * 3) { out[y * ow * 3 + k] += wt * mid[j * ow * 3 + k] }
            }
        }
        return out.map { min(max($0, 0), 255).rounded() }
    }

    static func naiveEfficientNet(_ im: RGBImage, size s: Int) -> [Float] {
        let short = min(im.width, im.height)
        let c = max(1, Int(floor(Double(s) / Double(s + 32) * Double(short) + 1e-9)))  // at least one pixel
        let top = (im.height - c + 1) / 2, left = (im.width - c + 1) / 2
        return naiveResize(im, x0: left, y0: top, w: c, h: c, ow: s, oh: s, support: 2, filter: cubic)
            .map { Float(($0 - 127) / 128) }
    }

    static func naiveTorchvision(_ im: RGBImage, resize r: Int, crop: Int) -> [Float] {
        let (w, h) = (im.width, im.height)
        let (rw, rh) = w <= h ? (r, Int(Double(r) * Double(h) / Double(w))) : (Int(Double(r) * Double(w) / Double(h)), r)
        let full = naiveResize(im, x0: 0, y0: 0, w: w, h: h, ow: rw, oh: rh, support: 1, filter: triangle)
        let top = Int((Double(rh - crop) / 2).rounded(.toNearestOrEven)), left = Int((Double(rw - crop) / 2).rounded(.toNearestOrEven))
        let mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225]
        var out = [Float](repeating: 0, count: crop * crop * 3)
        for y in 0..<crop {
            for x in 0..<crop {
                for c in 0..<3 { out[(y * crop + x) * 3 + c] = Float((full[((top + y) * rw + left + x) * 3 + c] / 255 - mean[c]) / std[c]) }
            }
        }
        return out
    }

    /// Results are 8-bit values before normalisation; a Float vs Double rounding tie may move one
    /// value by one step, so allow that on a tiny fraction of the outputs.
    func assertClose(_ got: [Float], _ want: [Float], step: Float, label: String) {
        XCTAssertEqual(got.count, want.count, label)
        var off = 0
        for i in want.indices {
            let d = abs(got[i] - want[i])
            if d > step * 1.01 + 1e-5 { XCTFail("\(label): index \(i) got \(got[i]) want \(want[i])"); return }
            if d > 1e-5 { off += 1 }
        }
        XCTAssertLessThanOrEqual(off, max(2, want.count / 500), label)
    }

    func testEfficientNetAgainstReferenceOnAwkwardShapes() {
        var rng = SeededRNG(seed: 3)
        for (w, h, s) in [(500, 375, 224), (375, 500, 224), (37, 23, 224), (300, 301, 240), (1000, 263, 260),
                          (9, 7, 224), (256, 256, 224), (1, 1, 224), (3, 200, 224)] {
            var im = Fixture.pattern(width: w, height: h)
            for i in stride(from: 0, to: im.pixels.count, by: 5) { im.pixels[i] = UInt8(rng.next() % 256) }  // texture
            let prep = Preprocessing.efficientNet(size: s)
            let got = prep.apply(im)
            assertClose(got, Self.naiveEfficientNet(im, size: s), step: 1 / 128, label: "\(w)x\(h) S=\(s)")
        }
    }

    func testTorchvisionAgainstReference() {
        var rng = SeededRNG(seed: 4)
        for (w, h) in [(500, 375), (300, 400), (257, 256), (640, 427), (100, 60)] {
            var im = Fixture.smooth(width: w, height: h)
            for i in stride(from: 0, to: im.pixels.count, by: 7) { im.pixels[i] = UInt8(rng.next() % 256) }
            let got = Preprocessing.torchvision(resize: 256, crop: 224).apply(im)
            assertClose(got, Self.naiveTorchvision(im, resize: 256, crop: 224), step: 1 / (255 * 0.224), label: "\(w)x\(h)")
        }
    }

    func testEfficientNetCropPositionAndClipping() {
        // Red outside the expected crop, grey inside: a correct crop whose taps stay inside the crop
        // sees only grey. 500x375, S=224: c = 328, top = 24, left = 86.
        var im = RGBImage(width: 500, height: 375, fill: (255, 0, 0))
        for y in 24..<(24 + 328) { for x in 86..<(86 + 328) { for c in 0..<3 { im.pixels[(y * 500 + x) * 3 + c] = 99 } } }
        let out = Preprocessing.efficientNet(size: 224).apply(im)
        let grey = Float(99 - 127) / 128
        XCTAssertEqual(out.count, 224 * 224 * 3)
        XCTAssertTrue(out.allSatisfy { abs($0 - grey) < 1e-6 })
    }

    func testSizesAndMinimumShortSide() {
        XCTAssertEqual(Preprocessing.efficientNet(size: 224).minimumShortSide, 256)
        XCTAssertEqual(Preprocessing.efficientNet(size: 240).minimumShortSide, 272)
        XCTAssertEqual(Preprocessing.efficientNet(size: 260).minimumShortSide, 292)
        XCTAssertEqual(Preprocessing.torchvision(resize: 256, crop: 224).minimumShortSide, 256)
        XCTAssertEqual(Preprocessing.torchvision(resize: 256, crop: 224).inputSize, 224)
        // At the minimum short side the crop is exactly S (taken at full resolution).
        for s in [224, 240, 260] { XCTAssertEqual(s * (s + 32) / (s + 32), s) }
        var buffer = [Float](repeating: .nan, count: 240 * 240 * 3)
        buffer.withUnsafeMutableBufferPointer { Preprocessing.efficientNet(size: 240).apply(Fixture.pattern(width: 50, height: 40), into: $0.baseAddress!) }
        XCTAssertFalse(buffer.contains { $0.isNaN }, "apply(into:) writes every element")
    }

    func testResizeAgainstReferenceAndThumbnail() {
        let im = Fixture.smooth(width: 123, height: 77)
        for (ow, oh) in [(40, 25), (200, 150), (123, 10), (7, 77)] {
            let got = resize(im, width: ow, height: oh)
            let want = Self.naiveResize(im, x0: 0, y0: 0, w: 123, h: 77, ow: ow, oh: oh, support: 2, filter: Self.cubic)
            XCTAssertLessThanOrEqual(zip(got.pixels, want).map { abs(Double($0) - $1) }.max()!, 1, "\(ow)x\(oh)")
        }
        let flat = RGBImage(width: 64, height: 48, fill: (10, 200, 77))
        XCTAssertEqual(resize(flat, width: 13, height: 9), RGBImage(width: 13, height: 9, fill: (10, 200, 77)))
        let t = thumbnail(Fixture.pattern(width: 400, height: 100), maxWidth: 80, maxHeight: 80)
        XCTAssertEqual(t.width, 80); XCTAssertEqual(t.height, 20)
        let tall = thumbnail(Fixture.pattern(width: 30, height: 300), maxWidth: 80, maxHeight: 60)
        XCTAssertEqual(tall.width, 6); XCTAssertEqual(tall.height, 60)
        let small = Fixture.pattern(width: 20, height: 10)
        XCTAssertEqual(thumbnail(small, maxWidth: 80, maxHeight: 80), small, "never enlarges")
    }

    /// boxReduce against a straight per-output-pixel average (partial edge blocks included) on
    /// shapes that do and do not divide by the factor, including factors larger than the image.
    func testBoxReduceAgainstNaiveAverage() {
        var rng = SeededRNG(seed: 42)
        for (w, h, f) in [(7, 5, 3), (13, 2, 2), (1, 1, 4), (9, 9, 3), (31, 17, 5), (4, 6, 8), (200, 150, 7)] {
            var im = RGBImage(width: w, height: h)
            for i in im.pixels.indices { im.pixels[i] = UInt8(rng.next() % 256) }
            let got = boxReduce(im, factor: f)
            let ow = (w + f - 1) / f, oh = (h + f - 1) / f
            XCTAssertEqual(got.width, ow); XCTAssertEqual(got.height, oh)
            for oy in 0..<oh { for ox in 0..<ow { for c in 0..<3 {
                var sum = 0, n = 0
                for y in (oy * f)..<min(h, oy * f + f) { for x in (ox * f)..<min(w, ox * f + f) {
                    sum += Int(im.pixels[(y * w + x) * 3 + c]); n += 1
                } }
                let want = Int((Double(sum) / Double(n)).rounded(.down) + ((sum % n) * 2 >= n ? 1 : 0))
                XCTAssertEqual(Int(got.pixels[(oy * ow + ox) * 3 + c]), want, "\(w)x\(h)/\(f) at \(ox),\(oy) c\(c)")
            } } }
        }
        let im = Fixture.pattern(width: 20, height: 10)
        XCTAssertEqual(boxReduce(im, factor: 1), im)
        XCTAssertEqual(boxReduce(RGBImage(width: 64, height: 48, fill: (10, 200, 77)), factor: 5),
                       RGBImage(width: 13, height: 10, fill: (10, 200, 77)))
    }
}
