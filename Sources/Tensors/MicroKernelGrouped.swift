import CPrefetch

/// Variants of the 6x16 micro-kernel for grouped convolutions with 4 or 8 channels per group; packed
/// weights hold only the nonzero (in-group) products.

/// Grouped convolution with 4 input and 4 output channels per group, without shuffles in the loop.
/// The first version (session 1) built each input vector from two 4-lane broadcasts,
/// one vshufps and one lane-crossing vpermpd per FMA, and ran at 7-14 GFLOP/s, shuffle-bound. Here an
/// accumulator holds one group's 4 outputs twice, as partial sums over the even and the odd in-group
/// input: lane 2j + e accumulates input k = 2q + e times w(j, k). The input a pixel contributes is
/// then the pair (x[2q], x[2q+1]) repeated four times: one 64-bit broadcast straight from memory
/// (a load, no shuffle unit). The pairs are summed, and the lanes put in channel order, once in the
/// epilogue. Tile: 6 pixels x 2 groups (8 output channels); 12 accumulators, 2 weight vectors.
///
/// rows[t * 6 + r] + kOffset: the two groups' 8 input channels. b: [tap][q < 2][group < 2][j < 4][e < 2].
/// bias: the 8 outputs' biases in channel order.
@inline(never)
func microKernel6x8Groups4Pairs<F: MulAdd, A: ActivationKind>(_: F.Type, _: A.Type, rows: UnsafePointer<UnsafePointer<Float>>, taps: Int, kOffset: Int,
                                           b: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                           out: UnsafeMutablePointer<Float>, ldo: Int, residual: UnsafePointer<Float>?,
                                           mValid: Int) {
    var c00 = Vec(), c01 = Vec()
    var c10 = Vec(), c11 = Vec()
    var c20 = Vec(), c21 = Vec()
    var c30 = Vec(), c31 = Vec()
    var c40 = Vec(), c41 = Vec()
    var c50 = Vec(), c51 = Vec()
    var bp = b
    for t in 0..<taps {
        let r = rows + t * 6
        let a0 = r[0] + kOffset
        let a1 = r[1] + kOffset
        let a2 = r[2] + kOffset
        let a3 = r[3] + kOffset
        let a4 = r[4] + kOffset
        let a5 = r[5] + kOffset
        for q in 0..<2 {
            let b0 = bp.vec(0), b1 = bp.vec(8)
            let k0 = 2 * q, k1 = 4 + 2 * q
            F.madd(&c00, corral_broadcast_pair(a0 + k0), b0); F.madd(&c01, corral_broadcast_pair(a0 + k1), b1)
            F.madd(&c10, corral_broadcast_pair(a1 + k0), b0); F.madd(&c11, corral_broadcast_pair(a1 + k1), b1)
            F.madd(&c20, corral_broadcast_pair(a2 + k0), b0); F.madd(&c21, corral_broadcast_pair(a2 + k1), b1)
            F.madd(&c30, corral_broadcast_pair(a3 + k0), b0); F.madd(&c31, corral_broadcast_pair(a3 + k1), b1)
            F.madd(&c40, corral_broadcast_pair(a4 + k0), b0); F.madd(&c41, corral_broadcast_pair(a4 + k1), b1)
            F.madd(&c50, corral_broadcast_pair(a5 + k0), b0); F.madd(&c51, corral_broadcast_pair(a5 + k1), b1)
            bp += 16
        }
    }
    storePairSums(A.self, (c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51), bias: bias, out: out, ldo: ldo,
                  residual: residual, mValid: mValid)
}

/// Grouped convolution with 8 input and 8 output channels per group, in the same pair form as
/// `microKernel6x8Groups4Pairs`: one group (8 outputs) per call, each accumulator holds 4 outputs x
/// (even, odd) input partial sums, and both accumulators of a pixel share one 64-bit broadcast of
/// the input pair, so a step costs 6 broadcasts + 2 weight loads per 12 FMAs (the first version,
/// session 1's, needed 12 broadcasts).
///
/// rows[t * 6 + r] + kOffset: the group's 8 input channels. b: [tap][q < 4][j < 8][e < 2].
@inline(never)
func microKernel6x8Groups8Pairs<F: MulAdd, A: ActivationKind>(_: F.Type, _: A.Type, rows: UnsafePointer<UnsafePointer<Float>>, taps: Int, kOffset: Int,
                                           b: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                           out: UnsafeMutablePointer<Float>, ldo: Int, residual: UnsafePointer<Float>?,
                                           mValid: Int) {
    var c00 = Vec(), c01 = Vec()
    var c10 = Vec(), c11 = Vec()
    var c20 = Vec(), c21 = Vec()
    var c30 = Vec(), c31 = Vec()
    var c40 = Vec(), c41 = Vec()
    var c50 = Vec(), c51 = Vec()
    var bp = b
    for t in 0..<taps {
        let r = rows + t * 6
        let a0 = r[0] + kOffset
        let a1 = r[1] + kOffset
        let a2 = r[2] + kOffset
        let a3 = r[3] + kOffset
        let a4 = r[4] + kOffset
        let a5 = r[5] + kOffset
        for q in 0..<4 {
            let b0 = bp.vec(0), b1 = bp.vec(8)
            let k = 2 * q
            let x0 = corral_broadcast_pair(a0 + k)
            F.madd(&c00, x0, b0); F.madd(&c01, x0, b1)
            let x1 = corral_broadcast_pair(a1 + k)
            F.madd(&c10, x1, b0); F.madd(&c11, x1, b1)
            let x2 = corral_broadcast_pair(a2 + k)
            F.madd(&c20, x2, b0); F.madd(&c21, x2, b1)
            let x3 = corral_broadcast_pair(a3 + k)
            F.madd(&c30, x3, b0); F.madd(&c31, x3, b1)
            let x4 = corral_broadcast_pair(a4 + k)
            F.madd(&c40, x4, b0); F.madd(&c41, x4, b1)
            let x5 = corral_broadcast_pair(a5 + k)
            F.madd(&c50, x5, b0); F.madd(&c51, x5, b1)
            bp += 16
        }
    }
    storePairSums(A.self, (c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51), bias: bias, out: out, ldo: ldo,
                  residual: residual, mValid: mValid)
}

