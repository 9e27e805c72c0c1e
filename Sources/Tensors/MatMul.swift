/// C[m x n] = A[m x k] * B, with B stored [k x n], or [n x k] when `transposeB`; row-major, contiguous.
/// Rows of C are split across the pool's workers.
public func matmul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                   m: Int, n: Int, k: Int, transposeB: Bool, pool: ThreadPool) {
    if m == 0 || n == 0 { return }
    if k == 0 { c.update(repeating: 0, count: m * n); return }
    pool.parallelFor(m) { i in
        let ar = a + i * k, cr = c + i * n
        if transposeB {
            for j in 0..<n {
                let br = b + j * k
                var s: Float = 0
                for p in 0..<k { s += ar[p] * br[p] }
                cr[j] = s
            }
        } else {
            cr.update(repeating: 0, count: n)
            for p in 0..<k {
                let x = ar[p], br = b + p * n
                for j in 0..<n { cr[j] += x * br[j] }
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
