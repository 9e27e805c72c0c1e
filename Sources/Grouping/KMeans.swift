import Tensors

/// k-means as scikit-learn does it (k-means++ with 2 + log(k) local trials, Lloyd iterations, a
/// tolerance scaled by the data's variance), with distances from one blocked product
/// |x|^2 - 2 x.c + |c|^2 spread over the cores, and a spherical mode for L2-normalised embeddings.

public struct KMeansResult: Sendable {
    /// Cluster id of every row, in 0..<centroids.count.
    public var labels: [Int]
    public var centroids: [[Float]]
    /// Sum of squared Euclidean distances from each row to its centre (on the normalised rows in
    /// spherical mode).
    public var inertia: Double
    /// Lloyd iterations of the kept run.
    public var iterations: Int
    public var converged: Bool
    /// Split/merge repairs applied after Lloyd (see `KMeans.repairs`).
    public var repairs: Int = 0
    /// Set when fewer than k clusters could be formed (fewer distinct rows than k).
    public var note: String?
}

public struct KMeans: Sendable {
    public var k: Int
    public var seed: UInt64
    /// Independent k-means++ starts; the run with the lowest inertia is kept.
    public var nInit: Int
    public var maxIterations: Int
    /// Cosine k-means: rows are L2-normalised and centres renormalised after every update, so
    /// clusters follow direction (what an embedding encodes) rather than length.
    public var spherical: Bool
    /// Relative tolerance: stop when the centres move less than tolerance x (mean per-feature
    /// variance of the data) in total squared distance, scikit-learn's rule, so the threshold does
    /// not depend on the data's scale.
    public var tolerance: Double
    /// Split/merge repairs after Lloyd (0 = plain k-means++ and Lloyd, scikit-learn's result).
    /// k-means++ sometimes puts two centres in one blob and none in another; Lloyd cannot undo that,
    /// it costs whole percent of inertia, and on well-separated data it happens on a good share of
    /// seeds (both here and in scikit-learn). A repair merges the two clusters whose merge costs
    /// least and splits the one whose 2-means split gains most, when the gain beats the cost by
    /// `repairMinGain` of the inertia, then reruns Lloyd; at most this many times per run.
    public var repairs: Int
    /// Minimum predicted improvement of a repair, relative to the inertia: smaller swaps are noise.
    public var repairMinGain: Double

    public init(k: Int, seed: UInt64 = 0, nInit: Int = 1, maxIterations: Int = 300,
                spherical: Bool = false, tolerance: Double = 1e-4, repairs: Int = 8, repairMinGain: Double = 1e-3) {
        self.k = k; self.seed = seed; self.nInit = nInit; self.maxIterations = maxIterations
        self.spherical = spherical; self.tolerance = tolerance
        self.repairs = repairs; self.repairMinGain = repairMinGain
    }

