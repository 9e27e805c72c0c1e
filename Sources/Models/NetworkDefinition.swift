import Tensors

/// A network written down as data: a straight list of operations over numbered values, plus the
/// names and shapes of the weights each one needs. Builders (EfficientNetLite, ResNet) only produce
/// this; `Network` turns it into packed kernels and a buffer plan. Keeping the architecture as data
/// means the weight check, the parameter count and the forward pass all read the same table.
public struct NetworkDefinition: Sendable {
    /// How a convolution pads. `.same` is TensorFlow's 'SAME' (output = ceil(input / stride), the odd
    /// pixel at the bottom/right), which depends on the input size, so it is resolved per plan.
    public enum Padding: Sendable, Equatable {
        case symmetric(Int)
        case same
    }

    /// One convolution and the batch norm that follows it (folded into the weights at load time).
    public struct Conv: Sendable {
        public var weight: String          // key of the OIHW weight, e.g. "layer1.0.conv1.weight"
        public var batchNorm: String?      // key prefix of its BatchNorm2d ("layer1.0.bn1"), nil if none
        public var bias: String?           // key of a conv bias, when the checkpoint has one
        public var inChannels: Int
        public var outChannels: Int
        public var kernel: Int
        public var stride: Int
        public var groups: Int
        public var padding: Padding
        public var activation: Activation
    }

    public enum Operation: Sendable {
        /// Produces a new value from `input`; when `residual` is set, out = act(conv + bn + residual).
        case conv(Conv, input: Int, residual: Int?)
        case maxPool(kernel: Int, stride: Int, padding: Int, input: Int)
    }

    /// Which training recipe the weights come from; decides the input preprocessing.
    public enum Family: String, Sendable { case efficientNetLite, resNet }

    public var name: String
    public var family: Family
    /// Value 0 is the network input (3 channels); operation i produces value i + 1.
    public var operations: [Operation]
    /// The value whose global average is the embedding (the last feature map).
    public var features: Int
    /// Fully connected classifier after the pooled features: PyTorch nn.Linear keys.
    public var classifierWeight: String
    public var classifierBias: String
    public var classes: Int
    public var batchNormEpsilon: Float
    /// Input side the weights were trained at (224 for ResNet, 224/240/260 for Lite0/1/2).
    public var inputSize: Int

    /// Channels of every value (value 0 = 3).
    public var channels: [Int] {
        var c = [3]
        for op in operations {
            switch op {
            case .conv(let conv, _, _): c.append(conv.outChannels)
            case .maxPool(_, _, _, let input): c.append(c[input])
            }
        }
        return c
    }

    public var embeddingSize: Int { channels[features] }

    /// Every tensor the checkpoint must hold, in network order, with its shape.
    public var expectedTensors: [(name: String, shape: [Int])] {
        var out: [(String, [Int])] = []
        for op in operations {
            guard case .conv(let c, _, _) = op else { continue }
            out.append((c.weight, [c.outChannels, c.inChannels / c.groups, c.kernel, c.kernel]))
            if let b = c.bias { out.append((b, [c.outChannels])) }
            if let bn = c.batchNorm {
                for leaf in ["weight", "bias", "running_mean", "running_var"] {
                    out.append(("\(bn).\(leaf)", [c.outChannels]))
                }
            }
        }
        out.append((classifierWeight, [classes, embeddingSize]))
        out.append((classifierBias, [classes]))
        return out
    }

    /// Learned parameters (BN running statistics excluded), as frameworks usually count them.
    public var parameterCount: Int {
        expectedTensors.filter { !$0.name.hasSuffix("running_mean") && !$0.name.hasSuffix("running_var") }
            .reduce(0) { $0 + $1.shape.reduce(1, *) }
    }
}

/// Builds definitions step by step, handing out value numbers.
struct DefinitionBuilder {
    var operations: [NetworkDefinition.Operation] = []
    var channels: [Int] = [3]

    /// Appends a convolution reading `input` and returns the new value.
    mutating func conv(_ input: Int, weight: String, batchNorm: String?, out: Int, kernel: Int,
                       stride: Int = 1, groups: Int = 1, padding: NetworkDefinition.Padding,
                       activation: Activation, residual: Int? = nil) -> Int {
        let conv = NetworkDefinition.Conv(weight: weight, batchNorm: batchNorm, bias: nil,
                                          inChannels: channels[input], outChannels: out, kernel: kernel,
                                          stride: stride, groups: groups, padding: padding, activation: activation)
        operations.append(.conv(conv, input: input, residual: residual))
        channels.append(out)
        return channels.count - 1
    }

    mutating func maxPool(_ input: Int, kernel: Int, stride: Int, padding: Int) -> Int {
        operations.append(.maxPool(kernel: kernel, stride: stride, padding: padding, input: input))
        channels.append(channels[input])
        return channels.count - 1
    }
}
