import CPrefetch

/// Stores one row of a 16-wide tile: + residual, activation; a partial panel (the last one when the
/// channel count is not a multiple of 16) goes out lane by lane.
@inline(__always)
func storeRow16(_ out: UnsafeMutablePointer<Float>, _ residual: UnsafePointer<Float>?, _ v0: Vec, _ v1: Vec,
                _ nValid: Int, _ act: Activation) {
    if nValid == 16 {
        var v0 = v0, v1 = v1
        if let residual { v0 += residual.vec(0); v1 += residual.vec(8) }
        out.store(activate(v0, act), 0)
        out.store(activate(v1, act), 8)
    } else if nValid == 8 {
        var v0 = v0
        if let residual { v0 += residual.vec(0) }
        out.store(activate(v0, act), 0)
    } else {
        for j in 0..<nValid {
            var x = j < 8 ? v0[j] : v1[j - 8]
            if let residual { x += residual[j] }
            out[j] = act.apply(x)
        }
    }
}

/// The register-blocked micro-kernel behind every dense and grouped-with-16+-channels convolution
/// and `matmul`: 6 output rows (pixels) x 16 output columns (channels) held in 12 accumulators (12 of
/// the 16 ymm registers; 2 more hold the weight row, 1 the broadcast input). Per step of the
/// reduction it does 2 vector loads of packed weights, 6 broadcasts and 12 multiply-adds, so it is
/// bound by the FMA units rather than by loads (the BLIS Haswell-class shape). The epilogue adds the
/// residual, applies the activation and stores only the valid rows and columns.
///
/// The 6x16 micro-kernel as the GEMM drivers call it (GemmConv.swift, MatMul.swift). One call covers
/// `panels` consecutive 16-column panels times `tiles` consecutive 6-row tiles, panel-major: for each
/// panel, every tile in turn. The drivers use it two ways: one tile times all panels of a block (the
/// tile's input rows stay in L1 while the weights stream from L2), or, when all the weights fit in
/// L1, one panel times a block of tiles (BLIS order). Either way the loop set-up and the call are
/// paid once per many (tile, panel) pairs: for 1x1 convs with K = 16..40 a pair is only 100-250
/// cycles of multiply-adds. A last panel with at most 8 valid columns goes to the 6x8 variant,
/// which skips the zero half of the packed weights.
///
/// rows: per tile, `taps` groups of 6 row pointers (tile i's start at rows + i * tableStride); the
/// reduction reads rows[t * 6 + r][kOffset ..< kOffset + kp]. Tile i writes out + i * 6 * ldo.
/// b: the first panel's packed weights [tap][kp][16]; the next panel starts `panelStride` floats later.
/// bias: 16 values per panel (zero-padded). nLast: valid columns of the last panel; mValid: valid
/// rows of the last tile (the others are full). nextBlock: when not 0, the distance in floats from
/// these panels to the next block's, whose lines are prefetched into L2 as the reduction runs.
/// outPanel: floats from one panel's output columns to the next's (16 in NHWC; a fused block's
/// expand writes each panel into its own plane of the depthwise's tiled layout).
@inline(__always)
func gemmKernel6x16<F: MulAdd>(_: F.Type, rows: UnsafePointer<UnsafePointer<Float>>, taps: Int, kOffset: Int, kp: Int,
                               b: UnsafePointer<Float>, panelStride: Int, panels: Int, bias: UnsafePointer<Float>,
                               out: UnsafeMutablePointer<Float>, ldo: Int, residual: UnsafePointer<Float>?,
                               mValid mLast: Int, nLast: Int, act: Activation,
                               tiles: Int = 1, tableStride: Int = 6, nextBlock: Int = 0, outPanel: Int = 16) {
    // One compiled kernel per activation: the epilogue of a full tile is then straight-line code.
    switch act {
    case .none:
        gemmKernel6x16(F.self, NoActivation.self, rows: rows, taps: taps, kOffset: kOffset, kp: kp, b: b, panelStride: panelStride,
                       panels: panels, bias: bias, out: out, ldo: ldo, residual: residual, mValid: mLast, nLast: nLast,
                       tiles: tiles, tableStride: tableStride, nextBlock: nextBlock, outPanel: outPanel)
    case .relu:
        gemmKernel6x16(F.self, ReLU.self, rows: rows, taps: taps, kOffset: kOffset, kp: kp, b: b, panelStride: panelStride,
                       panels: panels, bias: bias, out: out, ldo: ldo, residual: residual, mValid: mLast, nLast: nLast,
                       tiles: tiles, tableStride: tableStride, nextBlock: nextBlock, outPanel: outPanel)
    case .relu6:
        gemmKernel6x16(F.self, ReLU6.self, rows: rows, taps: taps, kOffset: kOffset, kp: kp, b: b, panelStride: panelStride,
                       panels: panels, bias: bias, out: out, ldo: ldo, residual: residual, mValid: mLast, nLast: nLast,
                       tiles: tiles, tableStride: tableStride, nextBlock: nextBlock, outPanel: outPanel)
    }
}

