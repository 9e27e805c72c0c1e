import Dispatch

/// The numeric inner loops of Grouping: row-by-row dot products as a small register-blocked kernel,
/// squared distances and a parallel-for. Kept private to the module so the algorithms above them
/// read as algorithms.

@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

/// Runs `body(chunk)` for chunk in 0..<count across the cores. Work is split by chunk index, never
/// by thread, so every reduction that is done per chunk and then summed in chunk order gives the
/// same bits whatever the number of cores: that is what makes a seed reproducible.
@inline(__always)
func parallelChunks(_ count: Int, _ body: (Int) -> Void) {
    if count == 1 { body(0); return }
    DispatchQueue.concurrentPerform(iterations: count, execute: body)
}

/// dot(a, b) over `d` floats, 16 lanes at a time.
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
    var t = 0
    while t + 32 <= d {
        acc0.addProduct(load16(a + t), load16(b + t))
        acc1.addProduct(load16(a + t + 16), load16(b + t + 16))
        t += 32
    }
    if t + 16 <= d { acc0.addProduct(load16(a + t), load16(b + t)); t += 16 }
    var s = (acc0 + acc1).sum()
    while t < d { s += a[t] * b[t]; t += 1 }
    return s
}

/// |a - b|^2 computed from differences (exact zero for equal rows, unlike the expanded form).
@inline(__always)
func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
    var t = 0
    while t + 32 <= d {
        let e0 = load16(a + t) - load16(b + t), e1 = load16(a + t + 16) - load16(b + t + 16)
        acc0.addProduct(e0, e0); acc1.addProduct(e1, e1)
        t += 32
    }
    if t + 16 <= d { let e = load16(a + t) - load16(b + t); acc0.addProduct(e, e); t += 16 }
    var s = (acc0 + acc1).sum()
    while t < d { let e = a[t] - b[t]; s += e * e; t += 1 }
    return s
}

/// out[i * ldo + j] = dot(a[i], b[j]) for i < m, j < n; rows of length d, contiguous.
/// A 4 x 4 tile keeps 16 SIMD16 accumulators in registers and loads 8 vectors per 16 FMAs, so the
/// FMA units rather than the loads set the pace. b is walked in panels of `panel` rows so a panel
/// stays in L2 while every a row passes over it.
func dotProducts(_ a: UnsafePointer<Float>, m: Int, _ b: UnsafePointer<Float>, n: Int, d: Int,
                 _ out: UnsafeMutablePointer<Float>, ldo: Int) {
    let panel = max(4, min(n, (256 * 1024 / 4) / max(1, d)) & ~3)
    var j0 = 0
    while j0 < n {
        let j1 = min(n, j0 + panel)
        var i = 0
        while i + 4 <= m {
            var j = j0
            while j + 4 <= j1 {
                tile4x4(a + i * d, b + j * d, d, out + i * ldo + j, ldo)
                j += 4
            }
            while j < j1 {
                for r in 0..<4 { out[(i + r) * ldo + j] = dot(a + (i + r) * d, b + j * d, d) }
                j += 1
            }
            i += 4
        }
        while i < m {
            for j in j0..<j1 { out[i * ldo + j] = dot(a + i * d, b + j * d, d) }
            i += 1
        }
        j0 = j1
    }
}

@inline(__always)
private func tile4x4(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int,
                     _ out: UnsafeMutablePointer<Float>, _ ldo: Int) {
    let a0 = a, a1 = a + d, a2 = a + 2 * d, a3 = a + 3 * d
    let b0 = b, b1 = b + d, b2 = b + 2 * d, b3 = b + 3 * d
    var c00 = SIMD16<Float>(), c01 = SIMD16<Float>(), c02 = SIMD16<Float>(), c03 = SIMD16<Float>()
    var c10 = SIMD16<Float>(), c11 = SIMD16<Float>(), c12 = SIMD16<Float>(), c13 = SIMD16<Float>()
    var c20 = SIMD16<Float>(), c21 = SIMD16<Float>(), c22 = SIMD16<Float>(), c23 = SIMD16<Float>()
    var c30 = SIMD16<Float>(), c31 = SIMD16<Float>(), c32 = SIMD16<Float>(), c33 = SIMD16<Float>()
    var t = 0
    while t + 16 <= d {
        let x0 = load16(a0 + t), x1 = load16(a1 + t), x2 = load16(a2 + t), x3 = load16(a3 + t)
        let y0 = load16(b0 + t), y1 = load16(b1 + t), y2 = load16(b2 + t), y3 = load16(b3 + t)
        c00.addProduct(x0, y0); c01.addProduct(x0, y1); c02.addProduct(x0, y2); c03.addProduct(x0, y3)
        c10.addProduct(x1, y0); c11.addProduct(x1, y1); c12.addProduct(x1, y2); c13.addProduct(x1, y3)
        c20.addProduct(x2, y0); c21.addProduct(x2, y1); c22.addProduct(x2, y2); c23.addProduct(x2, y3)
        c30.addProduct(x3, y0); c31.addProduct(x3, y1); c32.addProduct(x3, y2); c33.addProduct(x3, y3)
        t += 16
    }
    out[0] = c00.sum(); out[1] = c01.sum(); out[2] = c02.sum(); out[3] = c03.sum()
    out[ldo] = c10.sum(); out[ldo + 1] = c11.sum(); out[ldo + 2] = c12.sum(); out[ldo + 3] = c13.sum()
    out[2 * ldo] = c20.sum(); out[2 * ldo + 1] = c21.sum(); out[2 * ldo + 2] = c22.sum(); out[2 * ldo + 3] = c23.sum()
    out[3 * ldo] = c30.sum(); out[3 * ldo + 1] = c31.sum(); out[3 * ldo + 2] = c32.sum(); out[3 * ldo + 3] = c33.sum()
    if t < d {   // the last d % 16 columns, rare for embedding sizes
        for r in 0..<4 { for c in 0..<4 {
            var e: Float = 0
            for u in t..<d { e += a[r * d + u] * b[c * d + u] }
            out[r * ldo + c] += e
        } }
    }
}
