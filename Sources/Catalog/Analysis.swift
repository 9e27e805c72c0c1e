import Foundation
import Imaging

/// Everything a decode worker computes for one image except the embedding: the model's input tensor
/// and what the cache keeps for the interface and duplicate checks.
public struct PreparedImage: Sendable {
    public var input: [Float]           // inputElements floats, NHWC, as the model expects
    public var metadata: ImageMetadata
    public var thumbnail: RGBImage
    public var signature: [UInt8]       // PixelSignature bytes
    public init(input: [Float], metadata: ImageMetadata, thumbnail: RGBImage, signature: [UInt8]) {
        self.input = input; self.metadata = metadata; self.thumbnail = thumbnail; self.signature = signature
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