@inline(never)
func gemmKernel6x16<F: MulAdd, A: ActivationKind>(_: F.Type, _: A.Type, rows: UnsafePointer<UnsafePointer<Float>>, taps: Int,
                                                  kOffset: Int, kp: Int, b: UnsafePointer<Float>, panelStride: Int, panels: Int,
                                                  bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, ldo: Int,
                                                  residual: UnsafePointer<Float>?, mValid mLast: Int, nLast: Int,
                                                  tiles: Int, tableStride: Int, nextBlock: Int, outPanel: Int = 16) {
    let act = A.activation
    // With the 1x16 kernel for leftover panels the row kernels take any block but a lone partial
    // panel (which they send back here); without it, blocks of four panels or more.
    let rowKernelTakes = GemmTuning.rowPanels ? panels > 1 || nLast == 16 : panels >= 4
    if tiles == 1 && mLast == 1 && rowKernelTakes && outPanel == 16 && GemmTuning.singleRowKernel {
        // A lone last row (a 7x7 map at batch 1 is 8 full tiles and 1 row; a classifier at batch 1 is
        // only that row): the 6-row kernel would spend as long on it as on a full tile.
        gemmRow1x64(F.self, A.self, rows: rows, taps: taps, kOffset: kOffset, kp: kp, b: b, panelStride: panelStride,
                    panels: panels, bias: bias, out: out, residual: residual, nLast: nLast)
        return
    }
    let ahead = GemmTuning.prefetchSteps * 16
    let far = nextBlock != 0
    for p in 0..<panels {
      let nValid = p == panels - 1 ? nLast : 16
      let bp0 = b + p * panelStride
      for i in 0..<tiles {
        let mValid = i == tiles - 1 ? mLast : 6
        let rows = rows + i * tableStride
        let o = out + p * outPanel + i * 6 * ldo, res = residual.map { $0 + p * outPanel + i * 6 * ldo }
        if ahead > 0 {
            // The tile's output lines (and residual lines) are requested now and arrive while the
            // reduction runs: inside a network the output buffer was last touched layers ago, and a
            // store to a line not in cache stalls the epilogue.
            for r in 0..<mValid {
                corral_prefetch_write(o + r * ldo)
                if let res { corral_prefetch_read(res + r * ldo) }
            }
        }
        if nValid <= 8 {
            gemmPanel6x8(F.self, A.self, rows: rows, taps: taps, kOffset: kOffset, kp: kp, b: bp0, bias: bias + p * 16,
                         out: o, ldo: ldo, residual: res, mValid: mValid, nValid: nValid)
            continue
        }
        var acc = Acc6x16(bias0: bias.vec(p * 16), bias1: bias.vec(p * 16 + 8))
        var bp = bp0
        for t in 0..<taps {
            let r = rows + t * 6
            // One loop per prefetch kind, so the choice is not re-tested (and its distance not reloaded
            // from the stack) on every step of the reduction.
            if far {
                reduce6x16(F.self, L2Ahead.self, &acc, r, kOffset: kOffset, kp: kp, bp: &bp, distance: nextBlock)
            } else {
                reduce6x16(F.self, L1Ahead.self, &acc, r, kOffset: kOffset, kp: kp, bp: &bp, distance: ahead)
            }
        }
        if mValid == 6 && nValid == 16 {
            acc.store(A.self, o, ldo: ldo, residual: res)
        } else {
            acc.storePartial(o, ldo: ldo, residual: res, mValid: mValid, nValid: nValid, act: act)
        }
      }
    }
}

