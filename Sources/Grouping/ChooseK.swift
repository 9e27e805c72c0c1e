import Tensors

/// `--k auto`: pick k by the mean silhouette on a sample, the usual criterion that needs no labels
/// and rewards clusters that are both tight and apart.
public struct KChoice: Sendable {
    public var k: Int
    /// One sentence a person can read: which k, its score, the range and the sample tried.
    public var reason: String
    /// Mean silhouette for every k tried (k, score), in order.
    public var scores: [(k: Int, silhouette: Double)]
}

extension KMeans {
    /// Tries k in 2...min(maxK, floor(sqrt(n)), n - 1) on a seeded sample of at most `sampleSize` rows
    /// (distances on the sample are computed once), and returns the k with the highest mean
    /// silhouette. Fewer than 4 rows gives k = 1 (no split can be judged).
    public static func chooseK(_ x: [Float], count n: Int, dim d: Int, spherical: Bool, seed: UInt64 = 0,
                               maxK: Int = 40, sampleSize: Int = 2000) throws -> KChoice {
        guard n >= 1, d >= 1, x.count == n * d else {
            throw GroupingError(.shapeMismatch, "expected \(n) x \(d) values, got \(x.count)")
        }
        if let bad = x.firstIndex(where: { !$0.isFinite }) {
            throw GroupingError(.nonFinite, "row \(bad / d), column \(bad % d) is not finite; k-means needs finite values")
        }
        let hi = min(maxK, Int(Double(n).squareRoot()), n - 1)
        if n < 4 || hi < 2 {
            return KChoice(k: 1, reason: "k=1: too few images (\(n)) to compare splits", scores: [])
        }
        // Seeded sample without replacement (partial Fisher-Yates).
        var rng = SplitMix64(seed: seed ^ 0x5DEE_CE66_D1CE_5EED)
        var idx = Array(0..<n)
        let m = min(n, sampleSize)
        for i in 0..<m { let j = i + Int(rng.next() % UInt64(n - i)); idx.swapAt(i, j) }
        let chosen = idx.prefix(m).sorted()
        var sample = [Float](); sample.reserveCapacity(m * d)
        for i in chosen { sample.append(contentsOf: x[(i * d)..<((i + 1) * d)]) }
        if spherical { sample = normalizedRows(sample, n: m, d: d) }
        // Pairwise Euclidean distances on the sample, from the blocked product.
        let norms = sample.withUnsafeBufferPointer { rowSquaredNorms($0.baseAddress!, n: m, d: d) }
        var dist = [Float](repeating: 0, count: m * m)
        sample.withUnsafeBufferPointer { sb in
            dist.withUnsafeMutableBufferPointer { db in
                let s = sb.baseAddress!, dp = db.baseAddress!
                let block = 64
                parallelChunks((m + block - 1) / block) { c in
                    let i0 = c * block, rows = min(block, m - i0)
                    dotProducts(s + i0 * d, m: rows, s, n: m, d: d, dp + i0 * m, ldo: m)
                    for i in i0..<(i0 + rows) {
                        for j in 0..<m { dp[i * m + j] = max(0, norms[i] + norms[j] - 2 * dp[i * m + j]).squareRoot() }
                        dp[i * m + i] = 0
                    }
                }
            }
        }
        var scores: [(k: Int, silhouette: Double)] = []
        for k in 2...hi {
            let km = KMeans(k: k, seed: seed, nInit: 1, maxIterations: 100, spherical: false)
            let r = try km.fit(sample, count: m, dim: d)
            if r.centroids.count < k { break }   // no more distinct points
            scores.append((k, silhouette(dist, labels: r.labels, m: m, k: k)))
        }
        guard let best = scores.max(by: { $0.silhouette < $1.silhouette || ($0.silhouette == $1.silhouette && $0.k > $1.k) }) else {
            return KChoice(k: 1, reason: "k=1: all images are the same point", scores: [])
        }
        let second = scores.filter { $0.k != best.k }.max(by: { $0.silhouette < $1.silhouette })
        var reason = "k=\(best.k): highest mean silhouette \(fmt(best.silhouette)) over k=2...\(hi) on \(m == n ? "all \(n)" : "a sample of \(m) of \(n)") images"
        if let second { reason += " (next best k=\(second.k): \(fmt(second.silhouette)))" }
        return KChoice(k: best.k, reason: reason, scores: scores)
    }
}

/// Mean of (b - a) / max(a, b) over points, with a the mean distance to the own cluster and b the
/// smallest mean distance to another cluster; singletons score 0 (Rousseeuw's convention).
func silhouette(_ dist: [Float], labels: [Int], m: Int, k: Int) -> Double {
    var counts = [Int](repeating: 0, count: k)
    for l in labels { counts[l] += 1 }
    var total = 0.0
    var sums = [Double](repeating: 0, count: k)
    for i in 0..<m {
        for j in 0..<k { sums[j] = 0 }
        for j in 0..<m { sums[labels[j]] += Double(dist[i * m + j]) }
        let own = labels[i]
        if counts[own] <= 1 { continue }
        let a = sums[own] / Double(counts[own] - 1)
        var b = Double.infinity
        for j in 0..<k where j != own && counts[j] > 0 { b = min(b, sums[j] / Double(counts[j])) }
        let denom = max(a, b)
        if denom > 0 && b.isFinite { total += (b - a) / denom }
    }
    return total / Double(m)
}

func fmt(_ v: Double, _ digits: Int = 2) -> String {
    var p = 1.0
    for _ in 0..<digits { p *= 10 }
    let r = (v * p).rounded() / p
    var s = "\(r)"
    if let dot = s.firstIndex(of: ".") {
        let decimals = s.distance(from: dot, to: s.endIndex) - 1
        if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
    }
    return s
}
