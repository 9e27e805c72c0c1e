import XCTest
import Imaging
import Models
import TestSupport

/// The JPEG DCT scale the scan decodes at (Preprocessing.decodeShortSide and Imaging's scale rule)
/// must not move the embedding: against a full-size decode, cosine >= 0.99 on large photos and on
/// generated camera-size images with fine detail (where a too-coarse scale would alias).
final class DecodeScaleTests: XCTestCase {
    static var cached: Embedder?
    func embedder() throws -> Embedder {
        if let e = Self.cached { return e }
        let store = ModelStore(directory: TestPaths.modelsDir)
        guard (try? store.path(for: "efficientnet-lite0")) != nil else {
            throw XCTSkip("efficientnet-lite0 is not installed in \(TestPaths.modelsDir.path) (make weights)")
        }
        let e = try Embedder(modelName: "efficientnet-lite0", store: store, threads: 2)
        Self.cached = e
        return e
    }

    /// A camera-size picture with what breaks a coarse decode: a smooth sky-like gradient, random
    /// solid shapes, regions of fine stripes (1-3 px periods) and pixel noise.
    static func generatedPhoto(width: Int, height: Int, seed: UInt64) -> RGBImage {
        var rng = SeededRNG(seed: seed)
        var img = RGBImage(width: width, height: height)
        let base = (0..<3).map { _ in Int(rng.next() % 160) + 40 }
        for y in 0..<height {
            for x in 0..<width {
                let o = (y * width + x) * 3
                for c in 0..<3 { img.pixels[o + c] = UInt8(clamping: base[c] + (x * 60 / width) - (y * 50 / height)) }
            }
        }
        for _ in 0..<24 {
            let w = Int(rng.next() % UInt64(width / 3)) + width / 20, h = Int(rng.next() % UInt64(height / 3)) + height / 20
            let x0 = Int(rng.next() % UInt64(width - w)), y0 = Int(rng.next() % UInt64(height - h))
            let colour = (0..<3).map { _ in UInt8(rng.next() % 256) }
            let kind = rng.next() % 3, period = Int(rng.next() % 3) + 1
            for y in y0..<(y0 + h) {
                for x in x0..<(x0 + w) {
                    let dx = Double(x - x0) / Double(w) - 0.5, dy = Double(y - y0) / Double(h) - 0.5
                    if kind == 0 && dx * dx + dy * dy > 0.25 { continue }      // ellipse
                    let o = (y * width + x) * 3
                    let stripe = kind == 2 && ((x + y) / period) % 2 == 0        // fine diagonal stripes
                    for c in 0..<3 { img.pixels[o + c] = stripe ? 255 - colour[c] : colour[c] }
                }
            }
        }
        for i in stride(from: 0, to: img.pixels.count, by: 1) {
            let n = Int(rng.next() % 17) - 8
            img.pixels[i] = UInt8(clamping: Int(img.pixels[i]) + n)
        }
        return img
    }

    /// The large dev photos, the same upscaled to 4000x3000 (as bench/scan.sh makes them), and
    /// generated detail-rich images: (name, JPEG bytes).
    func cases() throws -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        for (i, size) in [(4000, 3000), (6000, 4000), (4032, 3024), (3000, 4000)].enumerated() {
            let img = Self.generatedPhoto(width: size.0, height: size.1, seed: UInt64(7 + i))
            out.append(("generated \(size.0)x\(size.1)", try encodeJPEG(img, quality: 90)))
        }
        if let root = TestPaths.devData {
            let photos = root.appendingPathComponent("photos")
            let files = (FileManager.default.enumerator(atPath: photos.path)?.allObjects as? [String] ?? []).sorted()
            for rel in files where rel.lowercased().hasSuffix(".jpg") {
                let path = photos.appendingPathComponent(rel).path
                guard let meta = try? readImageMetadata(path: path), min(meta.width, meta.height) >= 1000 else { continue }
                out.append((rel, try Array(Data(contentsOf: URL(fileURLWithPath: path)))))
            }
        }
        return out
    }

    func embedding(_ e: Embedder, _ data: [UInt8], _ name: String, shortSide: Int?) throws -> (emb: [Float], size: String, short: Int) {
        let (image, _) = try decodeImage(data: data, name: name, minimumShortSide: shortSide)
        return (e.run(batch: e.preprocessing.apply(image), count: 1)[0].embedding, "\(image.width)x\(image.height)",
                min(image.width, image.height))
    }

    /// The scan's decode size (Preprocessing.decodeShortSide through Imaging's scale rule) against a
    /// full-size decode: cosine >= 0.99 on every case. The generated images must be able to fail it:
    /// their 1/8-scale equivalent (an 8x8 box average, which is what libjpeg's 1/8 decode computes)
    /// stays below 0.99. Logs the decoded size and cosine of each case.
    func testScanDecodeSizeKeepsTheEmbedding() throws {
        let e = try embedder()
        var worst: Float = 1
        for (name, data) in try cases() {
            let full = try embedding(e, data, name, shortSide: nil)
            let scan = try embedding(e, data, name, shortSide: e.preprocessing.decodeShortSide)
            let cos = cosineSimilarity(full.emb, scan.emb)
            worst = min(worst, cos)
            print(String(format: "%@ [%@]: decoded at %@, cosine %.4f", name, full.size, scan.size, cos))
            XCTAssertGreaterThanOrEqual(cos, 0.99, "\(name) decoded at \(scan.size)")
            if name.hasPrefix("generated") {
                let (image, _) = try decodeImage(data: data, name: name)
                let box = boxReduce(image, factor: 8)
                let coarse = e.run(batch: e.preprocessing.apply(box), count: 1)[0].embedding
                let c = cosineSimilarity(full.emb, coarse)
                print(String(format: "  8x8 box (as a 1/8 decode) %dx%d: cosine %.4f", box.width, box.height, c))
                XCTAssertLessThan(c, 0.99, "\(name): the fixture no longer shows what a too-coarse decode loses")
            }
        }
        print(String(format: "worst cosine %.4f", worst))
    }
}