/// One output row across 4 panels (64 columns) at a time, for a tile with a single valid row: 8
/// accumulators (enough to hide the FMA latency) and one broadcast per step feed 8 multiply-adds,
/// where the 6x16 kernel would spend 12 on 2 useful ones. Panels left over (fewer than 4, or a
/// partial last panel) go to the 6x16 kernel's partial-tile path one by one.
@inline(never)
func gemmRow1x64<F: MulAdd, A: ActivationKind>(_: F.Type, _: A.Type, rows: UnsafePointer<UnsafePointer<Float>>, taps: Int,
                                               kOffset: Int, kp: Int, b: UnsafePointer<Float>, panelStride: Int, panels: Int,
                                               bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                                               residual: UnsafePointer<Float>?, nLast: Int) {
    var p = 0
    // Whole groups of four full panels.
    let full = nLast == 16 ? panels : panels - 1
    while p + 4 <= full {
        var c0 = bias.vec(p * 16), c1 = bias.vec(p * 16 + 8), c2 = bias.vec(p * 16 + 16), c3 = bias.vec(p * 16 + 24)
        var c4 = bias.vec(p * 16 + 32), c5 = bias.vec(p * 16 + 40), c6 = bias.vec(p * 16 + 48), c7 = bias.vec(p * 16 + 56)
        var b0 = b + p * panelStride
        var b1 = b0 + panelStride, b2 = b1 + panelStride, b3 = b2 + panelStride
        for t in 0..<taps {
            let a = rows[t * 6] + kOffset
            for k in 0..<kp {
                let x = Vec(repeating: a[k])
                F.madd(&c0, x, b0.vec(0)); F.madd(&c1, x, b0.vec(8))
                F.madd(&c2, x, b1.vec(0)); F.madd(&c3, x, b1.vec(8))
                F.madd(&c4, x, b2.vec(0)); F.madd(&c5, x, b2.vec(8))
                F.madd(&c6, x, b3.vec(0)); F.madd(&c7, x, b3.vec(8))
                b0 += 16; b1 += 16; b2 += 16; b3 += 16
            }
        }
        let o = out + p * 16, r = residual.map { $0 + p * 16 }
        storeRow8(A.self, o, r, c0); storeRow8(A.self, o + 8, r.map { $0 + 8 }, c1)
        storeRow8(A.self, o + 16, r.map { $0 + 16 }, c2); storeRow8(A.self, o + 24, r.map { $0 + 24 }, c3)
        storeRow8(A.self, o + 32, r.map { $0 + 32 }, c4); storeRow8(A.self, o + 40, r.map { $0 + 40 }, c5)
        storeRow8(A.self, o + 48, r.map { $0 + 48 }, c6); storeRow8(A.self, o + 56, r.map { $0 + 56 }, c7)
        p += 4
    }
    // Whole panels left over (fewer than four) one at a time, split along K: a lone row on the 6x16
    // kernel costs as much as a full tile. Lite0's K = 1152 and ResNeXt-50's K = 1024-2048 layers at
    // 7x7 (8 tiles + 1 row) have blocks of 1-3 panels, so their last row never reached the loop above.
    while GemmTuning.rowPanels && p < full {
        let (v0, v1) = row1x16(F.self, rows: rows, taps: taps, kOffset: kOffset, kp: kp, b: b + p * panelStride)
        let o = out + p * 16, r = residual.map { $0 + p * 16 }
        storeRow8(A.self, o, r, v0 + bias.vec(p * 16)); storeRow8(A.self, o + 8, r.map { $0 + 8 }, v1 + bias.vec(p * 16 + 8))
        p += 1
    }
    // The rest one panel per call (a partial last panel, with `panels` 1, is not sent back here).
    while p < panels {
        gemmKernel6x16(F.self, A.self, rows: rows, taps: taps, kOffset: kOffset, kp: kp, b: b + p * panelStride,
                       panelStride: panelStride, panels: 1, bias: bias + p * 16, out: out + p * 16, ldo: 0,
                       residual: residual.map { $0 + p * 16 }, mValid: 1, nLast: p == panels - 1 ? nLast : 16, tiles: 1,
                       tableStride: 6, nextBlock: 0)
        p += 1
    }
}

