import Dispatch

/// Near-duplicate groups with verdicts. Candidates come from the embedding (blocked top-k cosine
/// search), then a pixel check (`pixelSimilarity`) separates copies of one photo from different
/// shots of one scene; groups use complete linkage so A~B and B~C never glue A to C unless A~C.

public enum Verdict: String, Sendable, Comparable {
    case identical
    case nearDuplicate = "near-duplicate"
    case similar
    var rank: Int { switch self { case .identical: 0; case .nearDuplicate: 1; case .similar: 2 } }
    public static func < (a: Verdict, b: Verdict) -> Bool { a.rank < b.rank }   // stronger first
}

public struct DuplicateCandidate: Sendable {
    public var id: Int
    public var embedding: [Float]
    public var signature: PixelSignature
    public var contentHash: String
    /// Hash of the decoded pixels when known: equal pixels in different files are identical too.
    public var pixelHash: String?
    public var width: Int, height: Int, fileSize: Int
    /// EXIF DateTimeOriginal ("YYYY:MM:DD HH:MM:SS" sorts as text).
    public var captureDate: String?
    public var exifFieldCount: Int
    public init(id: Int, embedding: [Float], signature: PixelSignature, contentHash: String, pixelHash: String? = nil,
                width: Int, height: Int, fileSize: Int, captureDate: String? = nil, exifFieldCount: Int = 0) {
        self.id = id; self.embedding = embedding; self.signature = signature; self.contentHash = contentHash
        self.pixelHash = pixelHash; self.width = width; self.height = height; self.fileSize = fileSize
        self.captureDate = captureDate; self.exifFieldCount = exifFieldCount
    }
}

public struct DuplicateGroup: Sendable {
    /// id of the suggested keeper.
    public var keep: Int
    /// Which rule chose the keeper, for the person deciding.
    public var reason: String
    /// Keeper first; every other member's verdict and similarity are relative to the keeper.
    public var members: [(id: Int, verdict: Verdict, similarity: Float)]
}

/// An unordered pair of content hashes the user marked "not duplicates".
public struct HashPair: Hashable, Sendable {
    public let first: String, second: String
    public init(_ a: String, _ b: String) { if a <= b { first = a; second = b } else { first = b; second = a } }
}

public struct DuplicateOptions: Sendable {
    /// Embedding cosine at which a pair is at least "similar" (same subject or scene).
    public var similarThreshold: Float = 0.90
    /// Pixel similarity (best NCC over orientations and crops) at which a pair is a near-duplicate.
    public var pixelThreshold: Float = 0.75
    /// Pairs below this embedding cosine are never examined (rotated copies can drop to ~0.6).
    public var candidateThreshold: Float = 0.50
    /// Neighbours examined per image.
    public var neighbours: Int = 32
    /// false: only identical and near-duplicate pairs form groups.
    public var includeSimilar: Bool = true
    /// Exact neighbours up to 10,000 images, the clustered search beyond (see `NeighbourSearch`).
    public var search: NeighbourSearch = .automatic
    public init() {}
}

/// What `findDuplicates` did and how long each stage took, for benchmarks and diagnostics.
public final class DuplicateStats: @unchecked Sendable {
    public var search = SearchStats()
    /// Pairs examined (embedding neighbours plus shared hashes): the pixel check runs on these only.
    public var candidatePairs = 0
    public var searchSeconds = 0.0, verdictSeconds = 0.0, linkSeconds = 0.0
    /// When set, the examined pairs (i < j, candidate indices) are kept in `pairs`.
    public var recordPairs: Bool
    public var pairs: [(Int, Int)] = []
    public init(recordPairs: Bool = false) { self.recordPairs = recordPairs }
}

@inline(__always) func secondsSince(_ t: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - t.uptimeNanoseconds) / 1e9
}