    /// Clusters `n` rows of `d` floats (row-major). `warmStart` gives earlier centres: cluster i starts
    /// at warmStart[i], so ids stay put when the data changes a little; missing centres are added by
    /// k-means++ and a warm start runs once (nInit is ignored).
    public func fit(_ x: [Float], count n: Int, dim d: Int, warmStart: [[Float]]? = nil) throws -> KMeansResult {
        guard k >= 1 else { throw GroupingError(.invalidArgument, "k must be at least 1 (got \(k))") }
        guard n >= 1 else { throw GroupingError(.invalidArgument, "no rows to cluster") }
        guard d >= 1 else { throw GroupingError(.invalidArgument, "rows have no columns") }
        guard x.count == n * d else {
            throw GroupingError(.shapeMismatch, "expected \(n) x \(d) = \(n * d) values, got \(x.count)")
        }
        guard maxIterations >= 1 else { throw GroupingError(.invalidArgument, "maxIterations must be at least 1") }
        if let bad = x.firstIndex(where: { !$0.isFinite }) {
            throw GroupingError(.nonFinite, "row \(bad / d), column \(bad % d) is \(x[bad].isNaN ? "NaN" : "infinite"); k-means needs finite values")
        }
        if let warmStart {
            for (i, c) in warmStart.enumerated() {
                guard c.count == d else { throw GroupingError(.shapeMismatch, "warm-start centre \(i) has \(c.count) values, expected \(d)") }
                guard c.allSatisfy({ $0.isFinite }) else { throw GroupingError(.nonFinite, "warm-start centre \(i) is not finite") }
            }
        }
        let data = spherical ? normalizedRows(x, n: n, d: d) : x
        let tol = tolerance * meanVariance(data, n: n, d: d)
        let runs = warmStart == nil ? max(1, nInit) : 1
        var best: KMeansResult?
        data.withUnsafeBufferPointer { xb in
            let xp = xb.baseAddress!
            let norms = rowSquaredNorms(xp, n: n, d: d)
            for run in 0..<runs {
                var rng = SplitMix64(seed: seed &+ UInt64(run) &* 0x2545_F491_4F6C_DD1D)
                var centres: [Float]
                if let warmStart, !warmStart.isEmpty {
                    let given = warmStart.prefix(k).flatMap { $0 }
                    centres = spherical ? normalizedRows(given, n: given.count / d, d: d) : given
                    if centres.count / d < k { centres = kMeansPlusPlus(xp, norms: norms, n: n, d: d, k: k, rng: &rng, existing: centres) }
                } else {
                    centres = kMeansPlusPlus(xp, norms: norms, n: n, d: d, k: k, rng: &rng, existing: [])
                }
                var r = lloyd(xp, norms: norms, n: n, d: d, centres: centres, tol: tol)
                // A warm start promises stable ids, which a repair would shuffle.
                if warmStart == nil && repairs > 0 { r = repair(xp, norms: norms, n: n, d: d, start: r, tol: tol) }
                if best == nil || r.inertia < best!.inertia { best = r }
            }
        }
        var result = best!
        if result.centroids.count < k {
            result.note = "only \(result.centroids.count) distinct point\(result.centroids.count == 1 ? "" : "s"): k reduced from \(k) to \(result.centroids.count)"
        }
        return result
    }

    // MARK: Lloyd

    private func lloyd(_ x: UnsafePointer<Float>, norms: [Float], n: Int, d: Int, centres start: [Float], tol: Double) -> KMeansResult {
        let kk = start.count / d
        var centres = start
        var labels = [Int32](repeating: -1, count: n)
        var minDist = [Float](repeating: 0, count: n)
        var iterations = 0
        var converged = false
        var needFinalAssign = true
        while iterations < maxIterations {
            let changed = assign(x, norms: norms, n: n, d: d, centres: centres, k: kk, labels: &labels, minDist: &minDist)
            if iterations > 0 && changed == 0 { converged = true; needFinalAssign = false; break }
            var newCentres = updateCentres(x, n: n, d: d, k: kk, labels: &labels, minDist: minDist)
            if spherical { newCentres = normalizedRows(newCentres, n: kk, d: d) }
            var shift = 0.0
            for i in 0..<newCentres.count { let e = Double(newCentres[i] - centres[i]); shift += e * e }
            centres = newCentres
            iterations += 1
            if shift <= tol { converged = true; break }
        }
        if needFinalAssign {
            _ = assign(x, norms: norms, n: n, d: d, centres: centres, k: kk, labels: &labels, minDist: &minDist)
        }
        // Inertia from differences, so identical points give exactly zero.
        let inertia: Double = centres.withUnsafeBufferPointer { cb in
            chunkedSum(n) { i in Double(squaredDistance(x + i * d, cb.baseAddress! + Int(labels[i]) * d, d)) }
        }
        let rows = (0..<kk).map { Array(centres[($0 * d)..<(($0 + 1) * d)]) }
        return KMeansResult(labels: labels.map(Int.init), centroids: rows, inertia: inertia,
                            iterations: iterations, converged: converged, note: nil)
    }