/// One row times one 16-column panel: the reduction split into four interleaved chains (8
/// accumulators, enough to hide the FMA latency), summed at the end. Returns the two halves.
@inline(__always)
func row1x16<F: MulAdd>(_: F.Type, rows: UnsafePointer<UnsafePointer<Float>>, taps: Int, kOffset: Int, kp: Int,
                        b: UnsafePointer<Float>) -> (Vec, Vec) {
    var c0 = Vec(), c1 = Vec(), d0 = Vec(), d1 = Vec(), e0 = Vec(), e1 = Vec(), g0 = Vec(), g1 = Vec()
    var bp = b
    for t in 0..<taps {
        let a = rows[t * 6] + kOffset
        var k = 0
        while k + 4 <= kp {
            let x0 = Vec(repeating: a[k]), x1 = Vec(repeating: a[k + 1])
            let x2 = Vec(repeating: a[k + 2]), x3 = Vec(repeating: a[k + 3])
            F.madd(&c0, x0, bp.vec(0)); F.madd(&c1, x0, bp.vec(8))
            F.madd(&d0, x1, bp.vec(16)); F.madd(&d1, x1, bp.vec(24))
            F.madd(&e0, x2, bp.vec(32)); F.madd(&e1, x2, bp.vec(40))
            F.madd(&g0, x3, bp.vec(48)); F.madd(&g1, x3, bp.vec(56))
            bp += 64
            k += 4
        }
        while k < kp {
            let x = Vec(repeating: a[k])
            F.madd(&c0, x, bp.vec(0)); F.madd(&c1, x, bp.vec(8))
            bp += 16
            k += 1
        }
    }
    return ((c0 + d0) + (e0 + g0), (c1 + d1) + (e1 + g1))
}

/// The 12 accumulators of a 6x16 tile; a struct so the reduction loop can be one inlined function
/// (LLVM keeps the fields in registers).
struct Acc6x16 {
    var c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51: Vec
    @inline(__always) init(bias0: Vec, bias1: Vec) {
        (c00, c10, c20, c30, c40, c50) = (bias0, bias0, bias0, bias0, bias0, bias0)
        (c01, c11, c21, c31, c41, c51) = (bias1, bias1, bias1, bias1, bias1, bias1)
    }

    /// A full tile's epilogue (6 rows, 16 valid columns): + residual, activation, 12 stores, no branches
    /// but the one on the residual.
    @inline(__always) func store<A: ActivationKind>(_: A.Type, _ o: UnsafeMutablePointer<Float>, ldo: Int,
                                                    residual r: UnsafePointer<Float>?) {
        var t = self
        if let r {
            t.c00 += r.vec(0); t.c01 += r.vec(8); t.c10 += r.vec(ldo); t.c11 += r.vec(ldo + 8)
            t.c20 += r.vec(2 * ldo); t.c21 += r.vec(2 * ldo + 8); t.c30 += r.vec(3 * ldo); t.c31 += r.vec(3 * ldo + 8)
            t.c40 += r.vec(4 * ldo); t.c41 += r.vec(4 * ldo + 8); t.c50 += r.vec(5 * ldo); t.c51 += r.vec(5 * ldo + 8)
        }
        o.store(A.apply(t.c00), 0); o.store(A.apply(t.c01), 8)
        o.store(A.apply(t.c10), ldo); o.store(A.apply(t.c11), ldo + 8)
        o.store(A.apply(t.c20), 2 * ldo); o.store(A.apply(t.c21), 2 * ldo + 8)
        o.store(A.apply(t.c30), 3 * ldo); o.store(A.apply(t.c31), 3 * ldo + 8)
        o.store(A.apply(t.c40), 4 * ldo); o.store(A.apply(t.c41), 4 * ldo + 8)
        o.store(A.apply(t.c50), 5 * ldo); o.store(A.apply(t.c51), 5 * ldo + 8)
    }
}

