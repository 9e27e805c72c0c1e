import Foundation

/// The depthwise kernel used by default: one tile of 16 channels at a time, over a zero-padded copy
/// of the input rows of that tile in L1.
///
/// Why a copy: in NHWC the 16 channels of one tile are 64 bytes out of every pixel's C x 4, so the
/// input lines a tile needs are strided (2.7 KB apart at 672 channels) and, when all tiles of one
/// output row are computed before the next row, every input line comes from L2 once per output row
/// that reads it (kernel-height times). The per-tap pointer-table kernel measured 11-18 GFLOP/s on
/// Lite0's 14x14 and 7x7 layers for that reason, against 60-75 GFLOP/s for the 1x1 GEMMs. Copying the
/// tile's rows into a dense [row][column][16] buffer with the padding written as zeros costs one
/// load and store per input vector, after which every tap of every output pixel reads L1 with plain
/// address arithmetic and no border cases.
extension DepthwisePlan {
    /// One tile's padded rows should stay in L1 (32 KB) next to its weights and output lines.
    /// `CORRAL_DW_L1_KB` overrides it, for tuning with `corral bench embed`.
    static let tiledBudgetFloats: Int = {
        let kb = ProcessInfo.processInfo.environment["CORRAL_DW_L1_KB"].flatMap(Int.init) ?? 24
        return max(1, kb) * 1024 / 4
    }()

    /// Columns of the padded buffer: what the output columns read, with output columns rounded up to
    /// whole groups of four so the last, short group runs the 4-pixel kernel on zeros (a 1-pixel
    /// kernel has only two accumulator chains and is FMA-latency bound: 3 of 7 pixels on 7x7 maps).
    func paddedWidth(width: Int) -> Int {
        let s = shape
        let ow = (width + s.padLeft + s.padRight - s.kernelW) / s.strideW + 1
        return ((ow + 3) / 4 * 4 - 1) * s.strideW + s.kernelW
    }

    /// Output rows computed from one copy: as many as fit the L1 budget, at least one.
    func tiledChunkRows(width: Int, oh: Int) -> Int {
        let s = shape
        let fit = DepthwisePlan.tiledBudgetFloats / (paddedWidth(width: width) * 16)
        return min(oh, max(1, (fit - s.kernelH) / s.strideH + 1))
    }

    func tiledBufferCount(width: Int, rows: Int) -> Int {
        ((rows - 1) * shape.strideH + shape.kernelH) * paddedWidth(width: width) * 16
    }

    /// Output rows oy0..<oy1 (at most `chunk`) of one image. `band` holds image rows from `bandRow0` on
    /// (every row these outputs read); output and residual point at output row oy0.
    func tiledRows<F: MulAdd>(_: F.Type, band: UnsafePointer<Float>, bandRow0: Int, height: Int, width: Int,
                              oy0: Int, oy1: Int, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
                              buffer: UnsafeMutablePointer<Float>, chunk: Int) {
        let s = shape, c = channels, kh = s.kernelH, kw = s.kernelW, sh = s.strideH, sw = s.strideW
        let ow = (width + s.padLeft + s.padRight - kw) / sw + 1
        let wp = paddedWidth(width: width), rowFloats = wp * 16
        let iyStart = oy0 * sh - s.padTop
        let rows = (oy1 - oy0 - 1) * sh + kh
        let ws = stride16, act = s.activation
        let zero = Vec()
        let step = sw * 16
        var cb = 0
        while cb < c {
            let valid = min(16, c - cb)
            // The tile's input rows, zero-padded, into the buffer.
            for br in 0..<rows {
                let iy = iyStart + br
                let dst = buffer + br * rowFloats
                if iy < 0 || iy >= height {
                    dst.update(repeating: 0, count: rowFloats)
                    continue
                }
                let src = band + (iy - bandRow0) * width * c + cb
                for bc in 0..<wp {
                    let ix = bc - s.padLeft
                    let d = dst + bc * 16
                    if ix < 0 || ix >= width {
                        d.store(zero, 0); d.store(zero, 8)
                    } else if valid == 16 {
                        let p = src + ix * c
                        d.store(p.vec(0), 0); d.store(p.vec(8), 8)
                    } else {
                        for j in 0..<16 { d[j] = j < valid ? src[ix * c + j] : 0 }
                    }
                }
            }
            let w = UnsafePointer(weights16) + cb
            let bv0 = bias16.vec(cb), bv1 = bias16.vec(cb + 8)
            for oy in oy0..<oy1 {
                let rowBuf = UnsafePointer(buffer) + (oy - oy0) * sh * rowFloats
                let outRow = output + (oy - oy0) * ow * c + cb
                let resRow = residual.map { $0 + (oy - oy0) * ow * c + cb }
                var ox = 0
                // Four pixels: 8 accumulators hide the FMA latency, one weight load feeds four FMAs.
                while ox < ow {
                    var a0 = bv0, a1 = bv0, a2 = bv0, a3 = bv0
                    var e0 = bv1, e1 = bv1, e2 = bv1, e3 = bv1
                    var wt = w
                    let base = rowBuf + ox * step
                    for ky in 0..<kh {
                        var q = base + ky * rowFloats
                        for _ in 0..<kw {
                            let w0 = wt.vec(0), w1 = wt.vec(8)
                            F.madd(&a0, q.vec(0), w0); F.madd(&e0, q.vec(8), w1)
                            F.madd(&a1, q.vec(step), w0); F.madd(&e1, q.vec(step + 8), w1)
                            F.madd(&a2, q.vec(2 * step), w0); F.madd(&e2, q.vec(2 * step + 8), w1)
                            F.madd(&a3, q.vec(3 * step), w0); F.madd(&e3, q.vec(3 * step + 8), w1)
                            q += 16
                            wt += ws
                        }
                    }
                    let o = outRow + ox * c, r = resRow.map { $0 + ox * c }
                    let pixels = min(4, ow - ox)
                    storeTile(a0, e0, o, r, valid, act)
                    if pixels > 1 { storeTile(a1, e1, o + c, r.map { $0 + c }, valid, act) }
                    if pixels > 2 { storeTile(a2, e2, o + 2 * c, r.map { $0 + 2 * c }, valid, act) }
                    if pixels > 3 { storeTile(a3, e3, o + 3 * c, r.map { $0 + 3 * c }, valid, act) }
                    ox += 4
                }
            }
            cb += 16
        }
    }

    /// Residual, activation and store of one pixel's tile (the first `valid` channels).
    @inline(__always)
    private func storeTile(_ v0: Vec, _ v1: Vec, _ out: UnsafeMutablePointer<Float>, _ residual: UnsafePointer<Float>?,
                           _ valid: Int, _ act: Activation) {
        if valid == 16 {
            var r0 = v0, r1 = v1
            if let res = residual { r0 += res.vec(0); r1 += res.vec(8) }
            out.store(activate(r0, act), 0)
            out.store(activate(r1, act), 8)
        } else {
            for j in 0..<valid {
                var x = j < 8 ? v0[j] : v1[j - 8]
                if let res = residual { x += res[j] }
                out[j] = act.apply(x)
            }
        }
    }
}
