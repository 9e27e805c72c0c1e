/// Depthwise convolution (one input channel per output channel), computed directly on NHWC: the
/// channels of a pixel are contiguous, so each multiply-add covers 8 channels of one tap. Four
/// neighbouring output pixels are computed together so one weight load feeds four FMAs (8
/// accumulators over 16 channels hide the FMA latency). Each group of four reads its input through
/// a small table of pointers per tap, with taps in the padding pointing at a zero row: border pixels
/// then take the same fast path as interior ones. That matters on EfficientNet's late 7x7 and 14x14
/// maps with 5x5 kernels, where a bounds-checked border path used to cover most of the pixels.
import Foundation

struct DepthwisePlan {
    let shape: ConvShape
    let channels: Int
    /// Channels rounded up to the vector width.
    let stride: Int
    /// [tap][stride], zero-padded.
    let weights: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>
    /// Stands in for input pixels in the padding; `stride` long.
    let zeros: UnsafeMutablePointer<Float>
    /// The same weights and bias for the tiled kernel (DepthwiseTiled.swift): [tap][channels rounded up to 16].
    let weights16: UnsafeMutablePointer<Float>
    let bias16: UnsafeMutablePointer<Float>
    var stride16: Int { (channels + 15) / 16 * 16 }

    /// Which kernel runs: the channel-tiled one over a zero-padded L1 copy (default), or the pointer
    /// table one. `CORRAL_DW_TILED=0` picks the latter, for side-by-side benchmarks; tests run both.
    nonisolated(unsafe) static var tiled = ProcessInfo.processInfo.environment["CORRAL_DW_TILED"] != "0"

    init(shape s: ConvShape, oihw: UnsafePointer<Float>, bias b: UnsafePointer<Float>) {
        shape = s
        channels = s.outChannels
        stride = (channels + vecWidth - 1) / vecWidth * vecWidth
        let taps = s.kernelH * s.kernelW
        weights = allocateAligned(taps * stride)
        for c in 0..<channels {
            for t in 0..<taps { weights[t * stride + c] = oihw[c * taps + t] }
        }
        bias = allocateAligned(stride)
        bias.update(from: b, count: channels)
        zeros = allocateAligned(stride)
        let s16 = (channels + 15) / 16 * 16
        weights16 = allocateAligned(taps * s16)
        for c in 0..<channels {
            for t in 0..<taps { weights16[t * s16 + c] = oihw[c * taps + t] }
        }
        bias16 = allocateAligned(s16)
        bias16.update(from: b, count: channels)
    }