extension Acc6x16 {
    /// The epilogue of a tile with fewer than 6 rows or 16 columns: only the valid ones are stored.
    /// Out of line, and rare: inlined, it made the kernel big enough that the compiler stopped
    /// inlining the vector stores of the full-tile path.
    @inline(never)
    func storePartial(_ o: UnsafeMutablePointer<Float>, ldo: Int, residual res: UnsafePointer<Float>?,
                      mValid: Int, nValid: Int, act: Activation) {
        storeRow16(o, res, c00, c01, nValid, act)
        if mValid > 1 { storeRow16(o + 1 * ldo, res.map { $0 + 1 * ldo }, c10, c11, nValid, act) }
        if mValid > 2 { storeRow16(o + 2 * ldo, res.map { $0 + 2 * ldo }, c20, c21, nValid, act) }
        if mValid > 3 { storeRow16(o + 3 * ldo, res.map { $0 + 3 * ldo }, c30, c31, nValid, act) }
        if mValid > 4 { storeRow16(o + 4 * ldo, res.map { $0 + 4 * ldo }, c40, c41, nValid, act) }
        if mValid > 5 { storeRow16(o + 5 * ldo, res.map { $0 + 5 * ldo }, c50, c51, nValid, act) }
    }
}

/// An activation chosen at compile time, so a kernel's epilogue has no switch per vector.
protocol ActivationKind {
    static var activation: Activation { get }
    static func apply(_ v: Vec) -> Vec
}
enum NoActivation: ActivationKind {
    static var activation: Activation { .none }
    @inline(__always) static func apply(_ v: Vec) -> Vec { v }
}
enum ReLU: ActivationKind {
    static var activation: Activation { .relu }
    @inline(__always) static func apply(_ v: Vec) -> Vec { activate(v, .relu) }
}
enum ReLU6: ActivationKind {
    static var activation: Activation { .relu6 }
    @inline(__always) static func apply(_ v: Vec) -> Vec { activate(v, .relu6) }
}

/// Which prefetch hint a reduction step issues for the packed weights `distance` floats on.
/// `streams`: the weights come from beyond L1, i.e. a large layer, whose outputs are out of cache too.
protocol WeightPrefetch {
    static func hint(_ p: UnsafePointer<Float>)
    static var streams: Bool { get }
}
/// The line a fixed number of steps ahead, into L1.
enum L1Ahead: WeightPrefetch {
    @inline(__always) static func hint(_ p: UnsafePointer<Float>) { corral_prefetch_read(p) }
    static var streams: Bool { true }
}
/// The same line of the next block of panels, into L2.
enum L2Ahead: WeightPrefetch {
    @inline(__always) static func hint(_ p: UnsafePointer<Float>) { corral_prefetch_l2(p) }
    static var streams: Bool { true }
}
/// No hint: the weights are in L1 already.
enum NoPrefetch: WeightPrefetch {
    @inline(__always) static func hint(_ p: UnsafePointer<Float>) {}
    static var streams: Bool { false }
}

/// kp steps of the 6x16 reduction over one tap: per step one 64-byte line of packed weights (two
/// vectors), six broadcast inputs, twelve multiply-adds and one prefetch hint.
@inline(__always)
func reduce6x16<F: MulAdd, P: WeightPrefetch>(_: F.Type, _: P.Type, _ acc: inout Acc6x16,
                                              _ r: UnsafePointer<UnsafePointer<Float>>, kOffset: Int, kp: Int,
                                              bp: inout UnsafePointer<Float>, distance: Int) {
    let a0 = r[0] + kOffset, a1 = r[1] + kOffset, a2 = r[2] + kOffset
    let a3 = r[3] + kOffset, a4 = r[4] + kOffset, a5 = r[5] + kOffset
    var b = bp
    for k in 0..<kp {
        P.hint(b + distance)
        let b0 = b.vec(0), b1 = b.vec(8)
        let x0 = Vec(repeating: a0[k])
        F.madd(&acc.c00, x0, b0); F.madd(&acc.c01, x0, b1)
        let x1 = Vec(repeating: a1[k])
        F.madd(&acc.c10, x1, b0); F.madd(&acc.c11, x1, b1)
        let x2 = Vec(repeating: a2[k])
        F.madd(&acc.c20, x2, b0); F.madd(&acc.c21, x2, b1)
        let x3 = Vec(repeating: a3[k])
        F.madd(&acc.c30, x3, b0); F.madd(&acc.c31, x3, b1)
        let x4 = Vec(repeating: a4[k])
        F.madd(&acc.c40, x4, b0); F.madd(&acc.c41, x4, b1)
        let x5 = Vec(repeating: a5[k])
        F.madd(&acc.c50, x5, b0); F.madd(&acc.c51, x5, b1)
        b += 16
    }
    bp = b
}