    /// Nearest centre for every row from the blocked product; returns how many labels changed.
    private func assign(_ x: UnsafePointer<Float>, norms: [Float], n: Int, d: Int, centres: [Float], k kk: Int,
                        labels: inout [Int32], minDist: inout [Float]) -> Int {
        let cNorms = centres.withUnsafeBufferPointer { rowSquaredNorms($0.baseAddress!, n: kk, d: d) }
        let block = 128
        let chunks = (n + block - 1) / block
        var changedPerChunk = [Int](repeating: 0, count: chunks)
        labels.withUnsafeMutableBufferPointer { lb in
        minDist.withUnsafeMutableBufferPointer { mb in
        changedPerChunk.withUnsafeMutableBufferPointer { cb in
        centres.withUnsafeBufferPointer { cp in
            let lp = lb.baseAddress!, mp = mb.baseAddress!, ch = cb.baseAddress!, c = cp.baseAddress!
            parallelChunks(chunks) { chunk in
                let i0 = chunk * block, rows = min(block, n - i0)
                let dots = UnsafeMutablePointer<Float>.allocate(capacity: rows * kk)
                defer { dots.deallocate() }
                dotProducts(x + i0 * d, m: rows, c, n: kk, d: d, dots, ldo: kk)
                var changed = 0
                for r in 0..<rows {
                    var bestJ = 0
                    var bestV = Float.infinity
                    let row = dots + r * kk
                    for j in 0..<kk {
                        let v = cNorms[j] - 2 * row[j]
                        if v < bestV { bestV = v; bestJ = j }
                    }
                    let i = i0 + r
                    mp[i] = max(0, bestV + norms[i])
                    if lp[i] != Int32(bestJ) { lp[i] = Int32(bestJ); changed += 1 }
                }
                ch[chunk] = changed
            }
        } } } }
        return changedPerChunk.reduce(0, +)
    }

    /// Means of the assigned rows. Empty clusters take the rows farthest from their own centres
    /// (scikit-learn's relocation), which keeps k clusters without restarting.
    private func updateCentres(_ x: UnsafePointer<Float>, n: Int, d: Int, k kk: Int, labels: inout [Int32], minDist: [Float]) -> [Float] {
        var counts = [Int](repeating: 0, count: kk)
        for l in labels { counts[Int(l)] += 1 }
        let empty = (0..<kk).filter { counts[$0] == 0 }
        if !empty.isEmpty {
            // Farthest rows first; ties by index keep this deterministic.
            let order = (0..<n).sorted { minDist[$0] != minDist[$1] ? minDist[$0] > minDist[$1] : $0 < $1 }
            var next = 0
            for j in empty {
                while next < order.count && counts[Int(labels[order[next]])] <= 1 { next += 1 }
                guard next < order.count else { break }
                let i = order[next]; next += 1
                counts[Int(labels[i])] -= 1
                labels[i] = Int32(j)
                counts[j] += 1
            }
        }
        // Per-chunk partial sums added in chunk order: the same bits on any number of cores.
        let block = 2048
        let chunks = (n + block - 1) / block
        var partial = [Float](repeating: 0, count: chunks * kk * d)
        labels.withUnsafeBufferPointer { lb in
        partial.withUnsafeMutableBufferPointer { pb in
            let lp = lb.baseAddress!, pp = pb.baseAddress!
            parallelChunks(chunks) { chunk in
                let sums = pp + chunk * kk * d
                for i in (chunk * block)..<min(n, (chunk + 1) * block) {
                    let s = sums + Int(lp[i]) * d, row = x + i * d
                    var t = 0
                    while t + 16 <= d {
                        UnsafeMutableRawPointer(s + t).storeBytes(of: load16(s + t) + load16(row + t), as: SIMD16<Float>.self)
                        t += 16
                    }
                    while t < d { s[t] += row[t]; t += 1 }
                }
            }
        } }
        var centres = [Float](repeating: 0, count: kk * d)
        for chunk in 0..<chunks {
            let base = chunk * kk * d
            for i in 0..<(kk * d) { centres[i] += partial[base + i] }
        }
        for j in 0..<kk where counts[j] > 0 {
            let inv = 1 / Float(counts[j])
            for t in 0..<d { centres[j * d + t] *= inv }
        }
        return centres
    }

    // MARK: split/merge repair