/// The verdict for one pair, or nil when the two are unrelated.
public func pairVerdict(_ a: DuplicateCandidate, _ b: DuplicateCandidate, cosine: Float,
                        options: DuplicateOptions = DuplicateOptions()) -> (verdict: Verdict, similarity: Float)? {
    if a.contentHash == b.contentHash || (a.pixelHash != nil && a.pixelHash == b.pixelHash) { return (.identical, 1) }
    if cosine < options.candidateThreshold { return nil }
    // The refinement is skipped when even the best coarse (8 x 8) correlation is more than 0.25
    // below the threshold: over all 141,778 pairs of the duplicate benchmark set the lowest
    // coarse score of a pair that passed 0.75 was 0.63, and this gate skips 41% of them.
    let pixel = pixelSimilarityDetail(a.signature, b.signature, stopAt: options.pixelThreshold,
                                      skipBelow: options.pixelThreshold - 0.25).score
    if pixel >= options.pixelThreshold { return (.nearDuplicate, cosine) }
    if options.includeSimilar && cosine >= options.similarThreshold { return (.similar, cosine) }
    return nil
}

/// Groups of two or more. `threshold` overrides `options.similarThreshold` (the CLI's --threshold).
public func findDuplicates(_ candidates: [DuplicateCandidate], threshold: Float? = nil,
                           notDuplicates: Set<HashPair>? = nil,
                           options: DuplicateOptions = DuplicateOptions(), stats: DuplicateStats? = nil) -> [DuplicateGroup] {
    var opts = options
    if let threshold { opts.similarThreshold = threshold }
    let n = candidates.count
    guard n > 1 else { return [] }
    let d = candidates[0].embedding.count
    // Pairs to examine: embedding neighbours, plus every pair sharing a content or pixel hash.
    var pairs: [(i: Int, j: Int, similarity: Float)] = []
    var normalized: [Float] = []
    var t0 = DispatchTime.now()
    if d > 0 && candidates.allSatisfy({ $0.embedding.count == d }) {
        normalized.reserveCapacity(n * d)
        for c in candidates { normalized.append(contentsOf: c.embedding) }
        normalizeRowsInPlace(&normalized, n: n, d: d)
        var searchStats = SearchStats()
        pairs = similarPairs(normalized, n: n, d: d, k: opts.neighbours, minSimilarity: opts.candidateThreshold,
                             search: opts.search, stats: &searchStats)
        stats?.search = searchStats
    }
    func cosine(_ i: Int, _ j: Int) -> Float {
        guard !normalized.isEmpty else { return 0 }
        return normalized.withUnsafeBufferPointer { dot($0.baseAddress! + i * d, $0.baseAddress! + j * d, d) }
    }
    var seen = Set(pairs.map { $0.i * n + $0.j })
    var byHash: [String: [Int]] = [:]
    for (i, c) in candidates.enumerated() {
        byHash["c:" + c.contentHash, default: []].append(i)
        if let p = c.pixelHash { byHash["p:" + p, default: []].append(i) }
    }
    for (_, members) in byHash where members.count > 1 {
        for x in 0..<members.count { for y in (x + 1)..<members.count {
            let i = members[x], j = members[y]
            if seen.insert(i * n + j).inserted { pairs.append((i, j, cosine(i, j))) }
        } }
    }
    stats?.searchSeconds = secondsSince(t0)
    stats?.candidatePairs = pairs.count
    if let stats, stats.recordPairs { stats.pairs = pairs.map { ($0.i, $0.j) } }
    t0 = DispatchTime.now()
    // Verdicts, with the pixel checks spread over the cores.
    var verdicts = [(verdict: Verdict, similarity: Float)?](repeating: nil, count: pairs.count)
    verdicts.withUnsafeMutableBufferPointer { vb in
        let v = vb.baseAddress!
        parallelChunks(max(1, (pairs.count + 15) / 16)) { c in
            for p in (c * 16)..<min(pairs.count, c * 16 + 16) {
                let (i, j, s) = pairs[p]
                if let nd = notDuplicates, nd.contains(HashPair(candidates[i].contentHash, candidates[j].contentHash)) { continue }
                v[p] = pairVerdict(candidates[i], candidates[j], cosine: s, options: opts)
            }
        }
    }
    stats?.verdictSeconds = secondsSince(t0)
    t0 = DispatchTime.now()
    defer { stats?.linkSeconds = secondsSince(t0) }
    var edges: [Int: (verdict: Verdict, similarity: Float)] = [:]
    var order: [(i: Int, j: Int, verdict: Verdict, similarity: Float)] = []
    for (p, v) in zip(pairs, verdicts) {
        guard let v else { continue }
        edges[p.i * n + p.j] = v
        order.append((p.i, p.j, v.verdict, v.similarity))
    }
    func edge(_ a: Int, _ b: Int) -> (verdict: Verdict, similarity: Float)? { edges[min(a, b) * n + max(a, b)] }
    // Complete linkage: strongest edges first; two groups merge only if every cross pair is an edge.
    order.sort { ($0.verdict, -$0.similarity, $0.i, $0.j) < ($1.verdict, -$1.similarity, $1.i, $1.j) }
    var groupOf = Array(0..<n)
    var groups: [Int: [Int]] = [:]
    for e in order {
        let gi = groupOf[e.i], gj = groupOf[e.j]
        if gi == gj { continue }
        let a = groups[gi] ?? [e.i], b = groups[gj] ?? [e.j]
        guard a.allSatisfy({ x in b.allSatisfy { y in edge(x, y) != nil } }) else { continue }
        groups[gi] = a + b
        groups[gj] = nil
        for m in b { groupOf[m] = gi }
    }
    var result: [DuplicateGroup] = []
    for (_, members) in groups where members.count > 1 {
        let (keeper, reason) = chooseKeeper(members.map { candidates[$0] })
        let k = members.first { candidates[$0].id == keeper }!
        var out: [(id: Int, verdict: Verdict, similarity: Float)] = []
        let keeperBest = members.filter { $0 != k }.compactMap { edge(k, $0)?.verdict }.min() ?? .similar
        out.append((candidates[k].id, keeperBest, 1))
        let others = members.filter { $0 != k }.map { ($0, edge(k, $0)!) }
            .sorted { ($0.1.verdict, -$0.1.similarity, candidates[$0.0].id) < ($1.1.verdict, -$1.1.similarity, candidates[$1.0].id) }
        for (m, e) in others { out.append((candidates[m].id, e.verdict, e.similarity)) }
        result.append(DuplicateGroup(keep: keeper, reason: reason, members: out))
    }
    return result.sorted { $0.keep < $1.keep }
}

