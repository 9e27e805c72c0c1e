/// C[m x n] = A[m x k] * B, with B stored [k x n], or [n x k] when `transposeB`; row-major, contiguous.
/// Row tiles of C are split across the pool's workers.
public func matmul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                   m: Int, n: Int, k: Int, transposeB: Bool, pool: ThreadPool) {
    if m == 0 || n == 0 { return }
    if k == 0 { c.update(repeating: 0, count: m * n); return }
    // B is packed into 16-column panels ([panel][k][16], zero-padded) so the 6x16 micro-kernel
    // streams it with two aligned vector loads per step. Packing costs k x n, the product m x n x k.
    let nr = GemmConvPlan.panelWidth, mr = GemmConvPlan.tileRows
    let panels = (n + nr - 1) / nr
    let packed = allocateAligned(panels * k * nr)
    defer { freeAligned(packed) }
    for p in 0..<panels {
        let dst = packed + p * k * nr
        for j in 0..<nr {
            let col = p * nr + j
            if col >= n {
                for kk in 0..<k { dst[kk * nr + j] = 0 }
            } else if transposeB {
                let src = b + col * k
                for kk in 0..<k { dst[kk * nr + j] = src[kk] }
            } else {
                for kk in 0..<k { dst[kk * nr + j] = b[kk * n + col] }
            }
        }
    }
    let zeroBias = [Float](repeating: 0, count: panels * nr)
    // Panels per block so that the block's share of B stays in L2 while every row tile passes over it.
    let panelsPerBlock = max(1, (192 * 1024) / (k * nr * 4))
    let tiles = (m + mr - 1) / mr
    zeroBias.withUnsafeBufferPointer { zb in
        let bias = zb.baseAddress!
        pool.parallelRanges(tiles) { _, range in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: mr) { t in
                let table = t.baseAddress!
                var pb = 0
                while pb < panels {
                    let pe = min(pb + panelsPerBlock, panels)
                    let nLast = pe == panels ? n - (panels - 1) * nr : nr
                    for tile in range {
                        let m0 = tile * mr, mValid = min(mr, m - m0)
                        for r in 0..<mr { table[r] = a + (m0 + min(r, mValid - 1)) * k }
                        if MulAddChoice.fused {
                            gemmKernel6x16(FusedMulAdd.self, rows: table, taps: 1, kOffset: 0, kp: k,
                                           b: packed + pb * k * nr, panelStride: k * nr, panels: pe - pb,
                                           bias: bias, out: c + m0 * n + pb * nr, ldo: n, residual: nil,
                                           mValid: mValid, nLast: nLast, act: .none)
                        } else {
                            gemmKernel6x16(SplitMulAdd.self, rows: table, taps: 1, kOffset: 0, kp: k,
                                           b: packed + pb * k * nr, panelStride: k * nr, panels: pe - pb,
                                           bias: bias, out: c + m0 * n + pb * nr, ldo: n, residual: nil,
                                           mValid: mValid, nLast: nLast, act: .none)
                        }
                    }
                    pb = pe
                }
            }
        }
    }
}

/// Fully connected layer: output[batch x out] = input[batch x in] * W^T + bias, W stored [out x in]
/// like PyTorch's nn.Linear.
public func fullyConnected(_ input: UnsafePointer<Float>, batch: Int, inFeatures: Int, outFeatures: Int,
                           weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                           output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
    matmul(input, weights, output, m: batch, n: outFeatures, k: inFeatures, transposeB: true, pool: pool)
    if let bias {
        for r in 0..<batch {
            let o = output + r * outFeatures
            for j in 0..<outFeatures { o[j] += bias[j] }
        }
    }
}
