import Dispatch
import Tensors

/// Side-by-side speed of the two ways Grouping can compute its blocks of dot products, so the
/// choice in `dotBlock` rests on a measurement on this machine (`corral bench group --phase kernels`).
public enum GroupingKernelBench {
    public struct Result: Sendable {
        public var m: Int, n: Int, d: Int, rowBlock: Int
        /// GFLOP/s (2 m n d per product), median over the repeats.
        public var own: Double, matmul: Double
    }

    /// C[m x n] = A B^T with A's rows split in blocks of `rowBlock` spread over the cores, the way
    /// Lloyd (128 rows x k centres), the exact search (128 x 512) and the clustered search
    /// (128 queries x a list) call it; the two kernels alternate, `repeats` times each.
    public static func compare(m: Int, n: Int, d: Int, rowBlock: Int, repeats: Int, seed: UInt64 = 1) -> Result {
        var rng = SplitMix64(seed: seed)
        let a = (0..<(m * d)).map { _ in rng.nextSigned() }, b = (0..<(n * d)).map { _ in rng.nextSigned() }
        var out = [Float](repeating: 0, count: m * n)
        var own: [Double] = [], mm: [Double] = []
        a.withUnsafeBufferPointer { ab in b.withUnsafeBufferPointer { bb in out.withUnsafeMutableBufferPointer { ob in
            let ap = ab.baseAddress!, bp = bb.baseAddress!, op = ob.baseAddress!
            let chunks = (m + rowBlock - 1) / rowBlock
            for _ in 0..<repeats {
                for useMatmul in [false, true] {
                    let t0 = DispatchTime.now()
                    parallelChunks(chunks) { c in
                        let i0 = c * rowBlock, rows = min(rowBlock, m - i0)
                        if useMatmul { dotBlockMatmul(ap + i0 * d, m: rows, bp, n: n, d: d, op + i0 * n) }
                        else { dotProducts(ap + i0 * d, m: rows, bp, n: n, d: d, op + i0 * n, ldo: n) }
                    }
                    let rate = 2 * Double(m) * Double(n) * Double(d) / secondsSince(t0) / 1e9
                    if useMatmul { mm.append(rate) } else { own.append(rate) }
                }
            }
        } } }
        func median(_ v: [Double]) -> Double { let s = v.sorted(); return s[s.count / 2] }
        return Result(m: m, n: n, d: d, rowBlock: rowBlock, own: median(own), matmul: median(mm))
    }
}