    /// Repairs the typical k-means++ miss (two centres in one blob, one centre across two blobs):
    /// the merge of clusters a, b costs exactly n_a n_b / (n_a + n_b) |c_a - c_b|^2 of inertia
    /// (Ward), the split of cluster j by 2-means gains SSE_j - SSE(halves). When the best gain beats
    /// the cheapest merge of two other clusters, the swapped centres already give a lower inertia
    /// than before, and Lloyd from them only lowers it further; in spherical mode the result is
    /// kept only if its inertia is lower, since the formulas there are approximate.
    private func repair(_ x: UnsafePointer<Float>, norms: [Float], n: Int, d: Int, start: KMeansResult, tol: Double) -> KMeansResult {
        var current = start
        for _ in 0..<repairs {
            let kk = current.centroids.count
            guard kk >= 3, current.inertia > 0 else { break }
            var members = [[Int]](repeating: [], count: kk)
            for (i, l) in current.labels.enumerated() { members[l].append(i) }
            // Member means (the centres after the last assignment) and the best 2-split of each.
            var means = [Float](repeating: 0, count: kk * d)
            var splits = [SplitResult?](repeating: nil, count: kk)
            means.withUnsafeMutableBufferPointer { mb in splits.withUnsafeMutableBufferPointer { sb in
                let mp = mb.baseAddress!, sp = sb.baseAddress!
                parallelChunks(kk) { j in
                    sp[j] = splitInTwo(x, d: d, members: members[j], mean: mp + j * d)
                }
            } }
            // Cheapest merges first, so for each split candidate the best pair not containing it is near the front.
            var merges: [(cost: Double, a: Int, b: Int)] = []
            merges.reserveCapacity(kk * (kk - 1) / 2)
            means.withUnsafeBufferPointer { mb in
                let mp = mb.baseAddress!
                for a in 0..<kk { for b in (a + 1)..<kk {
                    let na = Double(members[a].count), nb = Double(members[b].count)
                    let cost = na + nb == 0 ? 0 : na * nb / (na + nb) * Double(squaredDistance(mp + a * d, mp + b * d, d))
                    merges.append((cost, a, b))
                } }
            }
            merges.sort { ($0.cost, $0.a, $0.b) < ($1.cost, $1.a, $1.b) }
            var best: (net: Double, j: Int, a: Int, b: Int)?
            for j in 0..<kk {
                guard let s = splits[j], let m = merges.first(where: { $0.a != j && $0.b != j }) else { continue }
                let net = s.gain - m.cost
                if best == nil || net > best!.net { best = (net, j, m.a, m.b) }
            }
            guard let best, best.net > repairMinGain * current.inertia, let s = splits[best.j] else { break }
            // Centres: a takes the merged mean, b and j the two halves of j.
            var centres = current.centroids.flatMap { $0 }
            let na = Float(members[best.a].count), nb = Float(members[best.b].count)
            for t in 0..<d {
                centres[best.a * d + t] = (means[best.a * d + t] * na + means[best.b * d + t] * nb) / max(1, na + nb)
                centres[best.b * d + t] = s.first[t]
                centres[best.j * d + t] = s.second[t]
            }
            if spherical { centres = normalizedRows(centres, n: kk, d: d) }
            var next = lloyd(x, norms: norms, n: n, d: d, centres: centres, tol: tol)
            guard next.inertia < current.inertia else { break }
            next.iterations += current.iterations
            next.repairs = current.repairs + 1
            current = next
        }
        return current
    }

    // MARK: k-means++

