import Foundation
import Imaging
import XCTest
@testable import Catalog

/// A stand-in model so the pipeline, cache and crash behaviour are tested without weights.
/// "Images" are files starting with the PNG signature (the walk sniffs content); the rest of the
/// bytes decide the embedding, and a payload starting with "BAD:" makes decoding fail with that reason.
final class FakeAnalyzer: ImageAnalyzer {
    let modelName: String
    let inputElements = 8
    let batchSize: Int
    private let lock = NSLock()
    private(set) var preparedPaths: [String] = []
    private(set) var embedCalls = 0
    private(set) var embeddedImages = 0
    /// Called after each inference call with the number of calls so far (tests cancel from here).
    var onEmbed: ((Int) -> Void)?
    /// What every prepared image carries as its thumbnail.
    var thumbnail = RGBImage(width: 2, height: 1, pixels: [1, 2, 3, 4, 5, 6])

    init(model: String = "fake", batchSize: Int = 4) { modelName = model; self.batchSize = batchSize }

    static let magic: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    func prepare(data: [UInt8], path: String) throws -> PreparedImage {
        lock.lock(); preparedPaths.append(path); lock.unlock()
        let payload = Array(data.dropFirst(8))
        let text = String(decoding: payload, as: UTF8.self)
        if text.hasPrefix("BAD:") { throw FileError(path: path, reason: String(text.dropFirst(4))) }
        var h = ContentHasher(); h.update(payload)
        let (a, b) = h.finalize()
        var input = [Float](repeating: 0, count: 8)
        for i in 0..<8 {
            let word: UInt64 = i < 4 ? a : b
            let bits = (word >> UInt64((i % 4) * 16)) & 0xFFFF
            input[i] = Float(bits) / 65535 - 0.5
        }
        let meta = ImageMetadata(format: .png, width: 30 + payload.count, height: 20, orientation: 1,
                                 dateTimeOriginal: "2024:01:0\(payload.count % 9 + 1) 10:00:00", cameraMake: "Fake", cameraModel: "F1",
                                 exifFieldCount: 3)
        return PreparedImage(input: input, metadata: meta, thumbnail: thumbnail, signature: Array(payload.prefix(4)))
    }

    func embed(batch: [Float], count: Int) throws -> [(embedding: [Float], probabilities: [Float])] {
        lock.lock(); embedCalls += 1; embeddedImages += count; let calls = embedCalls; lock.unlock()
        defer { onEmbed?(calls) }
        return (0..<count).map { i in
            let v = Array(batch[i * 8..<(i + 1) * 8])
            let n = max(1e-6, v.map { $0 * $0 }.reduce(0, +).squareRoot())
            let e = v.map { $0 / n }
            let logits = (0..<10).map { j in e[j % 8] * Float(j + 1) }
            let m = logits.max()!
            let ex = logits.map { Foundation.exp($0 - m) }
            let s = ex.reduce(0, +)
            return (e, ex.map { $0 / s })
        }
    }
}

enum Fixture {
    @discardableResult
    static func image(_ dir: URL, _ name: String, _ payload: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(FakeAnalyzer.magic + Array(payload.utf8)).write(to: url)
        return url.path
    }

    /// A library on a fresh cache whose analyzer is the given fake.
    static func library(_ cache: URL, _ fake: FakeAnalyzer) throws -> Library {
        try Library(cacheDirectory: cache, model: fake.modelName, analyzer: { _, _ in fake })
    }
}