/// The keeper and the rule that decided: largest resolution, then larger file (less compression),
/// then richer EXIF, then oldest capture date; the reason names the first rule that separated the
/// keeper from the runner-up.
public func chooseKeeper(_ members: [DuplicateCandidate]) -> (id: Int, reason: String) {
    typealias Rule = (name: (DuplicateCandidate) -> String, compare: (DuplicateCandidate, DuplicateCandidate) -> Int)
    let rules: [Rule] = [
        ({ "largest resolution (\($0.width)x\($0.height))" }, { sign($0.width * $0.height - $1.width * $1.height) }),
        ({ "larger file, less compression (\($0.fileSize) bytes)" }, { sign($0.fileSize - $1.fileSize) }),
        ({ "richer EXIF (\($0.exifFieldCount) fields)" }, { sign($0.exifFieldCount - $1.exifFieldCount) }),
        ({ "oldest capture date (\($0.captureDate ?? "-"))" }, { a, b in
            switch (a.captureDate, b.captureDate) {
            case let (x?, y?): return x < y ? 1 : (x > y ? -1 : 0)
            case (.some, nil): return 1
            case (nil, .some): return -1
            default: return 0
            }
        }),
    ]
    let sorted = members.sorted { a, b in
        for r in rules { let c = r.compare(a, b); if c != 0 { return c > 0 } }
        return a.id < b.id
    }
    let keeper = sorted[0]
    guard sorted.count > 1 else { return (keeper.id, "only member") }
    for r in rules where r.compare(keeper, sorted[1]) != 0 { return (keeper.id, r.name(keeper)) }
    return (keeper.id, "equal on every rule; first found")
}

@inline(__always) private func sign(_ v: Int) -> Int { v > 0 ? 1 : (v < 0 ? -1 : 0) }
