import Dispatch
import Foundation

/// A 2-D convolution over NHWC float32 tensors with its weights packed once, at init, into the layout
/// its kernel reads. Bias (with batch norm already folded in by the caller), an optional residual and
/// the activation are applied in the same pass that stores the output: out = act(conv(x) + bias + residual).
///
/// Two kernels cover every shape: depthwise convolutions run a direct kernel vectorised over channels
/// (DepthwiseConv.swift); everything else (1x1, dense KxK including 3-channel stems, grouped) runs
/// as an implicit GEMM on a 6x16 register-blocked micro-kernel (GemmConv.swift, MicroKernel.swift).
/// Neither allocates per call beyond a small stack table, and one Conv2D may run on several threads
/// at once (nothing in it is mutated by `forward` except the optional profile counters).
public final class Conv2D: @unchecked Sendable {
    public let shape: ConvShape

    /// Which family of kernel a layer belongs to, for per-kind profiles.
    public enum Kind: String, Sendable, CaseIterable {
        case pointwise, depthwise, grouped, dense
        /// A whole MBConv block run band by band (FusedMBConv): its 1x1s and depthwise together.
        case fused
    }
    public let kind: Kind

    private enum Plan {
        case depthwise(DepthwisePlan)
        case gemm(GemmConvPlan)
    }
    private let plan: Plan

    /// weights: OIHW like PyTorch, Cout x (Cin/groups) x KH x KW. bias: Cout (empty means zero).
    public init(shape: ConvShape, weights: [Float], bias: [Float]) {
        shape.validate()
        let s = shape
        precondition(weights.count == s.outChannels * s.inChannelsPerGroup * s.kernelH * s.kernelW,
                     "conv: \(weights.count) weights for shape \(s.outChannels)x\(s.inChannelsPerGroup)x\(s.kernelH)x\(s.kernelW)")
        precondition(bias.isEmpty || bias.count == s.outChannels, "conv: \(bias.count) biases for \(s.outChannels) outputs")
        self.shape = s
        let b = bias.isEmpty ? [Float](repeating: 0, count: s.outChannels) : bias
        if s.inChannelsPerGroup == 1 && s.outChannelsPerGroup == 1 {
            kind = .depthwise
            plan = .depthwise(DepthwisePlan(shape: s, oihw: weights, bias: b))
        } else {
            kind = s.groups > 1 ? .grouped : (s.kernelH == 1 && s.kernelW == 1 ? .pointwise : .dense)
            plan = .gemm(GemmConvPlan(shape: s, oihw: weights, bias: b))
        }
    }

    deinit {
        switch plan {
        case .depthwise(let p): p.deallocate()
        case .gemm(let p): p.deallocate()
        }
    }

    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        shape.outputSize(height: height, width: width)
    }

    /// input: batch x height x width x Cin; output: batch x OH x OW x Cout; residual (optional): like output.
    /// Work is split over output pixels of the whole batch, so both cores stay busy at batch 1 too.
    public func forward(input: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                        output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>? = nil,
                        pool: ThreadPool) {
        let (oh, ow) = shape.outputSize(height: height, width: width)
        precondition(oh > 0 && ow > 0, "conv: input \(height)x\(width) too small for the kernel")
        if batch == 0 { return }
        let start = Conv2D.profiling ? DispatchTime.now().uptimeNanoseconds : 0
        switch plan {
        case .depthwise(let p):
            p.forward(input: input, batch: batch, height: height, width: width, output: output, residual: residual, pool: pool)
        case .gemm(let p):
            p.forward(input: input, batch: batch, height: height, width: width, output: output, residual: residual, pool: pool)
        }
        if Conv2D.profiling {
            let ns = DispatchTime.now().uptimeNanoseconds - start
            Conv2D.record(kind: kind, nanoseconds: ns,
                          flops: Double(batch) * shape.flops(height: height, width: width))
        }
    }

    /// The same convolution on the calling thread only and without profiling, for callers that already
    /// split the work (FusedMBConv runs 1x1s on bands of rows from each of its workers).
    func forwardSerial(input: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                       output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?) {
        switch plan {
        case .depthwise(let p):
            p.forward(input: input, batch: batch, height: height, width: width, output: output, residual: residual, pool: .serial)
        case .gemm(let p):
            p.forward(input: input, batch: batch, height: height, width: width, output: output, residual: residual, pool: .serial)
        }
    }

    /// Output rows oy0..<oy1 of one image (height x width x Cin at `input`) into `output`, on the calling
    /// thread, without profiling: a fused block computes the rows of its first conv a band at a time.
    /// Any non-depthwise conv (a 1x1 expand, or a strided KxK stem).
    /// planeFloats: when given, channel panel p of the output goes to output + p x planeFloats with
    /// pixels 16 floats apart (the depthwise ring's layout) instead of NHWC.
    func forwardRows(input: UnsafePointer<Float>, height: Int, width: Int, oy0: Int, oy1: Int,
                     output: UnsafeMutablePointer<Float>, planeFloats: Int? = nil) {
        guard case .gemm(let p) = plan else { preconditionFailure("forwardRows: depthwise convs use DepthwisePlan.forwardRows") }
        let ow = shape.outputSize(height: height, width: width).width
        p.forward(input: input, batch: 1, height: height, width: width, output: output, residual: nil, pool: .serial,
                  pixels: (oy0 * ow)..<(oy1 * ow), layout: planeFloats.map { GemmConvPlan.OutputLayout(panel: $0) })
    }

    /// The direct depthwise kernel, when this is a depthwise layer (for its row-band entry point).
    var depthwisePlan: DepthwisePlan? {
        if case .depthwise(let p) = plan { return p }
        return nil
    }

    // MARK: Profiling (off unless a benchmark turns it on)

    /// Time and work accumulated per kernel kind while `profiling` is on.
    public struct Profile: Sendable {
        public var nanoseconds: UInt64 = 0
        public var flops: Double = 0
        public var calls: Int = 0
        public var gflopsPerSecond: Double { nanoseconds == 0 ? 0 : flops / Double(nanoseconds) }
    }

    nonisolated(unsafe) public static var profiling = false
    nonisolated(unsafe) private static var profiles: [Kind: Profile] = [:]
    private static let profileLock = NSLock()

    static func record(kind: Kind, nanoseconds: UInt64, flops: Double) {
        profileLock.lock(); defer { profileLock.unlock() }
        var p = profiles[kind] ?? Profile()
        p.nanoseconds += nanoseconds; p.flops += flops; p.calls += 1
        profiles[kind] = p
    }

    /// The accumulated profile per kind, and resets it.
    public static func takeProfile() -> [Kind: Profile] {
        profileLock.lock(); defer { profileLock.unlock() }
        let p = profiles
        profiles = [:]
        return p
    }
}
