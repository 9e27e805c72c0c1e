import XCTest
@testable import Imaging

/// Corral's preprocessing against Pillow's own output (tools/imaging_pillow_golden.py) on a
/// synthetic image: equal except for rare one-step differences where Pillow's 22-bit fixed-point
/// arithmetic and our Float arithmetic round a tie differently.
final class PillowGoldenTests: XCTestCase {
    /// The same formula as the Python script.
    static func synthetic() -> RGBImage {
        let w = 503, h = 377
        var p = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let i = (y * w + x) * 3
                p[i] = UInt8((x * 5 + y * 3) & 255)
                p[i + 1] = UInt8(((x ^ y) * 7) & 255)
                p[i + 2] = UInt8((x * y) % 251)
            }
        }
        return RGBImage(width: w, height: h, pixels: p)
    }

    func check(_ values8: [Int], golden: [UInt8], sum: Int, label: String) {
        var differing = 0, compared = 0
        for (k, g) in golden.enumerated() {
            let d = abs(values8[k * PillowGolden.step] - Int(g))
            XCTAssertLessThanOrEqual(d, 1, "\(label) element \(k * PillowGolden.step)")
            if d != 0 { differing += 1 }
            compared += 1
        }
        XCTAssertLessThanOrEqual(differing, max(1, compared / 200), label)
        // The whole output, not just the samples: the sum may move by a few rounding ties only.
        let total = values8.reduce(0, +)
        XCTAssertLessThanOrEqual(abs(total - sum), values8.count / 500, label)
    }

    func testEfficientNetMatchesPillow() {
        let im = Self.synthetic()
        for (size, golden, sum) in [(224, PillowGolden.efficientNet224, PillowGolden.efficientNet224Sum),
                                    (260, PillowGolden.efficientNet260, PillowGolden.efficientNet260Sum)] {
            let out = Preprocessing.efficientNet(size: size).apply(im)
            check(out.map { Int(($0 * 128 + 127).rounded()) }, golden: golden, sum: sum, label: "S=\(size)")
        }
    }

    func testTorchvisionMatchesPillow() {
        let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
        let out = Preprocessing.torchvision(resize: 256, crop: 224).apply(Self.synthetic())
        let values8 = out.enumerated().map { i, v in Int(((v * std[i % 3] + mean[i % 3]) * 255).rounded()) }
        check(values8, golden: PillowGolden.torchvision, sum: PillowGolden.torchvisionSum, label: "torchvision")
    }
}
