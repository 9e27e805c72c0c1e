/// Depthwise convolution (one input channel per output channel), computed directly on NHWC: the
/// channels of a pixel are contiguous, so each multiply-add covers 8 channels of one tap. Inside the
/// image (no padding under the window) four neighbouring output pixels are computed together so one
/// weight load feeds four FMAs; the border pixels go through a bounds-checked path.
struct DepthwisePlan {
    let shape: ConvShape
    let channels: Int
    /// Channels rounded up to the vector width.
    let stride: Int
    /// [tap][stride], zero-padded.
    let weights: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>

    init(shape s: ConvShape, oihw: UnsafePointer<Float>, bias b: UnsafePointer<Float>) {
        shape = s
        channels = s.outChannels
        stride = (channels + vecWidth - 1) / vecWidth * vecWidth
        let taps = s.kernelH * s.kernelW
        weights = .allocate(capacity: taps * stride)
        weights.initialize(repeating: 0, count: taps * stride)
        for c in 0..<channels {
            for t in 0..<taps { weights[t * stride + c] = oihw[c * taps + t] }
        }
        bias = .allocate(capacity: stride)
        bias.initialize(repeating: 0, count: stride)
        bias.update(from: b, count: channels)
    }

    func deallocate() { weights.deallocate(); bias.deallocate() }

    func forward(input: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                 output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, pool: ThreadPool) {
        if MulAddChoice.fused {
            run(FusedMulAdd.self, input: input, batch: batch, height: height, width: width, output: output, residual: residual, pool: pool)
        } else {
            run(SplitMulAdd.self, input: input, batch: batch, height: height, width: width, output: output, residual: residual, pool: pool)
        }
    }

    private func run<F: MulAdd>(_ f: F.Type, input: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                                output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, pool: ThreadPool) {
        let s = shape
        let (oh, ow) = s.outputSize(height: height, width: width)
        let c = channels
        let (oxLo, oxHi) = interiorColumns(width: width, ow: ow)
        pool.parallelFor(batch * oh) { task in
            let n = task / oh, oy = task % oh
            row(f, band: input + n * height * width * c, bandRow0: 0, height: height, width: width, oy: oy,
                ow: ow, oxLo: oxLo, oxHi: oxHi, out: output + task * ow * c, residual: residual.map { $0 + task * ow * c })
        }
    }

    /// Output columns whose whole window lies inside the image (the 4-pixel fast path).
    private func interiorColumns(width: Int, ow: Int) -> (Int, Int) {
        let s = shape
        let oxLo = min(ow, (s.padLeft + s.strideW - 1) / s.strideW)
        let oxHi = max(oxLo, min(ow, width - s.kernelW + s.padLeft >= 0 ? (width - s.kernelW + s.padLeft) / s.strideW + 1 : 0))
        return (oxLo, oxHi)
    }

    /// Output rows oy0..<oy1 of one image, on the calling thread, from a band of input rows that starts
    /// at image row `bandRow0` and holds every row those outputs read (rows outside the image are
    /// padding and are never read). Fused blocks keep only such a band of the expanded activation in
    /// cache instead of the whole image. output (and residual) point at output row oy0.
    func forwardRows(band: UnsafePointer<Float>, bandRow0: Int, height: Int, width: Int, oy0: Int, oy1: Int,
                     output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?) {
        if MulAddChoice.fused {
            rows(FusedMulAdd.self, band: band, bandRow0: bandRow0, height: height, width: width, oy0: oy0, oy1: oy1, output: output, residual: residual)
        } else {
            rows(SplitMulAdd.self, band: band, bandRow0: bandRow0, height: height, width: width, oy0: oy0, oy1: oy1, output: output, residual: residual)
        }
    }

    private func rows<F: MulAdd>(_ f: F.Type, band: UnsafePointer<Float>, bandRow0: Int, height: Int, width: Int, oy0: Int, oy1: Int,
                                 output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?) {
        let (_, ow) = shape.outputSize(height: height, width: width)
        let (oxLo, oxHi) = interiorColumns(width: width, ow: ow)
        let c = channels
        for oy in oy0..<oy1 {
            let off = (oy - oy0) * ow * c
            row(f, band: band, bandRow0: bandRow0, height: height, width: width, oy: oy, ow: ow, oxLo: oxLo, oxHi: oxHi,
                out: output + off, residual: residual.map { $0 + off })
        }
    }