    func deallocate() {
        [weights, bias, zeros, weights16, bias16].forEach(freeAligned)
    }

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
        let (oh, ow) = shape.outputSize(height: height, width: width)
        let c = channels
        if DepthwisePlan.tiled {
            // Row tasks only split the work between cores; each task restarts the ring (re-copying
            // kernelH - strideH rows per tile), so one worker takes the image whole.
            let chunk = pool.threads == 1 ? oh : min(oh, DepthwisePlan.tiledTaskRows)
            let chunks = (oh + chunk - 1) / chunk
            pool.parallelRanges(batch * chunks) { _, range in
                ThreadScratch.with(Float.self, count: ringCount(width: width)) { buffer in
                    for task in range {
                        let n = task / chunks, oy0 = (task % chunks) * chunk, oy1 = min(oh, oy0 + chunk)
                        let off = (n * oh + oy0) * ow * c
                        tiledRows(f, band: input + n * height * width * c, bandRow0: 0, height: height, width: width,
                                  oy0: oy0, oy1: oy1, output: output + off, residual: residual.map { $0 + off },
                                  buffer: buffer)
                    }
                }
            }
            return
        }
        pool.parallelRanges(batch * oh) { _, range in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: tableCount(ow: ow)) { table in
                for task in range {
                    let n = task / oh, oy = task % oh
                    row(f, band: input + n * height * width * c, bandRow0: 0, height: height, width: width, oy: oy, ow: ow,
                        table: table.baseAddress!, out: output + task * ow * c, residual: residual.map { $0 + task * ow * c })
                }
            }
        }
    }

    /// Output rows oy0..<oy1 of one image, on the calling thread, from a band of input rows that starts
    /// at image row `bandRow0` and holds every row those outputs read (rows outside the image are
    /// padding and are never read). Fused blocks keep only such a band of the expanded activation in
    /// cache instead of the whole image. output (and residual) point at output row oy0.
    /// planeFloats: the band is in the ring's tiled layout, not NHWC (see `tiledRows`; needs `tiled`).
    func forwardRows(band: UnsafePointer<Float>, bandRow0: Int, height: Int, width: Int, oy0: Int, oy1: Int,
                     output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, planeFloats: Int? = nil) {
        if MulAddChoice.fused {
            rows(FusedMulAdd.self, band: band, bandRow0: bandRow0, height: height, width: width, oy0: oy0, oy1: oy1, output: output,
                 residual: residual, planeFloats: planeFloats)
        } else {
            rows(SplitMulAdd.self, band: band, bandRow0: bandRow0, height: height, width: width, oy0: oy0, oy1: oy1, output: output,
                 residual: residual, planeFloats: planeFloats)
        }
    }

    private func rows<F: MulAdd>(_ f: F.Type, band: UnsafePointer<Float>, bandRow0: Int, height: Int, width: Int, oy0: Int, oy1: Int,
                                 output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, planeFloats: Int?) {
        let ow = shape.outputSize(height: height, width: width).width
        let c = channels
        precondition(planeFloats == nil || DepthwisePlan.tiled, "depthwise: a tiled band needs the tiled kernel")
        if DepthwisePlan.tiled {
            // All rows in one call: the ring copies each input row of the band once per channel tile.
            ThreadScratch.with(Float.self, count: ringCount(width: width)) { buffer in
                tiledRows(f, band: band, bandRow0: bandRow0, height: height, width: width, oy0: oy0, oy1: oy1,
                          output: output, residual: residual, buffer: buffer, planeFloats: planeFloats)
            }
            return
        }
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: tableCount(ow: ow)) { table in
            for oy in oy0..<oy1 {
                let off = (oy - oy0) * ow * c
                row(f, band: band, bandRow0: bandRow0, height: height, width: width, oy: oy, ow: ow,
                    table: table.baseAddress!, out: output + off, residual: residual.map { $0 + off })
            }
        }
    }

    /// Pointers a row's table needs: kernelH x kernelW per pixel, pixels in groups of four.
    private func tableCount(ow: Int) -> Int { (ow + 3) / 4 * 4 * shape.kernelH * shape.kernelW }

    /// One output row, four pixels at a time. `band` holds image rows from `bandRow0` on; taps are
    /// tested against the true image rows and columns, then addressed relative to the band.
    ///
    /// The pointer table of the whole row is built first, then each tile of 16 channels runs over every
    /// group of the row: that tile's weights (taps x 64 bytes) and input lines stay in L1 while the
    /// row is swept. (Group-outermost order streamed all taps x C weights, 115 KB at 1152 channels
    /// 5x5, from L2 for every four pixels.)
    @inline(__always)
    private func row<F: MulAdd>(_ f: F.Type, band: UnsafePointer<Float>, bandRow0: Int, height: Int, width: Int, oy: Int,
                                ow: Int, table: UnsafeMutablePointer<UnsafePointer<Float>>, out outRow: UnsafeMutablePointer<Float>,
                                residual resRow: UnsafePointer<Float>?) {
        let s = shape, c = channels, kh = s.kernelH, kw = s.kernelW, taps = kh * kw
        let iy0 = oy * s.strideH - s.padTop
        let zero = UnsafePointer(zeros)
        let groups = (ow + 3) / 4
        for g in 0..<groups {
            let ox = g * 4, valid = min(4, ow - ox)
            let gt = table + g * 4 * taps
            for j in 0..<4 {
                // Missing pixels of a last short group repeat the last real one (computed, not stored).
                let ix0 = (ox + min(j, valid - 1)) * s.strideW - s.padLeft
                for ky in 0..<kh {
                    let iy = iy0 + ky
                    let rowInside = iy >= 0 && iy < height
                    let rowBase = band + (iy - bandRow0) * width * c
                    for kx in 0..<kw {
                        let ix = ix0 + kx
                        gt[(ky * kw + kx) * 4 + j] = rowInside && ix >= 0 && ix < width ? rowBase + ix * c : zero
                    }
                }
            }
        }
        var cb = 0
        while cb + 2 * vecWidth <= c {
            for g in 0..<groups {
                block4x16(f, table: UnsafePointer(table + g * 4 * taps), taps: taps, valid: min(4, ow - g * 4), cb: cb,
                          out: outRow + g * 4 * c, residual: resRow.map { $0 + g * 4 * c })
            }
            cb += 2 * vecWidth
        }
        while cb + vecWidth <= c {
            for g in 0..<groups {
                block4x8(f, table: UnsafePointer(table + g * 4 * taps), taps: taps, valid: min(4, ow - g * 4), cb: cb,
                         out: outRow + g * 4 * c, residual: resRow.map { $0 + g * 4 * c })
            }
            cb += vecWidth
        }
        if cb < c {
            for g in 0..<groups {
                blockTail(table: UnsafePointer(table + g * 4 * taps), taps: taps, valid: min(4, ow - g * 4), cb: cb,
                          out: outRow + g * 4 * c, residual: resRow.map { $0 + g * 4 * c })
            }
        }
    }

    /// Channels cb..<cb+16 of four output pixels (the first `valid` of them stored), input read
    /// through `table` ([tap][pixel] pointers to the pixel's channel 0).
    @inline(__always)
    private func block4x16<F: MulAdd>(_: F.Type, table: UnsafePointer<UnsafePointer<Float>>, taps: Int, valid: Int, cb: Int,
                                      out: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?) {
        let bv0 = bias.vec(cb), bv1 = bias.vec(cb + vecWidth)
        var a0 = bv0, a1 = bv0, a2 = bv0, a3 = bv0
        var e0 = bv1, e1 = bv1, e2 = bv1, e3 = bv1
        var wp = UnsafePointer(weights) + cb
        var tp = table
        for _ in 0..<taps {
            let w0 = wp.vec(0), w1 = wp.vec(vecWidth)
            let p0 = tp[0] + cb, p1 = tp[1] + cb, p2 = tp[2] + cb, p3 = tp[3] + cb
            F.madd(&a0, p0.vec(0), w0); F.madd(&e0, p0.vec(vecWidth), w1)
            F.madd(&a1, p1.vec(0), w0); F.madd(&e1, p1.vec(vecWidth), w1)
            F.madd(&a2, p2.vec(0), w0); F.madd(&e2, p2.vec(vecWidth), w1)
            F.madd(&a3, p3.vec(0), w0); F.madd(&e3, p3.vec(vecWidth), w1)
            tp += 4
            wp += stride
        }
        put(a0, pixel: 0, cb, valid, out, residual); put(e0, pixel: 0, cb + vecWidth, valid, out, residual)
        put(a1, pixel: 1, cb, valid, out, residual); put(e1, pixel: 1, cb + vecWidth, valid, out, residual)
        put(a2, pixel: 2, cb, valid, out, residual); put(e2, pixel: 2, cb + vecWidth, valid, out, residual)
        put(a3, pixel: 3, cb, valid, out, residual); put(e3, pixel: 3, cb + vecWidth, valid, out, residual)
    }

    /// Channels cb..<cb+8 of four output pixels (a channel count that is a multiple of 8, not 16).
    @inline(__always)
    private func block4x8<F: MulAdd>(_: F.Type, table: UnsafePointer<UnsafePointer<Float>>, taps: Int, valid: Int, cb: Int,
                                     out: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?) {
        let bv = bias.vec(cb)
        var a0 = bv, a1 = bv, a2 = bv, a3 = bv
        var wp = UnsafePointer(weights) + cb
        var tp = table
        for _ in 0..<taps {
            let w = wp.vec(0)
            F.madd(&a0, (tp[0] + cb).vec(0), w); F.madd(&a1, (tp[1] + cb).vec(0), w)
            F.madd(&a2, (tp[2] + cb).vec(0), w); F.madd(&a3, (tp[3] + cb).vec(0), w)
            tp += 4
            wp += stride
        }
        put(a0, pixel: 0, cb, valid, out, residual); put(a1, pixel: 1, cb, valid, out, residual)
        put(a2, pixel: 2, cb, valid, out, residual); put(a3, pixel: 3, cb, valid, out, residual)
    }

    /// Residual, activation and store of one vector, for pixels that exist.
    @inline(__always)
    private func put(_ v: Vec, pixel j: Int, _ ch: Int, _ valid: Int, _ out: UnsafeMutablePointer<Float>,
                     _ residual: UnsafePointer<Float>?) {
        guard j < valid else { return }
        var r = v
        if let res = residual { r += res.vec(j * channels + ch) }
        out.store(activate(r, shape.activation), j * channels + ch)
    }

    /// The last channels (fewer than 8), scalar.
    private func blockTail(table: UnsafePointer<UnsafePointer<Float>>, taps: Int, valid: Int, cb: Int,
                           out: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?) {
        let c = channels
        for j in 0..<valid {
            for ch in cb..<c {
                var a = bias[ch]
                for t in 0..<taps { a += table[t * 4 + j][ch] * weights[t * stride + ch] }
                if let r = residual { a += r[j * c + ch] }
                out[j * c + ch] = shape.activation.apply(a)
            }
        }
    }
}