    /// scikit-learn's greedy k-means++: each new centre is the best of 2 + log(k) candidates drawn
    /// with probability proportional to the squared distance to the nearest chosen centre. Stops
    /// early when every row coincides with a chosen centre (fewer distinct rows than k).
    private func kMeansPlusPlus(_ x: UnsafePointer<Float>, norms: [Float], n: Int, d: Int, k: Int, rng: inout SplitMix64, existing: [Float]) -> [Float] {
        var centres = existing
        var closest = [Float](repeating: .infinity, count: n)
        func relax(with c: [Float]) {
            c.withUnsafeBufferPointer { cb in
                closest.withUnsafeMutableBufferPointer { clb in
                    let cp = clb.baseAddress!
                    parallelChunks((n + 1023) / 1024) { chunk in
                        for i in (chunk * 1024)..<min(n, chunk * 1024 + 1024) {
                            cp[i] = min(cp[i], squaredDistance(x + i * d, cb.baseAddress!, d))
                        }
                    }
                }
            }
        }
        if centres.isEmpty {
            let first = Int(rng.next() % UInt64(n))
            centres.append(contentsOf: UnsafeBufferPointer(start: x + first * d, count: d))
        }
        for j in 0..<(centres.count / d) { relax(with: Array(centres[(j * d)..<((j + 1) * d)])) }
        let trials = 2 + Int(log(Double(k)))
        var cumulative = [Double](repeating: 0, count: n)
        while centres.count / d < k {
            var pot = 0.0
            for i in 0..<n { pot += Double(closest[i]); cumulative[i] = pot }
            if pot <= 0 { break }
            // Draw candidates: first index whose running total exceeds u * pot, so a row already at
            // distance zero is never drawn.
            var cands: [Int] = []
            for _ in 0..<trials {
                let r = rng.nextUnit() * pot
                var lo = 0, hi = n - 1
                while lo < hi { let mid = (lo + hi) / 2; if cumulative[mid] > r { hi = mid } else { lo = mid + 1 } }
                cands.append(lo)
            }
            // Distances from every row to every candidate, and the potential each would leave.
            let t = cands.count
            var dist = [Float](repeating: 0, count: t * n)
            let chunks = (n + 1023) / 1024
            var pots = [Double](repeating: 0, count: chunks * t)
            // Distances by the expanded product (fast), recomputed from differences where the
            // expansion cancels (near-coincident rows), so duplicates still get exactly zero.
            let candRows = cands.flatMap { Array(UnsafeBufferPointer(start: x + $0 * d, count: d)) }
            let candNorms = cands.map { norms[$0] }
            dist.withUnsafeMutableBufferPointer { db in
            pots.withUnsafeMutableBufferPointer { pb in
            closest.withUnsafeBufferPointer { clb in
            candRows.withUnsafeBufferPointer { crb in
                let dp = db.baseAddress!, pp = pb.baseAddress!, cl = clb.baseAddress!, cr = crb.baseAddress!
                parallelChunks(chunks) { chunk in
                    let i0 = chunk * 1024, rows = min(1024, n - i0)
                    let dots = UnsafeMutablePointer<Float>.allocate(capacity: rows * t)
                    defer { dots.deallocate() }
                    dotProducts(x + i0 * d, m: rows, cr, n: t, d: d, dots, ldo: t)
                    for r in 0..<rows {
                        let i = i0 + r
                        for ci in 0..<t {
                            let scale = norms[i] + candNorms[ci]
                            var v = scale - 2 * dots[r * t + ci]
                            if v <= 1e-4 * scale { v = squaredDistance(x + i * d, cr + ci * d, d) }
                            dp[ci * n + i] = v
                            pp[chunk * t + ci] += Double(min(v, cl[i]))
                        }
                    }
                }
            } } } }
            var bestC = 0, bestPot = Double.infinity
            for ci in 0..<t {
                var s = 0.0
                for chunk in 0..<chunks { s += pots[chunk * t + ci] }
                if s < bestPot { bestPot = s; bestC = ci }
            }
            centres.append(contentsOf: UnsafeBufferPointer(start: x + cands[bestC] * d, count: d))
            for i in 0..<n { closest[i] = min(closest[i], dist[bestC * n + i]) }
        }
        return centres
    }
}

// MARK: helpers shared with chooseK and duplicates

func log(_ v: Double) -> Double {
    // Natural log without Foundation: log2 via the exponent and a short series is overkill here;
    // the standard library has no log, so use the identity ln x = log2(x) * ln 2 with a loop-free
    // frexp-style split and a polynomial for the mantissa.
    guard v > 0 else { return -.infinity }
    let e = Double(v.exponent)
    let m = v.significand   // in [1, 2)
    // ln(m) with m in [1,2): atanh series in s = (m-1)/(m+1), |s| <= 1/3, 8 terms ~ 1e-9.
    let s = (m - 1) / (m + 1), s2 = s * s
    var term = s, sum = 0.0
    for k in 0..<12 { sum += term / Double(2 * k + 1); term *= s2 }
    return 2 * sum + e * 0.693_147_180_559_945_3
}

func normalizedRows(_ x: [Float], n: Int, d: Int) -> [Float] {
    var out = x
    for i in 0..<n {
        var s: Float = 0
        for t in 0..<d { s += x[i * d + t] * x[i * d + t] }
        if s > 0 {
            let inv = 1 / s.squareRoot()
            for t in 0..<d { out[i * d + t] *= inv }
        }
    }
    return out
}

/// Same as `normalizedRows` without a second copy (100,000 embeddings are 512 MB).
func normalizeRowsInPlace(_ x: inout [Float], n: Int, d: Int) {
    x.withUnsafeMutableBufferPointer { xb in
        let p = xb.baseAddress!
        parallelChunks((n + 1023) / 1024) { c in
            for i in (c * 1024)..<min(n, c * 1024 + 1024) {
                let s = dot(p + i * d, p + i * d, d)
                if s > 0 { let inv = 1 / s.squareRoot(); for t in 0..<d { p[i * d + t] *= inv } }
            }
        }
    }
}