    /// One output row. `band` holds image rows from `bandRow0` on; the window rows are clipped to the
    /// image with the true row numbers, then addressed relative to the band.
    @inline(__always)
    private func row<F: MulAdd>(_ f: F.Type, band: UnsafePointer<Float>, bandRow0: Int, height: Int, width: Int, oy: Int,
                                ow: Int, oxLo: Int, oxHi: Int, out outRow: UnsafeMutablePointer<Float>,
                                residual resRow: UnsafePointer<Float>?) {
        let s = shape, c = channels
        let iy0 = oy * s.strideH - s.padTop
        let kyLo = max(0, -iy0), kyHi = max(kyLo, min(s.kernelH, height - iy0))
        let rel = iy0 - bandRow0
        var ox = 0
        while ox < ow {
            if ox >= oxLo && ox + 4 <= oxHi {
                block4(f, image: band, width: width, iy0: rel, kyLo: kyLo, kyHi: kyHi, ox: ox,
                       out: outRow + ox * c, residual: resRow.map { $0 + ox * c })
                ox += 4
            } else {
                single(f, image: band, width: width, iy0: rel, kyLo: kyLo, kyHi: kyHi, ox: ox, cStart: 0,
                       out: outRow + ox * c, residual: resRow.map { $0 + ox * c })
                ox += 1
            }
        }
    }

    /// Four output pixels ox..<ox+4, all windows inside the image horizontally.
    @inline(__always)
    private func block4<F: MulAdd>(_: F.Type, image: UnsafePointer<Float>, width: Int, iy0: Int, kyLo: Int, kyHi: Int,
                                   ox: Int, out: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?) {
        let s = shape, c = channels, kw = s.kernelW
        let ix0 = ox * s.strideW - s.padLeft
        let step = s.strideW * c
        let act = s.activation
        var cb = 0
        // 16 channels x 4 pixels: eight independent accumulators hide the FMA latency.
        while cb + 2 * vecWidth <= c {
            let bv0 = bias.vec(cb), bv1 = bias.vec(cb + vecWidth)
            var a0 = bv0, a1 = bv0, a2 = bv0, a3 = bv0
            var e0 = bv1, e1 = bv1, e2 = bv1, e3 = bv1
            for ky in kyLo..<kyHi {
                var p = image + ((iy0 + ky) * width + ix0) * c + cb
                var wp = UnsafePointer(weights) + ky * kw * stride + cb
                for _ in 0..<kw {
                    let w0 = wp.vec(0), w1 = wp.vec(vecWidth)
                    F.madd(&a0, p.vec(0), w0); F.madd(&e0, p.vec(vecWidth), w1)
                    F.madd(&a1, p.vec(step), w0); F.madd(&e1, p.vec(step + vecWidth), w1)
                    F.madd(&a2, p.vec(2 * step), w0); F.madd(&e2, p.vec(2 * step + vecWidth), w1)
                    F.madd(&a3, p.vec(3 * step), w0); F.madd(&e3, p.vec(3 * step + vecWidth), w1)
                    p += c
                    wp += stride
                }
            }
            if let r = residual {
                a0 += r.vec(cb); a1 += r.vec(c + cb); a2 += r.vec(2 * c + cb); a3 += r.vec(3 * c + cb)
                let r1 = r + vecWidth
                e0 += r1.vec(cb); e1 += r1.vec(c + cb); e2 += r1.vec(2 * c + cb); e3 += r1.vec(3 * c + cb)
            }
            out.store(activate(a0, act), cb); out.store(activate(e0, act), cb + vecWidth)
            out.store(activate(a1, act), c + cb); out.store(activate(e1, act), c + cb + vecWidth)
            out.store(activate(a2, act), 2 * c + cb); out.store(activate(e2, act), 2 * c + cb + vecWidth)
            out.store(activate(a3, act), 3 * c + cb); out.store(activate(e3, act), 3 * c + cb + vecWidth)
            cb += 2 * vecWidth
        }
        while cb + vecWidth <= c {
            let bv = bias.vec(cb)
            var a0 = bv, a1 = bv, a2 = bv, a3 = bv
            for ky in kyLo..<kyHi {
                let rowp = image + ((iy0 + ky) * width + ix0) * c + cb
                let wrow = UnsafePointer(weights) + ky * kw * stride + cb
                for kx in 0..<kw {
                    let wv = wrow.vec(kx * stride)
                    let p = rowp + kx * c
                    F.madd(&a0, p.vec(0), wv)
                    F.madd(&a1, p.vec(step), wv)
                    F.madd(&a2, p.vec(2 * step), wv)
                    F.madd(&a3, p.vec(3 * step), wv)
                }
            }
            if let r = residual {
                a0 += r.vec(cb); a1 += r.vec(c + cb); a2 += r.vec(2 * c + cb); a3 += r.vec(3 * c + cb)
            }
            out.store(activate(a0, act), cb)
            out.store(activate(a1, act), c + cb)
            out.store(activate(a2, act), 2 * c + cb)
            out.store(activate(a3, act), 3 * c + cb)
            cb += vecWidth
        }
        if cb < c {
            for j in 0..<4 {
                single(F.self, image: image, width: width, iy0: iy0, kyLo: kyLo, kyHi: kyHi, ox: ox + j, cStart: cb,
                       out: out + j * c, residual: residual.map { $0 + j * c })
            }
        }
    }