/// The pair kernels' epilogue: each pixel's two accumulators hold (even, odd) partial sums of 8
/// outputs; add the pairs, put the lanes in channel order, + bias, + residual, activation, store the
/// valid pixels (straight-line for a full tile).
@inline(__always)
func storePairSums<A: ActivationKind>(_: A.Type, _ c: (Vec, Vec, Vec, Vec, Vec, Vec, Vec, Vec, Vec, Vec, Vec, Vec),
                                      bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, ldo: Int,
                                      residual: UnsafePointer<Float>?, mValid: Int) {
    let bv = bias.vec(0)
    @inline(__always) func sums(_ lo: Vec, _ hi: Vec) -> Vec {
        let even = Vec(lo[0], lo[2], lo[4], lo[6], hi[0], hi[2], hi[4], hi[6])
        let odd = Vec(lo[1], lo[3], lo[5], lo[7], hi[1], hi[3], hi[5], hi[7])
        return even + odd + bv
    }
    storeRows8(A.self, (sums(c.0, c.1), sums(c.2, c.3), sums(c.4, c.5), sums(c.6, c.7), sums(c.8, c.9), sums(c.10, c.11)),
               out: out, ldo: ldo, residual: residual, mValid: mValid, nValid: 8)
}

/// Six pixels' 8 outputs (the first `nValid` valid) into rows `ldo` apart: + residual, activation,
/// store; straight-line for a full tile, only the valid pixels and lanes otherwise.
@inline(__always)
func storeRows8<A: ActivationKind>(_: A.Type, _ r: (Vec, Vec, Vec, Vec, Vec, Vec), out: UnsafeMutablePointer<Float>, ldo: Int,
                                   residual: UnsafePointer<Float>?, mValid: Int, nValid: Int) {
    if mValid == 6 && nValid == 8 {
        storeRow8(A.self, out, residual, r.0)
        storeRow8(A.self, out + ldo, residual.map { $0 + ldo }, r.1)
        storeRow8(A.self, out + 2 * ldo, residual.map { $0 + 2 * ldo }, r.2)
        storeRow8(A.self, out + 3 * ldo, residual.map { $0 + 3 * ldo }, r.3)
        storeRow8(A.self, out + 4 * ldo, residual.map { $0 + 4 * ldo }, r.4)
        storeRow8(A.self, out + 5 * ldo, residual.map { $0 + 5 * ldo }, r.5)
        return
    }
    let z = Vec(), act = A.activation
    storeRow16(out, residual, r.0, z, nValid, act)
    if mValid > 1 { storeRow16(out + 1 * ldo, residual.map { $0 + 1 * ldo }, r.1, z, nValid, act) }
    if mValid > 2 { storeRow16(out + 2 * ldo, residual.map { $0 + 2 * ldo }, r.2, z, nValid, act) }
    if mValid > 3 { storeRow16(out + 3 * ldo, residual.map { $0 + 3 * ldo }, r.3, z, nValid, act) }
    if mValid > 4 { storeRow16(out + 4 * ldo, residual.map { $0 + 4 * ldo }, r.4, z, nValid, act) }
    if mValid > 5 { storeRow16(out + 5 * ldo, residual.map { $0 + 5 * ldo }, r.5, z, nValid, act) }
}

/// Eight outputs of one pixel: + residual, activation, one store.
@inline(__always)
func storeRow8<A: ActivationKind>(_: A.Type, _ out: UnsafeMutablePointer<Float>, _ residual: UnsafePointer<Float>?, _ v: Vec) {
    var v = v
    if let residual { v += residual.vec(0) }
    out.store(A.apply(v), 0)
}
