import CPrefetch
import Foundation

/// The depthwise kernel used by default: one tile of 16 channels at a time, over a zero-padded copy
/// of the input rows of that tile in L1 (a ring of kernelH rows).
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
    /// Output rows per task of the standalone layer on several workers: enough tasks for both cores on
    /// 14x14 maps and up, and few chunk boundaries (each re-copies kernelH - strideH rows of the ring).
    static let tiledTaskRows = 8

    /// How many pixels ahead the ring copy prefetches its tile's input (0: not at all, nor the next
    /// tile's first pixels and weights, which each tile requests as it starts). 32 was the best
    /// of 8-128 on Lite0's standalone depthwise shapes with inputs from L3 (1.4-2.1x faster than none,
    /// alternating in one process; a temporary harness, not committed). Inside the network every
    /// depthwise layer took 2-18% less time and the fused blocks 1-8% (`--profile-layers`, best of 3
    /// runs each way). `CORRAL_DW_PF` overrides it, for side-by-side runs.
    nonisolated(unsafe) static var copyPrefetchPixels = Int(ProcessInfo.processInfo.environment["CORRAL_DW_PF"] ?? "") ?? 32

    /// Columns of the padded buffer: what the output columns read, with output columns rounded up to
    /// whole groups of four so the last, short group runs the 4-pixel kernel on zeros (a 1-pixel
    /// kernel has only two accumulator chains and is FMA-latency bound: 3 of 7 pixels on 7x7 maps).
    func paddedWidth(width: Int) -> Int {
        let s = shape
        let ow = (width + s.padLeft + s.padRight - s.kernelW) / s.strideW + 1
        return ((ow + 3) / 4 * 4 - 1) * s.strideW + s.kernelW
    }

    /// The ring of padded rows: kernelH rows of one 16-channel tile (22 KB for a 3x3 on 112 columns).
    func ringCount(width: Int) -> Int { shape.kernelH * paddedWidth(width: width) * 16 }

    /// Output rows oy0..<oy1 of one image. `band` holds image rows from `bandRow0` on (every row these
    /// outputs read); output and residual point at output row oy0.
    ///
    /// Per tile of 16 channels, the input rows pass through a ring of kernelH zero-padded rows: each
    /// input row is copied once per tile (an earlier version copied a chunk of rows per output-row
    /// chunk, which at one output row per chunk copied every 3x3 input row three times), and output
    /// row oy reads ring rows (oy * strideH + ky) mod kernelH.
    ///
    /// planeFloats: when given, `band` is already in the ring's layout, one plane per tile of 16
    /// channels (`planeFloats` apart) of paddedWidth x 16 floats per row with the padding columns zero
    /// (a fused block's expand writes it so, FusedMBConv.swift): the rows are read in place, nothing is
    /// copied, and `buffer` only provides the zero row that stands for rows outside the image.
    func tiledRows<F: MulAdd>(_ f: F.Type, band: UnsafePointer<Float>, bandRow0: Int, height: Int, width: Int,
                              oy0: Int, oy1: Int, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
                              buffer: UnsafeMutablePointer<Float>, planeFloats: Int? = nil) {
        let s = shape
        // The common windows with their sizes as constants: the inlined body then unrolls the taps,
        // and neighbouring pixels' shared input columns are loaded once (a 3x3 stride-1 group of four
        // pixels loads 6 input columns per row instead of 12). This relies on `ringRows` being inlined
        // here: in the release binary the specialised `DepthwisePlan` rows/run functions hold ~200
        // vfmadd instructions (`objdump -d`); a version of `ringRows` without its closure was left out
        // of line by the optimiser and kept only the 40 of the run-time-size path.
        switch (s.kernelH, s.kernelW, s.strideH, s.strideW) {
        case (3, 3, 1, 1): ringRows(f, 3, 3, 1, 1, band, bandRow0, height, width, oy0, oy1, output, residual, buffer, planeFloats)
        case (3, 3, 2, 2): ringRows(f, 3, 3, 2, 2, band, bandRow0, height, width, oy0, oy1, output, residual, buffer, planeFloats)
        case (5, 5, 1, 1): ringRows(f, 5, 5, 1, 1, band, bandRow0, height, width, oy0, oy1, output, residual, buffer, planeFloats)
        case (5, 5, 2, 2): ringRows(f, 5, 5, 2, 2, band, bandRow0, height, width, oy0, oy1, output, residual, buffer, planeFloats)
        default:
            ringRows(f, s.kernelH, s.kernelW, s.strideH, s.strideW, band, bandRow0, height, width, oy0, oy1, output, residual, buffer, planeFloats)
        }
    }

    @inline(__always)
    private func ringRows<F: MulAdd>(_: F.Type, _ kh: Int, _ kw: Int, _ sh: Int, _ sw: Int,
                                     _ band: UnsafePointer<Float>, _ bandRow0: Int, _ height: Int, _ width: Int,
                                     _ oy0: Int, _ oy1: Int, _ output: UnsafeMutablePointer<Float>,
                                     _ residual: UnsafePointer<Float>?, _ buffer: UnsafeMutablePointer<Float>,
                                     _ planeFloats: Int?) {
        let s = shape, c = channels
        let ow = (width + s.padLeft + s.padRight - kw) / sw + 1
        let wp = paddedWidth(width: width), rowFloats = wp * 16
        let iyStart = oy0 * sh - s.padTop
        let ws = stride16, act = s.activation
        let zero = Vec()
        let step = sw * 16
        // In place (a tiled band): no ring, no copy; `buffer` is only the zero row.
        let copying = planeFloats == nil
        let pfDistance = copying ? DepthwisePlan.copyPrefetchPixels * c : 0
        if !copying { buffer.update(repeating: 0, count: rowFloats) }
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: kh) { rp in
            var cb = 0
            while cb < c {
                let valid = min(16, c - cb)
                let w = UnsafePointer(weights16) + cb
                let bv0 = bias16.vec(cb), bv1 = bias16.vec(cb + 8)
                var next = iyStart   // first input row not yet in the ring
                if pfDistance > 0 && cb + 16 < c {
                    // The next tile's first pixels, which the in-loop prefetch below never reaches.
                    let first = band + (max(0, iyStart) - bandRow0) * width * c + cb + 16
                    for ix in 0..<min(DepthwisePlan.copyPrefetchPixels, width) { corral_prefetch_read(first + ix * c) }
                    // And its weights: one line per tap, c x 4 bytes apart, all read by its first pixel
                    // group (7x7 layers, 13 groups per tile, took 8-10% less time with this).
                    for t in 0..<(kh * kw) { corral_prefetch_read(w + 16 + t * ws) }
                }
                for oy in oy0..<oy1 {
                    let iyTop = oy * sh - s.padTop
                    while copying && next < iyTop + kh {
                        // Input row `next` of this tile, zero-padded, into its ring slot.
                        let dst = buffer + ((next - iyStart) % kh) * rowFloats
                        if next < 0 || next >= height {
                            dst.update(repeating: 0, count: rowFloats)
                        } else {
                            let src = band + (next - bandRow0) * width * c + cb
                            for bc in 0..<wp {
                                let ix = bc - s.padLeft
                                let d = dst + bc * 16
                                if ix < 0 || ix >= width {
                                    d.store(zero, 0); d.store(zero, 8)
                                } else if valid == 16 {
                                    let p = src + ix * c
                                    // A tile's 64 bytes of each pixel are c x 4 bytes apart, a stream the
                                    // hardware prefetchers do not run far enough ahead of: on inputs that
                                    // come from L3 or memory the copy waited on nearly every load.
                                    if pfDistance > 0 { corral_prefetch_read(p + pfDistance) }
                                    d.store(p.vec(0), 0); d.store(p.vec(8), 8)
                                } else {
                                    for j in 0..<16 { d[j] = j < valid ? src[ix * c + j] : 0 }
                                }
                            }
                        }
                        next += 1
                    }
                    if let planeFloats {
                        let plane = band + (cb / 16) * planeFloats
                        for ky in 0..<kh {
                            let iy = iyTop + ky
                            rp[ky] = iy < 0 || iy >= height ? UnsafePointer(buffer) : plane + (iy - bandRow0) * rowFloats
                        }
                    } else {
                        for ky in 0..<kh { rp[ky] = UnsafePointer(buffer) + ((iyTop + ky - iyStart) % kh) * rowFloats }
                    }
                    let outRow = output + (oy - oy0) * ow * c + cb
                    let resRow = residual.map { $0 + (oy - oy0) * ow * c + cb }
                    var ox = 0
                    // Four pixels: 8 accumulators hide the FMA latency, one weight load feeds four FMAs.
                    while ox < ow {
                        var a0 = bv0, a1 = bv0, a2 = bv0, a3 = bv0
                        var e0 = bv1, e1 = bv1, e2 = bv1, e3 = bv1
                        var wt = w
                        for ky in 0..<kh {
                            let q = rp[ky] + ox * step
                            for kx in 0..<kw {
                                let w0 = wt.vec(0), w1 = wt.vec(8)
                                let o = kx * 16
                                F.madd(&a0, q.vec(o), w0); F.madd(&e0, q.vec(o + 8), w1)
                                F.madd(&a1, q.vec(o + step), w0); F.madd(&e1, q.vec(o + step + 8), w1)
                                F.madd(&a2, q.vec(o + 2 * step), w0); F.madd(&e2, q.vec(o + 2 * step + 8), w1)
                                F.madd(&a3, q.vec(o + 3 * step), w0); F.madd(&e3, q.vec(o + 3 * step + 8), w1)
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
