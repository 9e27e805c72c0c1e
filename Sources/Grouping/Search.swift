/// Similarity search over L2-normalised embeddings with the blocked product: never an N x N matrix,
/// only a 64 x 1024 tile of dot products per worker at a time and k best per row.

/// The k rows of `flat` (n x dim) most similar by cosine to `query`, best first.
public func nearest(to query: [Float], in flat: [Float], dim: Int, k: Int) -> [(index: Int, similarity: Float)] {
    guard dim > 0, query.count == dim, k > 0 else { return [] }
    let n = flat.count / dim
    let q = normalizedRows(query, n: 1, d: dim)
    var sims = [Float](repeating: 0, count: n)
    q.withUnsafeBufferPointer { qp in flat.withUnsafeBufferPointer { fp in sims.withUnsafeMutableBufferPointer { sp in
        let block = 1024
        let out = sp.baseAddress!, f = fp.baseAddress!
        parallelChunks((n + block - 1) / block) { c in
            let j0 = c * block, rows = min(block, n - j0)
            dotProducts(f + j0 * dim, m: rows, qp.baseAddress!, n: 1, d: dim, out + j0, ldo: 1)
            for j in j0..<(j0 + rows) {
                let nn = dot(f + j * dim, f + j * dim, dim)
                out[j] = nn > 0 ? out[j] / nn.squareRoot() : 0
            }
        }
    } } }
    var top = TopK(k: k)
    for (i, s) in sims.enumerated() { top.insert(i, s) }
    return top.sorted
}

/// Same, for embeddings given as rows.
public func nearest(to query: [Float], in rows: [[Float]], k: Int) -> [(index: Int, similarity: Float)] {
    guard let d = rows.first?.count, rows.allSatisfy({ $0.count == d }) else { return [] }
    return nearest(to: query, in: rows.flatMap { $0 }, dim: d, k: k)
}

/// A bounded best-k list (k is small: insertion keeps it sorted, cheaper than a heap at k <= 32).
struct TopK {
    let k: Int
    var items: [(index: Int, similarity: Float)] = []
    init(k: Int) { self.k = k; items.reserveCapacity(k + 1) }
    @inline(__always) var worst: Float { items.count < k ? -.infinity : items[items.count - 1].similarity }
    @inline(__always) mutating func insert(_ i: Int, _ s: Float) {
        guard s > worst || (items.count < k) else { return }
        var pos = items.count
        while pos > 0 && (items[pos - 1].similarity < s || (items[pos - 1].similarity == s && items[pos - 1].index > i)) { pos -= 1 }
        items.insert((i, s), at: pos)
        if items.count > k { items.removeLast() }
    }
    var sorted: [(index: Int, similarity: Float)] { items }
}

/// For every row, its `k` most similar other rows with cosine >= `minSimilarity`; returned as
/// unique pairs (i < j). Rows must be L2-normalised. `search` picks the exact blocked product or
/// the clustered (inverted-file) search; neither ever holds an n x n matrix.
func similarPairs(_ x: [Float], n: Int, d: Int, k: Int, minSimilarity: Float, search: NeighbourSearch = .exact,
                  seed: UInt64 = 0, stats: UnsafeMutablePointer<SearchStats>? = nil) -> [(i: Int, j: Int, similarity: Float)] {
    guard n > 1, k > 0 else { return [] }
    if case .clustered(let lists, let probes) = search.resolved(rows: n) {
        return x.withUnsafeBufferPointer {
            clusteredPairs($0.baseAddress!, n: n, d: d, k: k, minSimilarity: minSimilarity, lists: lists, probes: probes, seed: seed, stats: stats)
        }
    }
    stats?.pointee = SearchStats(lists: 0, probes: 0, products: n * n, largestList: n)
    let tops = exactTopK(x, n: n, d: d, queries: nil, k: k, minSimilarity: minSimilarity)
    var seen = Set<Int>()
    var result: [(i: Int, j: Int, similarity: Float)] = []
    for (i, top) in tops.enumerated() {
        for t in top where seen.insert(min(i, t.index) * n + max(i, t.index)).inserted {
            result.append((min(i, t.index), max(i, t.index), t.similarity))
        }
    }
    return result
}

/// The public face of the candidate search, for benchmarks and callers with their own pipeline:
/// unique pairs (i < j) from every row's `k` best neighbours at cosine >= minSimilarity.
/// `normalized` rows must be L2-normalised.
public func neighbourPairs(normalized x: [Float], count n: Int, dim d: Int, k: Int, minSimilarity: Float,
                           search: NeighbourSearch = .automatic, seed: UInt64 = 0) -> (pairs: [(i: Int, j: Int, similarity: Float)], stats: SearchStats) {
    var stats = SearchStats()
    let pairs = similarPairs(x, n: n, d: d, k: k, minSimilarity: minSimilarity, search: search, seed: seed, stats: &stats)
    return (pairs, stats)
}

/// Exact best-k neighbours (cosine >= minSimilarity, self excluded) of the given rows against all
/// rows: the reference the clustered search is measured against.
public func exactNeighbours(normalized x: [Float], count n: Int, dim d: Int, of queries: [Int], k: Int,
                            minSimilarity: Float) -> [[(index: Int, similarity: Float)]] {
    exactTopK(x, n: n, d: d, queries: queries, k: k, minSimilarity: minSimilarity)
}

/// Blocked exact top-k: 128 query rows x 512 database rows per product, one tile per worker.
func exactTopK(_ x: [Float], n: Int, d: Int, queries: [Int]?, k: Int, minSimilarity: Float) -> [[(index: Int, similarity: Float)]] {
    let q = queries ?? Array(0..<n)
    let qBlock = 128, dbBlock = 512
    let chunks = (q.count + qBlock - 1) / qBlock
    var perChunk = [[[(index: Int, similarity: Float)]]](repeating: [], count: chunks)
    x.withUnsafeBufferPointer { xb in perChunk.withUnsafeMutableBufferPointer { pb in
        let xp = xb.baseAddress!, out = pb.baseAddress!
        parallelChunks(chunks) { c in
            let q0 = c * qBlock, rows = min(qBlock, q.count - q0)
            var tops = (0..<rows).map { _ in TopK(k: k) }
            let qRows = UnsafeMutablePointer<Float>.allocate(capacity: rows * d)
            let tile = UnsafeMutablePointer<Float>.allocate(capacity: rows * dbBlock)
            defer { qRows.deallocate(); tile.deallocate() }
            for r in 0..<rows { (qRows + r * d).update(from: xp + q[q0 + r] * d, count: d) }
            var j0 = 0
            while j0 < n {
                let cols = min(dbBlock, n - j0)
                dotBlock(qRows, m: rows, xp + j0 * d, n: cols, d: d, tile)
                for r in 0..<rows {
                    let i = q[q0 + r]
                    for cIdx in 0..<cols {
                        let s = tile[r * cols + cIdx], j = j0 + cIdx
                        if j != i && s >= minSimilarity && s > tops[r].worst { tops[r].insert(j, s) }
                    }
                }
                j0 += cols
            }
            out[c] = tops.map { $0.items }
        }
    } }
    return Array(perChunk.joined())
}
