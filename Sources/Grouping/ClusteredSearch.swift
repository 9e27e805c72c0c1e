import Tensors

/// Near-duplicate candidates at scale without comparing every pair: an inverted file over coarse
/// centroids (faiss's IVF-flat, written here for cosine on L2-normalised rows). Every row is filed
/// under its nearest centroid; every row, as a query, is compared exactly with the rows filed under
/// its `probes` nearest centroids. Copies of one photo sit close together, so they share a list
/// or a neighbouring one; the cost falls from n^2 d to about n (lists + n probes / lists) d, and
/// memory stays at n x k results, n x probes list ids and one gathered block per worker.

/// How the embedding neighbours of `findDuplicates` are searched.
public enum NeighbourSearch: Sendable, Equatable {
    /// Every pair through the blocked product: exact, O(n^2 d).
    case exact
    /// Inverted file: `lists` coarse centroids (0 = about sqrt(n * probes)), each row compared with
    /// the rows of its `probes` nearest lists.
    case clustered(lists: Int, probes: Int)
    /// Exact up to `exactLimit` rows (a few seconds), clustered with 8 probes beyond.
    case automatic

    public static let exactLimit = 10_000
    public static let defaultProbes = 8

    /// The concrete method for `n` rows.
    public func resolved(rows n: Int) -> NeighbourSearch {
        switch self {
        case .automatic:
            return n <= NeighbourSearch.exactLimit ? .exact
                : .clustered(lists: NeighbourSearch.defaultLists(rows: n, probes: NeighbourSearch.defaultProbes), probes: NeighbourSearch.defaultProbes)
        case .clustered(let l, let p): return .clustered(lists: l > 0 ? l : NeighbourSearch.defaultLists(rows: n, probes: p), probes: p)
        case .exact: return .exact
        }
    }

    /// sqrt(n * probes) balances filing (n x lists products) against searching (n x n x probes / lists).
    public static func defaultLists(rows n: Int, probes: Int) -> Int {
        max(1, min(n, Int(Double(n * max(1, probes)).squareRoot().rounded())))
    }
}

/// What a clustered search did, for benchmarks and the CLI's diagnostics.
public struct SearchStats: Sendable {
    public var lists = 0, probes = 0
    /// Dot products computed (the exact search computes n x n).
    public var products = 0
    public var largestList = 0
}

