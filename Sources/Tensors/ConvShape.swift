/// The activation fused into a kernel's store (no separate pass over memory).
public enum Activation: Sendable, Equatable {
    case none, relu, relu6

    @inline(__always)
    public func apply(_ x: Float) -> Float {
        switch self {
        case .none: return x
        case .relu: return max(x, 0)
        case .relu6: return min(max(x, 0), 6)
        }
    }
}

/// Geometry of one convolution. Padding is explicit on every side, so TF 'SAME' (which pads more on
/// the bottom/right when the total is odd) is the caller computing the four numbers.
public struct ConvShape: Sendable, Equatable {
    public var inChannels: Int
    public var outChannels: Int
    public var kernelH: Int
    public var kernelW: Int
    public var strideH: Int
    public var strideW: Int
    public var padTop: Int
    public var padLeft: Int
    public var padBottom: Int
    public var padRight: Int
    public var groups: Int
    public var activation: Activation

    public init(inChannels: Int, outChannels: Int, kernelH: Int, kernelW: Int,
                strideH: Int = 1, strideW: Int = 1,
                padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0,
                groups: Int = 1, activation: Activation = .none) {
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelH = kernelH; self.kernelW = kernelW
        self.strideH = strideH; self.strideW = strideW
        self.padTop = padTop; self.padLeft = padLeft; self.padBottom = padBottom; self.padRight = padRight
        self.groups = groups; self.activation = activation
    }

    /// Square kernel, same stride both ways, symmetric padding (PyTorch's usual convention).
    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                groups: Int = 1, activation: Activation = .none) {
        self.init(inChannels: inChannels, outChannels: outChannels, kernelH: kernel, kernelW: kernel,
                  strideH: stride, strideW: stride, padTop: padding, padLeft: padding,
                  padBottom: padding, padRight: padding, groups: groups, activation: activation)
    }

    /// TF 'SAME' padding for one input size: output = ceil(input / stride), the extra pixel (when the
    /// total padding is odd) goes to the bottom/right.
    public static func samePadding(input: Int, kernel: Int, stride: Int) -> (before: Int, after: Int) {
        let out = (input + stride - 1) / stride
        let total = max((out - 1) * stride + kernel - input, 0)
        return (total / 2, total - total / 2)
    }

    public var inChannelsPerGroup: Int { inChannels / groups }
    public var outChannelsPerGroup: Int { outChannels / groups }
    public var isDepthwise: Bool { groups == inChannels && groups == outChannels && groups > 1 }

    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + padTop + padBottom - kernelH) / strideH + 1,
         (width + padLeft + padRight - kernelW) / strideW + 1)
    }

    /// Multiply-adds x 2 for one image of the given input size (for GFLOP/s figures).
    public func flops(height: Int, width: Int) -> Double {
        let (oh, ow) = outputSize(height: height, width: width)
        return 2.0 * Double(oh * ow * outChannels * inChannelsPerGroup * kernelH * kernelW)
    }

    /// Preconditions the caller owes us; violating them is a programming error in a model definition.
    func validate() {
        precondition(inChannels > 0 && outChannels > 0 && groups > 0, "conv: channel counts must be positive")
        precondition(inChannels % groups == 0 && outChannels % groups == 0,
                     "conv: channels \(inChannels)->\(outChannels) not divisible by groups \(groups)")
        precondition(kernelH > 0 && kernelW > 0 && strideH > 0 && strideW > 0, "conv: kernel and stride must be positive")
        precondition(padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0, "conv: negative padding")
    }
}
