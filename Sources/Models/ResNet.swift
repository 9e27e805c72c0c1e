import Tensors

/// torchvision's ResNet and ResNeXt (v1.5: the stride sits on the 3x3 of a bottleneck; ResNeXt's
/// cardinality is the group count of that 3x3). Key names as in torchvision's state dicts.
public enum ResNet {
    enum Block { case basic, bottleneck }
    struct Config { let block: Block; let layers: [Int]; let groups: Int; let widthPerGroup: Int }

    static let configs: [String: Config] = [
        "resnet18": Config(block: .basic, layers: [2, 2, 2, 2], groups: 1, widthPerGroup: 64),
        "resnet34": Config(block: .basic, layers: [3, 4, 6, 3], groups: 1, widthPerGroup: 64),
        "resnet50": Config(block: .bottleneck, layers: [3, 4, 6, 3], groups: 1, widthPerGroup: 64),
        "resnet101": Config(block: .bottleneck, layers: [3, 4, 23, 3], groups: 1, widthPerGroup: 64),
        "resnet152": Config(block: .bottleneck, layers: [3, 8, 36, 3], groups: 1, widthPerGroup: 64),
        "resnext50_32x4d": Config(block: .bottleneck, layers: [3, 4, 6, 3], groups: 32, widthPerGroup: 4),
        "resnext101_32x8d": Config(block: .bottleneck, layers: [3, 4, 23, 3], groups: 32, widthPerGroup: 8),
        "resnext101_64x4d": Config(block: .bottleneck, layers: [3, 4, 23, 3], groups: 64, widthPerGroup: 4),
    ]

    public static var names: [String] { configs.keys.sorted() }

    public static func definition(_ name: String) -> NetworkDefinition? {
        guard let c = configs[name] else { return nil }
        var b = DefinitionBuilder()
        var x = b.conv(0, weight: "conv1.weight", batchNorm: "bn1", out: 64, kernel: 7, stride: 2,
                       padding: .symmetric(3), activation: .relu)
        x = b.maxPool(x, kernel: 3, stride: 2, padding: 1)
        let expansion = c.block == .basic ? 1 : 4
        for (li, (planes, blocks)) in zip([64, 128, 256, 512], c.layers).enumerated() {
            for bi in 0..<blocks {
                let p = "layer\(li + 1).\(bi)."
                let stride = li > 0 && bi == 0 ? 2 : 1
                let input = x
                let inPlanes = b.channels[input]
                var identity = input
                // The shortcut is computed before the branch's last conv, which adds it before its ReLU.
                let needsDownsample = bi == 0 && (stride != 1 || inPlanes != planes * expansion)
                switch c.block {
                case .basic:
                    let y = b.conv(input, weight: p + "conv1.weight", batchNorm: p + "bn1", out: planes,
                                   kernel: 3, stride: stride, padding: .symmetric(1), activation: .relu)
                    if needsDownsample {
                        identity = b.conv(input, weight: p + "downsample.0.weight", batchNorm: p + "downsample.1",
                                          out: planes, kernel: 1, stride: stride, padding: .symmetric(0), activation: .none)
                    }
                    x = b.conv(y, weight: p + "conv2.weight", batchNorm: p + "bn2", out: planes, kernel: 3,
                               padding: .symmetric(1), activation: .relu, residual: identity)
                case .bottleneck:
                    let width = planes * c.widthPerGroup / 64 * c.groups
                    var y = b.conv(input, weight: p + "conv1.weight", batchNorm: p + "bn1", out: width,
                                   kernel: 1, padding: .symmetric(0), activation: .relu)
                    y = b.conv(y, weight: p + "conv2.weight", batchNorm: p + "bn2", out: width, kernel: 3,
                               stride: stride, groups: c.groups, padding: .symmetric(1), activation: .relu)
                    if needsDownsample {
                        identity = b.conv(input, weight: p + "downsample.0.weight", batchNorm: p + "downsample.1",
                                          out: planes * 4, kernel: 1, stride: stride, padding: .symmetric(0),
                                          activation: .none)
                    }
                    x = b.conv(y, weight: p + "conv3.weight", batchNorm: p + "bn3", out: planes * 4, kernel: 1,
                               padding: .symmetric(0), activation: .relu, residual: identity)
                }
            }
        }
        return NetworkDefinition(name: name, family: .resNet, operations: b.operations, features: x,
                                 classifierWeight: "fc.weight", classifierBias: "fc.bias", classes: 1000,
                                 batchNormEpsilon: 1e-5, inputSize: 224)
    }
}
