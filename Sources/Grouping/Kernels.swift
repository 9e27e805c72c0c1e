import Dispatch
import Tensors

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

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// out[i * ldo + j] = dot(a[i], b[j]) for i < m, j < n; rows of length d, contiguous.
/// A 4 x 3 tile of 8-lane accumulators: 12 accumulators + 3 b vectors + 1 a vector = the 16 ymm
/// registers of AVX2 (this machine reports fma/avx2 and no AVX-512), 7 loads per 12 FMAs, so the
/// FMA units rather than the loads set the pace. b is walked in panels that stay in L2 while every
/// a row passes over them.
func dotProducts(_ a: UnsafePointer<Float>, m: Int, _ b: UnsafePointer<Float>, n: Int, d: Int,
                 _ out: UnsafeMutablePointer<Float>, ldo: Int) {
    let panel = max(3, min(n, (256 * 1024 / 4) / max(1, d)) / 3 * 3)
    var j0 = 0
    while j0 < n {
        let j1 = min(n, j0 + panel)
        var i = 0
        while i + 4 <= m {
            var j = j0
            while j + 3 <= j1 {
                tile4x3(a + i * d, b + j * d, d, out + i * ldo + j, ldo)
                j += 3
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
private func tile4x3(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int,
                     _ out: UnsafeMutablePointer<Float>, _ ldo: Int) {
    let a0 = a, a1 = a + d, a2 = a + 2 * d, a3 = a + 3 * d
    let b0 = b, b1 = b + d, b2 = b + 2 * d
    var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c02 = SIMD8<Float>()
    var c10 = SIMD8<Float>(), c11 = SIMD8<Float>(), c12 = SIMD8<Float>()
    var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c22 = SIMD8<Float>()
    var c30 = SIMD8<Float>(), c31 = SIMD8<Float>(), c32 = SIMD8<Float>()
    var t = 0
    while t + 8 <= d {
        let y0 = load8(b0 + t), y1 = load8(b1 + t), y2 = load8(b2 + t)
        var x = load8(a0 + t)
        c00.addProduct(x, y0); c01.addProduct(x, y1); c02.addProduct(x, y2)
        x = load8(a1 + t)
        c10.addProduct(x, y0); c11.addProduct(x, y1); c12.addProduct(x, y2)
        x = load8(a2 + t)
        c20.addProduct(x, y0); c21.addProduct(x, y1); c22.addProduct(x, y2)
        x = load8(a3 + t)
        c30.addProduct(x, y0); c31.addProduct(x, y1); c32.addProduct(x, y2)
        t += 8
    }
    out[0] = c00.sum(); out[1] = c01.sum(); out[2] = c02.sum()
    out[ldo] = c10.sum(); out[ldo + 1] = c11.sum(); out[ldo + 2] = c12.sum()
    out[2 * ldo] = c20.sum(); out[2 * ldo + 1] = c21.sum(); out[2 * ldo + 2] = c22.sum()
    out[3 * ldo] = c30.sum(); out[3 * ldo + 1] = c31.sum(); out[3 * ldo + 2] = c32.sum()
    if t < d {   // the last d % 8 columns, rare for embedding sizes
        for r in 0..<4 { for c in 0..<3 {
            var e: Float = 0
            for u in t..<d { e += a[r * d + u] * b[c * d + u] }
            out[r * ldo + c] += e
        } }
    }
}

/// Work for Tensors.matmul run on the calling thread: Grouping already spreads its blocks over
/// the cores, so each product stays inside one worker.
let serialPool = ThreadPool(threads: 1)

/// out[i * n + j] = dot(a[i], b[j]) for the m rows of `a` and n rows of `b` (both d long,
/// contiguous): the one entry point for Grouping's blocks of dot products (search, filing).
/// It uses Grouping's own 4 x 3 register tile, not Tensors.matmul: measured side by side on
/// Grouping's block shapes (`corral bench group --phase kernels`, docs/grouping.md), matmul was
/// 0.77-0.99x as fast on 128-row blocks against 50-900 rows (it packs B on every call), and only
/// level on 16-column blocks. Switch here (`dotBlockMatmul`) if a later GEMM wins that bench.
@inline(__always)
func dotBlock(_ a: UnsafePointer<Float>, m: Int, _ b: UnsafePointer<Float>, n: Int, d: Int, _ out: UnsafeMutablePointer<Float>) {
    dotProducts(a, m: m, b, n: n, d: d, out, ldo: n)
}

/// The same product through Tensors' GEMM (B packed into 16-wide panels, a 6 x 16 register tile).
@inline(__always)
func dotBlockMatmul(_ a: UnsafePointer<Float>, m: Int, _ b: UnsafePointer<Float>, n: Int, d: Int, _ out: UnsafeMutablePointer<Float>) {
    matmul(a, b, out, m: m, n: n, k: d, transposeB: true, pool: serialPool)
}