/// For every row its `k` most similar rows (cosine >= minSimilarity) among the rows filed in its
/// `probes` nearest lists; unique pairs (i < j). Deterministic for a seed (the training sample).
func clusteredPairs(_ x: UnsafePointer<Float>, n: Int, d: Int, k: Int, minSimilarity: Float,
                    lists requested: Int, probes requestedProbes: Int, seed: UInt64 = 0,
                    stats: UnsafeMutablePointer<SearchStats>? = nil) -> [(i: Int, j: Int, similarity: Float)] {
    guard n > 1, k > 0, d > 0 else { return [] }
    let nlist = max(1, min(n, requested))
    let probes = max(1, min(nlist, requestedProbes))
    let centres = trainCoarseCentroids(x, n: n, d: d, lists: nlist, seed: seed)
    // The `probes` nearest centroids of every row; the first is the row's own list.
    var probe = [Int32](repeating: 0, count: n * probes)
    centres.withUnsafeBufferPointer { cb in probe.withUnsafeMutableBufferPointer { pb in
        let c = cb.baseAddress!, p = pb.baseAddress!
        forEachCentreBlock(x, n: n, centres: c, lists: nlist, d: d) { i0, rows, sims in
            var top = TopK(k: probes)
            for r in 0..<rows {
                top.items.removeAll(keepingCapacity: true)
                for j in 0..<nlist { let s = sims[r * nlist + j]; if s > top.worst || top.items.count < probes { top.insert(j, s) } }
                for (t, item) in top.items.enumerated() { p[(i0 + r) * probes + t] = Int32(item.index) }
            }
        }
    } }
    // Members of each list and the queries probing each list, by counting sort (ascending row ids).
    let members = bucket(n: n, lists: nlist) { i, emit in emit(Int(probe[i * probes])) }
    let queries = bucket(n: n, lists: nlist) { i, emit in for t in 0..<probes { emit(Int(probe[i * probes + t])) } }
    // Best k per row, flat: slot r * k + t.
    var bestIndex = [Int32](repeating: -1, count: n * k)
    var bestSim = [Float](repeating: -.infinity, count: n * k)
    var products = 0, largest = 0
    let qBlock = 128
    bestIndex.withUnsafeMutableBufferPointer { bib in bestSim.withUnsafeMutableBufferPointer { bsb in
        let bi = bib.baseAddress!, bs = bsb.baseAddress!
        for l in 0..<nlist {
            let mem = Array(members.slice(l)), qs = Array(queries.slice(l))
            if mem.isEmpty || qs.isEmpty { continue }
            products += mem.count * qs.count
            largest = max(largest, mem.count)
            let m = mem.count
            let memRows = UnsafeMutablePointer<Float>.allocate(capacity: m * d)
            defer { memRows.deallocate() }
            for (r, i) in mem.enumerated() { (memRows + r * d).update(from: x + Int(i) * d, count: d) }
            // Query blocks in parallel: each row appears once in a list's queries, so no two
            // workers ever update the same row's best-k.
            parallelChunks((qs.count + qBlock - 1) / qBlock) { chunk in
                let q0 = chunk * qBlock, rows = min(qBlock, qs.count - q0)
                let qRows = UnsafeMutablePointer<Float>.allocate(capacity: rows * d)
                let sims = UnsafeMutablePointer<Float>.allocate(capacity: rows * m)
                defer { qRows.deallocate(); sims.deallocate() }
                for r in 0..<rows { (qRows + r * d).update(from: x + Int(qs[q0 + r]) * d, count: d) }
                dotBlock(qRows, m: rows, memRows, n: m, d: d, sims)
                for r in 0..<rows {
                    let i = Int(qs[q0 + r])
                    let idx = bi + i * k, sim = bs + i * k
                    for c in 0..<m {
                        let s = sims[r * m + c], j = Int(mem[c])
                        guard s >= minSimilarity, j != i else { continue }
                        insertBest(idx, sim, k, Int32(j), s)
                    }
                }
            }
        }
    } }
    stats?.pointee = SearchStats(lists: nlist, probes: probes, products: products, largestList: largest)
    var seen = Set<Int>()
    var result: [(i: Int, j: Int, similarity: Float)] = []
    for i in 0..<n { for t in 0..<k {
        let j = Int(bestIndex[i * k + t])
        if j < 0 { break }
        let a = min(i, j), b = max(i, j)
        if seen.insert(a * n + b).inserted { result.append((a, b, bestSim[i * k + t])) }
    } }
    return result
}

/// Sorted best-k insert into a row's slots (similarity descending, then index ascending, so the
/// result does not depend on the order the lists are visited in).
@inline(__always)
private func insertBest(_ idx: UnsafeMutablePointer<Int32>, _ sim: UnsafeMutablePointer<Float>, _ k: Int, _ j: Int32, _ s: Float) {
    let last = k - 1
    if idx[last] >= 0 && (sim[last] > s || (sim[last] == s && idx[last] < j)) { return }
    var pos = last
    while pos > 0 && (idx[pos - 1] < 0 || sim[pos - 1] < s || (sim[pos - 1] == s && idx[pos - 1] > j)) {
        idx[pos] = idx[pos - 1]; sim[pos] = sim[pos - 1]
        pos -= 1
    }
    idx[pos] = j; sim[pos] = s
}

/// Rows grouped by list id: `ids[start[l]..<start[l + 1]]` are the rows in list l, ascending.
struct Buckets {
    var start: [Int]
    var ids: [Int32]
    func slice(_ l: Int) -> ArraySlice<Int32> { ids[start[l]..<start[l + 1]] }
}

