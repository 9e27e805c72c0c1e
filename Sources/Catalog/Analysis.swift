import Foundation
import Imaging

/// Everything a decode worker computes for one image except the embedding: the model's input tensor
/// and what the cache keeps for the interface and duplicate checks.
public struct PreparedImage: Sendable {
    public var input: [Float]           // inputElements floats, NHWC, as the model expects
    public var metadata: ImageMetadata
    public var thumbnail: RGBImage
    public var signature: [UInt8]       // PixelSignature bytes
    /// The thumbnail as the cache stores it, encoded on the worker so the inference thread never
    /// spends time on it (nil: encoded at commit).
    public var storedThumbnail: StoredThumbnail?
    public init(input: [Float], metadata: ImageMetadata, thumbnail: RGBImage, signature: [UInt8],
                storedThumbnail: StoredThumbnail? = nil) {
        self.input = input; self.metadata = metadata; self.thumbnail = thumbnail; self.signature = signature
        self.storedThumbnail = storedThumbnail
    }
}

/// A thumbnail in its cache encoding: JPEG (quality 85, no chroma subsampling: a thumbnail is drawn
/// as coloured terminal half-blocks, where halved chroma shows) for rows written since schema 3,
/// raw RGB8 for rows from older caches (and for an image JPEG cannot encode, e.g. 0x0).
public struct StoredThumbnail: Sendable, Equatable {
    public enum Format: String, Sendable { case rgb, jpeg }
    public var format: Format
    public var width: Int
    public var height: Int
    public var bytes: [UInt8]

    public static let jpegQuality = 85

    public init(format: Format, width: Int, height: Int, bytes: [UInt8]) {
        self.format = format; self.width = width; self.height = height; self.bytes = bytes
    }

    public init(encoding image: RGBImage) {
        // JPEG's headers and tables are ~600 bytes: a tiny image (an icon) stays raw and exact.
        if image.width > 0, image.height > 0,
           let jpeg = try? ImageEncoders.jpeg(samples: image.pixels, width: image.width, height: image.height,
                                              components: 3, quality: StoredThumbnail.jpegQuality, subsampling: .s444),
           jpeg.count < image.pixels.count {
            self.init(format: .jpeg, width: image.width, height: image.height, bytes: jpeg)
        } else {
            self.init(format: .rgb, width: image.width, height: image.height, bytes: image.pixels)
        }
    }

    /// The pixels, or an empty (0x0) image when the row is damaged (sizes and bytes disagree, JPEG
    /// that does not decode): a cache row must never crash the program, the image just shows
    /// without a preview.
    public func decoded() -> RGBImage {
        let empty = RGBImage(width: 0, height: 0, pixels: [])
        guard width > 0, height > 0 else { return empty }
        switch format {
        case .rgb:
            return bytes.count == width * height * 3 ? RGBImage(width: width, height: height, pixels: bytes) : empty
        case .jpeg:
            guard let (image, _) = try? decodeImage(data: bytes, name: "cached thumbnail"),
                  image.width == width, image.height == height else { return empty }
            return image
        }
    }
}

/// The two halves of the scan as the pipeline sees them. The real one composes Imaging, Grouping and
/// Models.Embedder (ModelAnalyzer.swift); tests pass a fake so the pipeline, cache and crash
/// behaviour are checked without weights.
public protocol ImageAnalyzer: AnyObject {
    var modelName: String { get }
    /// Floats per image in `embed`'s input.
    var inputElements: Int { get }
    /// Images per inference call: large enough to amortise weight reads, small enough that a
    /// `kill -9` loses little.
    var batchSize: Int { get }
    /// Called concurrently from the decode workers.
    func prepare(data: [UInt8], path: String) throws -> PreparedImage
    /// Called from one thread at a time.
    func embed(batch: [Float], count: Int) throws -> [(embedding: [Float], probabilities: [Float])]
}

/// Builds the analyzer for a model only when something actually needs embedding, so a fully
/// cached folder never loads weights. `threads` is what the inference may use.
public typealias AnalyzerFactory = (_ model: String, _ threads: Int) throws -> ImageAnalyzer

/// Strips a leading "PATH: " from an error description so the CLI names the file exactly once.
func failureReason(_ error: Error, path: String) -> String {
    var s = String(describing: error)
    if s.hasPrefix(path + ": ") { s.removeFirst(path.count + 2) }
    return s
}

/// Top-k (index, probability) pairs, highest first.
func topClasses(_ p: [Float], k: Int = 5) -> [(index: Int, probability: Float)] {
    var best: [(index: Int, probability: Float)] = []
    for (i, v) in p.enumerated() {
        if best.count < k { best.append((i, v)); best.sort { $0.probability > $1.probability }; continue }
        if v > best[k - 1].probability { best[k - 1] = (i, v); best.sort { $0.probability > $1.probability } }
    }
    return best
}