/// The 6x8 half of `gemmKernel6x16` for a last panel with at most 8 valid columns (Cout = 24, 40 in
/// EfficientNet's project layers): half the multiply-adds of running the zero-padded 16-wide panel.
/// Six accumulators do not fully hide the FMA latency, but every product is a useful one.
@inline(never)
func gemmPanel6x8<F: MulAdd, A: ActivationKind>(_: F.Type, _: A.Type, rows: UnsafePointer<UnsafePointer<Float>>, taps: Int,
                                                kOffset: Int, kp: Int, b: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                                out: UnsafeMutablePointer<Float>, ldo: Int, residual: UnsafePointer<Float>?,
                                                mValid: Int, nValid: Int) {
    let b0 = bias.vec(0)
    var c0 = b0, c1 = b0, c2 = b0, c3 = b0, c4 = b0, c5 = b0
    var bp = b
    for t in 0..<taps {
        let r = rows + t * 6
        let a0 = r[0] + kOffset
        let a1 = r[1] + kOffset
        let a2 = r[2] + kOffset
        let a3 = r[3] + kOffset
        let a4 = r[4] + kOffset
        let a5 = r[5] + kOffset
        for k in 0..<kp {
            let b0 = bp.vec(0)
            F.madd(&c0, Vec(repeating: a0[k]), b0)
            F.madd(&c1, Vec(repeating: a1[k]), b0)
            F.madd(&c2, Vec(repeating: a2[k]), b0)
            F.madd(&c3, Vec(repeating: a3[k]), b0)
            F.madd(&c4, Vec(repeating: a4[k]), b0)
            F.madd(&c5, Vec(repeating: a5[k]), b0)
            bp += 16
        }
    }
    storeRows8(A.self, (c0, c1, c2, c3, c4, c5), out: out, ldo: ldo, residual: residual, mValid: mValid, nValid: nValid)
}

/// Which packed-weight lines a 1x1 reduction step requests ahead of use: none when all the weights
/// sit in L1, the line a few steps on (into L1) while a block of panels streams from L2, or the same
/// line of the next block (into L2) while the next block is still in L3 or memory.
enum WeightLookahead { case none, l1(distance: Int), l2(distance: Int) }

/// The 1x1-convolution form of `gemmKernel6x16` (one tap, dense, K from kOffset 0): `panels` x
/// `tiles` 6x16 tiles, panel-major as there. It leaves out the per-tile work of the general kernel
/// that a 1x1 conv does not need: the tap loop and its row-table reloads, the residual test per
/// output-line prefetch, the test of which prefetch to issue, the lone-row dispatch. Output lines
/// are prefetched only when the weights stream: with all weights in L1, as in a fused block's band,
/// the outputs are in cache too, and the prefetches made those blocks 1-4% slower. At K = 16-32
/// (EfficientNet's early expand layers) a tile is only 100-200 cycles of multiply-adds, and that
/// work took a third of it: in L1, K = 16 went from ~65% to ~87% of the kernel's peak and K = 24
/// from ~80% to ~94% (a temporary harness alternating the two kernels in one process; not
/// committed). The caller runs a last tile with one valid row on `gemmKernel6x16`, which sends it
/// to the 1x64 kernel.
@inline(__always)
func gemm1x1Kernel6x16<F: MulAdd>(_ f: F.Type, rows: UnsafePointer<UnsafePointer<Float>>, kp: Int, b: UnsafePointer<Float>,
                                  panelStride: Int, panels: Int, bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                                  ldo: Int, residual: UnsafePointer<Float>?, mValid: Int, nLast: Int, act: Activation,
                                  tiles: Int, outPanel: Int, lookahead: WeightLookahead) {
    switch act {
    case .none:
        gemm1x1Kernel6x16(f, NoActivation.self, rows: rows, kp: kp, b: b, panelStride: panelStride, panels: panels, bias: bias,
                          out: out, ldo: ldo, residual: residual, mValid: mValid, nLast: nLast, tiles: tiles, outPanel: outPanel,
                          lookahead: lookahead)
    case .relu:
        gemm1x1Kernel6x16(f, ReLU.self, rows: rows, kp: kp, b: b, panelStride: panelStride, panels: panels, bias: bias,
                          out: out, ldo: ldo, residual: residual, mValid: mValid, nLast: nLast, tiles: tiles, outPanel: outPanel,
                          lookahead: lookahead)
    case .relu6:
        gemm1x1Kernel6x16(f, ReLU6.self, rows: rows, kp: kp, b: b, panelStride: panelStride, panels: panels, bias: bias,
                          out: out, ldo: ldo, residual: residual, mValid: mValid, nLast: nLast, tiles: tiles, outPanel: outPanel,
                          lookahead: lookahead)
    }
}