private func bucket(n: Int, lists: Int, _ each: (Int, (Int) -> Void) -> Void) -> Buckets {
    var count = [Int](repeating: 0, count: lists + 1)
    for i in 0..<n { each(i) { count[$0 + 1] += 1 } }
    for l in 0..<lists { count[l + 1] += count[l] }
    var fill = count
    var ids = [Int32](repeating: 0, count: count[lists])
    for i in 0..<n { each(i) { l in ids[fill[l]] = Int32(i); fill[l] += 1 } }
    return Buckets(start: count, ids: ids)
}

/// The similarities of rows [0, n) of x to `lists` centres, 256 rows per block, blocks in parallel:
/// `body(firstRow, rows, sims)` sees one block's rows x lists similarities (row-major).
func forEachCentreBlock(_ x: UnsafePointer<Float>, n: Int, centres: UnsafePointer<Float>, lists: Int, d: Int,
                        _ body: (_ firstRow: Int, _ rows: Int, _ sims: UnsafePointer<Float>) -> Void) {
    let block = 256
    parallelChunks((n + block - 1) / block) { chunk in
        let i0 = chunk * block, rows = min(block, n - i0)
        let sims = UnsafeMutablePointer<Float>.allocate(capacity: rows * lists)
        defer { sims.deallocate() }
        dotBlock(x + i0 * d, m: rows, centres, n: lists, d: d, sims)
        body(i0, rows, sims)
    }
}

/// Coarse centroids by spherical k-means on a seeded sample (16 rows per list, at most n), started
/// from sample rows and run for 6 steps: lists only need to be roughly right, the search inside
/// them is exact. Empty lists keep their centre.
func trainCoarseCentroids(_ x: UnsafePointer<Float>, n: Int, d: Int, lists: Int, seed: UInt64) -> [Float] {
    var rng = SplitMix64(seed: seed ^ 0x1F5_C0A7_5E)
    let s = min(n, max(lists, 16 * lists))
    // A seeded partial Fisher-Yates shuffle picks the sample without repeats.
    var order = Array(0..<n)
    for t in 0..<s { let r = t + Int(rng.next() % UInt64(n - t)); order.swapAt(t, r) }
    let sample = Array(order[0..<s])
    var centres = [Float](repeating: 0, count: lists * d)
    for l in 0..<lists { for t in 0..<d { centres[l * d + t] = x[sample[l] * d + t] } }
    var sampleRows = [Float](repeating: 0, count: s * d)
    for (r, i) in sample.enumerated() { for t in 0..<d { sampleRows[r * d + t] = x[i * d + t] } }
    var label = [Int](repeating: 0, count: s)
    for _ in 0..<6 {
        sampleRows.withUnsafeBufferPointer { sb in centres.withUnsafeBufferPointer { cb in label.withUnsafeMutableBufferPointer { lb in
            let sp = sb.baseAddress!, cp = cb.baseAddress!, lp = lb.baseAddress!
            forEachCentreBlock(sp, n: s, centres: cp, lists: lists, d: d) { i0, rows, sims in
                for r in 0..<rows {
                    var bj = 0, bv = -Float.infinity
                    for j in 0..<lists where sims[r * lists + j] > bv { bv = sims[r * lists + j]; bj = j }
                    lp[i0 + r] = bj
                }
            }
        } } }
        var sums = [Float](repeating: 0, count: lists * d), counts = [Int](repeating: 0, count: lists)
        for r in 0..<s { counts[label[r]] += 1; for t in 0..<d { sums[label[r] * d + t] += sampleRows[r * d + t] } }
        for l in 0..<lists where counts[l] > 0 { for t in 0..<d { centres[l * d + t] = sums[l * d + t] } }
        centres = normalizedRows(centres, n: lists, d: d)
    }
    return centres
}