    /// One output pixel, any position (taps in the padding skipped), channels cStart..<channels.
    @inline(__always)
    private func single<F: MulAdd>(_: F.Type, image: UnsafePointer<Float>, width: Int, iy0: Int, kyLo: Int, kyHi: Int,
                                   ox: Int, cStart: Int, out: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?) {
        let s = shape, c = channels, kw = s.kernelW
        let ix0 = ox * s.strideW - s.padLeft
        let kxLo = max(0, -ix0), kxHi = max(kxLo, min(kw, width - ix0))
        let act = s.activation
        var cb = cStart
        // 32 channels at a time: four independent accumulators instead of one latency-bound chain.
        while cb + 4 * vecWidth <= c {
            var a0 = bias.vec(cb), a1 = bias.vec(cb + 8), a2 = bias.vec(cb + 16), a3 = bias.vec(cb + 24)
            for ky in kyLo..<kyHi {
                var p = image + ((iy0 + ky) * width + ix0 + kxLo) * c + cb
                var wp = UnsafePointer(weights) + (ky * kw + kxLo) * stride + cb
                for _ in kxLo..<kxHi {
                    F.madd(&a0, p.vec(0), wp.vec(0)); F.madd(&a1, p.vec(8), wp.vec(8))
                    F.madd(&a2, p.vec(16), wp.vec(16)); F.madd(&a3, p.vec(24), wp.vec(24))
                    p += c
                    wp += stride
                }
            }
            if let r = residual { a0 += r.vec(cb); a1 += r.vec(cb + 8); a2 += r.vec(cb + 16); a3 += r.vec(cb + 24) }
            out.store(activate(a0, act), cb); out.store(activate(a1, act), cb + 8)
            out.store(activate(a2, act), cb + 16); out.store(activate(a3, act), cb + 24)
            cb += 4 * vecWidth
        }
        while cb + vecWidth <= c {
            var a = bias.vec(cb)
            for ky in kyLo..<kyHi {
                let rowp = image + ((iy0 + ky) * width + ix0) * c + cb
                let wrow = UnsafePointer(weights) + ky * kw * stride + cb
                for kx in kxLo..<kxHi { F.madd(&a, rowp.vec(kx * c), wrow.vec(kx * stride)) }
            }
            if let r = residual { a += r.vec(cb) }
            out.store(activate(a, act), cb)
            cb += vecWidth
        }
        while cb < c {
            var a = bias[cb]
            for ky in kyLo..<kyHi {
                let rowp = image + ((iy0 + ky) * width + ix0) * c + cb
                let wrow = weights + ky * kw * stride + cb
                for kx in kxLo..<kxHi { a += rowp[kx * c] * wrow[kx * stride] }
            }
            if let r = residual { a += r[cb] }
            out[cb] = act.apply(a)
            cb += 1
        }
    }
}