@inline(__always)
private func gemm1x1Kernel6x16<F: MulAdd, A: ActivationKind>(_ f: F.Type, _ a: A.Type, rows: UnsafePointer<UnsafePointer<Float>>,
                                                             kp: Int, b: UnsafePointer<Float>, panelStride: Int, panels: Int,
                                                             bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, ldo: Int,
                                                             residual: UnsafePointer<Float>?, mValid: Int, nLast: Int, tiles: Int,
                                                             outPanel: Int, lookahead: WeightLookahead) {
    switch lookahead {
    case .none:
        gemm1x1Tiles(f, a, NoPrefetch.self, rows: rows, kp: kp, b: b, panelStride: panelStride, panels: panels, bias: bias,
                     out: out, ldo: ldo, residual: residual, mValid: mValid, nLast: nLast, tiles: tiles, outPanel: outPanel, distance: 0)
    case .l1(let d):
        gemm1x1Tiles(f, a, L1Ahead.self, rows: rows, kp: kp, b: b, panelStride: panelStride, panels: panels, bias: bias,
                     out: out, ldo: ldo, residual: residual, mValid: mValid, nLast: nLast, tiles: tiles, outPanel: outPanel, distance: d)
    case .l2(let d):
        gemm1x1Tiles(f, a, L2Ahead.self, rows: rows, kp: kp, b: b, panelStride: panelStride, panels: panels, bias: bias,
                     out: out, ldo: ldo, residual: residual, mValid: mValid, nLast: nLast, tiles: tiles, outPanel: outPanel, distance: d)
    }
}

/// rows: 6 row pointers per tile, tile after tile (the table `TileGeometry.fill` writes).
@inline(never)
private func gemm1x1Tiles<F: MulAdd, A: ActivationKind, P: WeightPrefetch>(_: F.Type, _: A.Type, _: P.Type,
                                                                           rows: UnsafePointer<UnsafePointer<Float>>, kp: Int,
                                                                           b: UnsafePointer<Float>, panelStride: Int, panels: Int,
                                                                           bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                                                                           ldo: Int, residual: UnsafePointer<Float>?, mValid mLast: Int,
                                                                           nLast: Int, tiles: Int, outPanel: Int, distance: Int) {
    for p in 0..<panels {
        let bp0 = b + p * panelStride
        let nValid = p == panels - 1 ? nLast : 16
        let bias0 = bias.vec(p * 16), bias1 = bias.vec(p * 16 + 8)
        for i in 0..<tiles {
            let r = rows + i * 6
            let mValid = i == tiles - 1 ? mLast : 6
            let o = out + p * outPanel + i * 6 * ldo
            let res = residual.map { $0 + p * 16 + i * 6 * ldo }
            if P.streams {
                // A large layer's output arena was last touched layers ago: its lines are requested
                // now and arrive while the reduction runs.
                for j in 0..<mValid { corral_prefetch_write(o + j * ldo) }
            }
            if nValid <= 8 {
                gemmPanel6x8(F.self, A.self, rows: r, taps: 1, kOffset: 0, kp: kp, b: bp0, bias: bias + p * 16,
                             out: o, ldo: ldo, residual: res, mValid: mValid, nValid: nValid)
                continue
            }
            var acc = Acc6x16(bias0: bias0, bias1: bias1)
            var bp = bp0
            reduce6x16(F.self, P.self, &acc, r, kOffset: 0, kp: kp, bp: &bp, distance: distance)
            if mValid == 6 && nValid == 16 {
                acc.store(A.self, o, ldo: ldo, residual: res)
            } else {
                acc.storePartial(o, ldo: ldo, residual: res, mValid: mValid, nValid: nValid, act: A.activation)
            }
        }
    }
}