func rowSquaredNorms(_ x: UnsafePointer<Float>, n: Int, d: Int) -> [Float] {
    (0..<n).map { dot(x + $0 * d, x + $0 * d, d) }
}

/// Mean over columns of the per-column variance (scikit-learn's tolerance scale).
func meanVariance(_ x: [Float], n: Int, d: Int) -> Double {
    var mean = [Double](repeating: 0, count: d)
    for i in 0..<n { for t in 0..<d { mean[t] += Double(x[i * d + t]) } }
    for t in 0..<d { mean[t] /= Double(n) }
    var v = 0.0
    for i in 0..<n { for t in 0..<d { let e = Double(x[i * d + t]) - mean[t]; v += e * e } }
    return v / Double(n) / Double(d)
}

/// Sum of f(i) over 0..<n in fixed chunks added in order (deterministic on any number of cores).
func chunkedSum(_ n: Int, _ f: (Int) -> Double) -> Double {
    let block = 1024, chunks = (n + block - 1) / block
    var parts = [Double](repeating: 0, count: chunks)
    parts.withUnsafeMutableBufferPointer { pb in
        let p = pb.baseAddress!
        parallelChunks(chunks) { c in
            var s = 0.0
            for i in (c * block)..<min(n, (c + 1) * block) { s += f(i) }
            p[c] = s
        }
    }
    return parts.reduce(0, +)
}

struct SplitResult { var gain: Double; var first: [Float]; var second: [Float] }

/// The mean of `members` written to `mean`, and the best 2-means split of them found from the
/// farthest-point seeds (the member farthest from the mean, then the one farthest from it),
/// 8 Lloyd steps at most: deterministic and cheap (2 distances per member per step).
func splitInTwo(_ x: UnsafePointer<Float>, d: Int, members: [Int], mean: UnsafeMutablePointer<Float>) -> SplitResult? {
    let m = members.count
    mean.update(repeating: 0, count: d)
    guard m > 0 else { return nil }
    var acc = [Double](repeating: 0, count: d)
    for i in members { for t in 0..<d { acc[t] += Double(x[i * d + t]) } }
    for t in 0..<d { mean[t] = Float(acc[t] / Double(m)) }
    guard m >= 2 else { return nil }
    var sse = 0.0
    var far = members[0], farD: Float = -1
    for i in members {
        let v = squaredDistance(x + i * d, mean, d)
        sse += Double(v)
        if v > farD { farD = v; far = i }
    }
    var c0 = Array(UnsafeBufferPointer(start: x + far * d, count: d))
    var other = members[0], otherD: Float = -1
    for i in members {
        let v = c0.withUnsafeBufferPointer { squaredDistance(x + i * d, $0.baseAddress!, d) }
        if v > otherD { otherD = v; other = i }
    }
    guard otherD > 0 else { return nil }   // all members identical
    var c1 = Array(UnsafeBufferPointer(start: x + other * d, count: d))
    var side = [Bool](repeating: false, count: m)
    var splitSSE = Double.infinity
    for step in 0..<8 {
        var changed = false, total = 0.0
        for (r, i) in members.enumerated() {
            let v0 = c0.withUnsafeBufferPointer { squaredDistance(x + i * d, $0.baseAddress!, d) }
            let v1 = c1.withUnsafeBufferPointer { squaredDistance(x + i * d, $0.baseAddress!, d) }
            let s = v1 < v0
            if s != side[r] { changed = true; side[r] = s }
            total += Double(min(v0, v1))
        }
        splitSSE = total
        if step > 0 && !changed { break }
        var s0 = [Double](repeating: 0, count: d), s1 = [Double](repeating: 0, count: d)
        var n0 = 0, n1 = 0
        for (r, i) in members.enumerated() {
            if side[r] { n1 += 1; for t in 0..<d { s1[t] += Double(x[i * d + t]) } }
            else { n0 += 1; for t in 0..<d { s0[t] += Double(x[i * d + t]) } }
        }
        guard n0 > 0, n1 > 0 else { break }
        c0 = s0.map { Float($0 / Double(n0)) }
        c1 = s1.map { Float($0 / Double(n1)) }
    }
    return SplitResult(gain: sse - splitSSE, first: c0, second: c1)
}
