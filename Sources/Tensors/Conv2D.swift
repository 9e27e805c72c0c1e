/// A 2-D convolution over NHWC float32 tensors with its weights packed once, at init, into the layout
/// its kernel reads. Bias (with batch norm already folded in by the caller), an optional residual and
/// the activation are applied in the same pass that stores the output: out = act(conv(x) + bias + residual).
public final class Conv2D: @unchecked Sendable {
    public let shape: ConvShape
    /// Bias per output channel, Cout.
    let bias: UnsafeMutablePointer<Float>
    /// Weights in the kernel's layout (see `pack`).
    let packed: UnsafeMutablePointer<Float>
    let packedCount: Int

    /// weights: OIHW like PyTorch, Cout x (Cin/groups) x KH x KW. bias: Cout (empty means zero).
    public init(shape: ConvShape, weights: [Float], bias: [Float]) {
        shape.validate()
        let s = shape
        precondition(weights.count == s.outChannels * s.inChannelsPerGroup * s.kernelH * s.kernelW,
                     "conv: \(weights.count) weights for shape \(s.outChannels)x\(s.inChannelsPerGroup)x\(s.kernelH)x\(s.kernelW)")
        precondition(bias.isEmpty || bias.count == s.outChannels, "conv: \(bias.count) biases for \(s.outChannels) outputs")
        self.shape = s
        let b = UnsafeMutablePointer<Float>.allocate(capacity: s.outChannels)
        if bias.isEmpty { b.initialize(repeating: 0, count: s.outChannels) }
        else { bias.withUnsafeBufferPointer { b.initialize(from: $0.baseAddress!, count: s.outChannels) } }
        self.bias = b
        packedCount = weights.count
        let p = UnsafeMutablePointer<Float>.allocate(capacity: weights.count)
        weights.withUnsafeBufferPointer { Conv2D.pack(shape: s, oihw: $0.baseAddress!, into: p) }
        packed = p
    }

    deinit {
        bias.deallocate()
        packed.deallocate()
    }

    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        shape.outputSize(height: height, width: width)
    }

    /// Packs OIHW into [group][ky][kx][ci][co]: for one input value the weights of all outputs of its
    /// group are contiguous, so the inner loop is a vector multiply-add over output channels.
    static func pack(shape s: ConvShape, oihw: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        for g in 0..<s.groups {
            for ky in 0..<s.kernelH {
                for kx in 0..<s.kernelW {
                    for ci in 0..<cig {
                        for co in 0..<cog {
                            let o = g * cog + co
                            let src = ((o * cig + ci) * s.kernelH + ky) * s.kernelW + kx
                            dst[(((g * s.kernelH + ky) * s.kernelW + kx) * cig + ci) * cog + co] = oihw[src]
                        }
                    }
                }
            }
        }
    }

    /// input: batch x height x width x Cin; output: batch x OH x OW x Cout; residual (optional): like output.
    public func forward(input: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                        output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>? = nil,
                        pool: ThreadPool) {
        let s = shape
        let (oh, ow) = s.outputSize(height: height, width: width)
        precondition(oh > 0 && ow > 0, "conv: input \(height)x\(width) too small for the kernel")
        pool.parallelFor(batch * oh) { task in
            let n = task / oh, oy = task % oh
            self.forwardRow(input: input, n: n, oy: oy, height: height, width: width, ow: ow,
                            output: output + (n * oh + oy) * ow * s.outChannels,
                            residual: residual.map { $0 + (n * oh + oy) * ow * s.outChannels })
        }
    }

    /// One output row. Accumulates straight into the output (which starts as bias + residual), then
    /// applies the activation in place.
    private func forwardRow(input: UnsafePointer<Float>, n: Int, oy: Int, height: Int, width: Int, ow: Int,
                            output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?) {
        let s = shape
        let cin = s.inChannels, cout = s.outChannels
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        let image = input + n * height * width * cin
        for ox in 0..<ow {
            let o = output + ox * cout
            if let r = residual {
                let rr = r + ox * cout
                for c in 0..<cout { o[c] = bias[c] + rr[c] }
            } else {
                o.update(from: bias, count: cout)
            }
            for ky in 0..<s.kernelH {
                let iy = oy * s.strideH - s.padTop + ky
                if iy < 0 || iy >= height { continue }
                for kx in 0..<s.kernelW {
                    let ix = ox * s.strideW - s.padLeft + kx
                    if ix < 0 || ix >= width { continue }
                    let px = image + (iy * width + ix) * cin
                    for g in 0..<s.groups {
                        let w = packed + ((g * s.kernelH + ky) * s.kernelW + kx) * cig * cog
                        let og = o + g * cog
                        let pg = px + g * cig
                        for ci in 0..<cig {
                            let x = pg[ci]
                            let wr = w + ci * cog
                            for co in 0..<cog { og[co] += x * wr[co] }
                        }
                    }
                }
            }
            switch s.activation {
            case .none: break
            case .relu: for c in 0..<cout { o[c] = max(o[c], 0) }
            case .relu6: for c in 0..<cout { o[c] = min(max(o[c], 0), 6) }
            }
        }
    }
}
