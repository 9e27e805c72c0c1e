import Foundation
import Imaging
import Tensors

/// Every architecture Corral can run, by model name.
public enum ModelCatalog {
    public static let defaultModel = "efficientnet-lite0"

    /// Known names: the three EfficientNet-Lite variants and torchvision's ResNet/ResNeXt family.
    public static var names: [String] { EfficientNetLite.variants.keys.sorted() + ResNet.names }

    public static func definition(named name: String) -> NetworkDefinition? {
        EfficientNetLite.definition(name) ?? ResNet.definition(name)
    }

    /// The input preparation the model was trained with.
    public static func preprocessing(for definition: NetworkDefinition) -> Preprocessing {
        switch definition.family {
        case .efficientNetLite: return .efficientNet(size: definition.inputSize)
        case .resNet: return .torchvision(resize: 256, crop: definition.inputSize)
        }
    }
}

public struct EmbedderError: Error, CustomStringConvertible {
    public var description: String
}

/// Image tensor in, L2-normalised embedding and class probabilities out. Loads the weights once;
/// calls from several threads are serialised (the network reuses one set of activation buffers and
/// already uses every core inside each layer).
public final class Embedder: @unchecked Sendable {
    public let name: String
    public let preprocessing: Preprocessing
    public let embeddingSize: Int
    public let definition: NetworkDefinition

    private let network: Network
    private let pool: ThreadPool
    private let lock = NSLock()
    /// Images per forward pass: enough to fill the GEMMs of the small late layers, small enough
    /// that the arenas stay a few tens of MB.
    private let chunk = 4

    /// Loads an installed model (see `corral model list`); the store names the architecture.
    public convenience init(modelName: String, store: ModelStore = ModelStore(), threads: Int) throws {
        let (weights, architecture) = try store.load(modelName)
        guard let definition = ModelCatalog.definition(named: architecture.rawValue) else {
            throw EmbedderError(description: "model \(modelName): architecture \(architecture.rawValue) has no network definition")
        }
        try self.init(name: modelName, definition: definition, weights: weights, threads: threads)
    }

    /// Builds from weights in memory. `inputSize` overrides the trained size (tests use small inputs).
    public init(name: String, definition: NetworkDefinition, weights: [String: WeightTensor], threads: Int,
                inputSize: Int? = nil) throws {
        self.name = name
        self.definition = definition
        network = try Network(definition: definition, weights: weights, inputSize: inputSize)
        let trained = ModelCatalog.preprocessing(for: definition)
        switch trained {
        case .efficientNet: preprocessing = .efficientNet(size: network.inputSize)
        case .torchvision(let resize, _): preprocessing = .torchvision(resize: resize, crop: network.inputSize)
        }
        embeddingSize = network.embeddingSize
        pool = ThreadPool(threads: max(1, threads))
    }

    public var inputSize: Int { network.inputSize }

    /// One step of the network in a per-layer profile (`corral bench embed --profile-layers`).
    public struct LayerProfile: Sendable {
        public var name: String
        /// Input shape, channels and kernel, e.g. "56x56x24->144->24 k3 s1 band 4".
        public var detail: String
        public var kind: String
        public var millisecondsPerImage: Double
        public var flopsPerImage: Double
        public var gflopsPerSecond: Double { millisecondsPerImage == 0 ? 0 : flopsPerImage / millisecondsPerImage / 1e6 }
    }

    /// Time per step accumulated while `Conv2D.profiling` is on, per image; resets it.
    public func takeLayerProfile() -> [LayerProfile] {
        lock.lock(); defer { lock.unlock() }
        return network.takeLayerProfile().map {
            LayerProfile(name: $0.name, detail: $0.detail, kind: $0.kind, millisecondsPerImage: $0.nanosecondsPerImage / 1e6,
                         flopsPerImage: $0.flopsPerImage)
        }
    }

    /// Short side to ask `decodeImage(minimumShortSide:)` for (see `Preprocessing.decodeShortSide`).
    public var decodeShortSide: Int { preprocessing.decodeShortSide }

    /// `batch` holds `count` images, NHWC, inputSize x inputSize x 3 each, already normalised by
    /// `preprocessing`. Returns per image the L2-normalised embedding and the softmax over classes.
    public func run(batch: [Float], count: Int) -> [(embedding: [Float], probabilities: [Float])] {
        run(batch: batch, count: count, logits: nil)
    }

    /// Same, also handing back raw logits (tests compare them with the reference).
    public func run(batch: [Float], count: Int, logits: UnsafeMutablePointer<Float>?) -> [(embedding: [Float], probabilities: [Float])] {
        let perImage = inputSize * inputSize * 3
        precondition(batch.count >= count * perImage, "batch holds \(batch.count) floats, expected \(count) x \(perImage)")
        let d = embeddingSize, k = network.classes
        var features = [Float](repeating: 0, count: count * d)
        var scores = [Float](repeating: 0, count: count * k)
        lock.lock()
        batch.withUnsafeBufferPointer { input in
            features.withUnsafeMutableBufferPointer { f in
                scores.withUnsafeMutableBufferPointer { s in
                    var start = 0
                    while start < count {
                        let n = min(chunk, count - start)
                        network.forward(input: input.baseAddress! + start * perImage, batch: n,
                                        features: f.baseAddress! + start * d, logits: s.baseAddress! + start * k,
                                        pool: pool)
                        start += n
                    }
                }
            }
        }
        lock.unlock()
        if let logits { scores.withUnsafeBufferPointer { logits.update(from: $0.baseAddress!, count: count * k) } }
        features.withUnsafeMutableBufferPointer { l2Normalize($0.baseAddress!, rows: count, columns: d) }
        scores.withUnsafeMutableBufferPointer { softmax($0.baseAddress!, rows: count, columns: k) }
        return (0..<count).map { i in
            (Array(features[i * d..<(i + 1) * d]), Array(scores[i * k..<(i + 1) * k]))
        }
    }
}
