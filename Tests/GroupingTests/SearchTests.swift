import XCTest
import TestSupport
@testable import Grouping

final class SearchTests: XCTestCase {
    private func pairSet(_ p: [(i: Int, j: Int, similarity: Float)], _ n: Int) -> Set<Int> { Set(p.map { $0.i * n + $0.j }) }

    func testClusteredSearchFindsThePlantedPairsTheExactSearchFinds() {
        let set = PlantedSet(count: 3000, dim: 256, topics: 12, scenesPerTopic: 5, families: 120, seed: 3, signatures: false)
        let n = set.count
        let planted = set.plantedPairs
        XCTAssertGreaterThan(planted.count, 150)
        let exact = neighbourPairs(normalized: set.rows, count: n, dim: 256, k: 16, minSimilarity: 0.5, search: .exact)
        let clustered = neighbourPairs(normalized: set.rows, count: n, dim: 256, k: 16, minSimilarity: 0.5,
                                       search: .clustered(lists: 0, probes: 8))
        let e = pairSet(exact.pairs, n), c = pairSet(clustered.pairs, n)
        let plantedInExact = planted.filter { e.contains($0.0 * n + $0.1) }
        // Two hard copies of one original can sit below the 0.5 candidate threshold to each other.
        XCTAssertGreaterThan(Double(plantedInExact.count), 0.95 * Double(planted.count))
        for p in plantedInExact { XCTAssertTrue(c.contains(p.0 * n + p.1), "planted pair \(p) missed by the clustered search") }
        // Most neighbour pairs agree, and the clustered search compared a fraction of all pairs.
        XCTAssertGreaterThan(Double(e.intersection(c).count) / Double(e.count), 0.9)
        XCTAssertEqual(exact.stats.products, n * n)
        XCTAssertEqual(clustered.stats.lists, NeighbourSearch.defaultLists(rows: n, probes: 8))
        XCTAssertLessThan(clustered.stats.products, n * n / 8, "the clustered search compared (nearly) every pair")
        XCTAssertGreaterThan(clustered.stats.products, 0)
    }

    func testClusteredSearchProbingEveryListIsExact() {
        let set = PlantedSet(count: 700, dim: 40, topics: 5, scenesPerTopic: 4, families: 30, seed: 8, signatures: false)
        let exact = neighbourPairs(normalized: set.rows, count: 700, dim: 40, k: 7, minSimilarity: 0.3, search: .exact)
        let all = neighbourPairs(normalized: set.rows, count: 700, dim: 40, k: 7, minSimilarity: 0.3, search: .clustered(lists: 9, probes: 9))
        XCTAssertEqual(pairSet(exact.pairs, 700), pairSet(all.pairs, 700))
        XCTAssertEqual(all.stats.products, 700 * 700)
        // Similarities are the rows' dot products.
        for p in all.pairs.prefix(50) {
            var s: Float = 0
            for t in 0..<40 { s += set.rows[p.i * 40 + t] * set.rows[p.j * 40 + t] }
            XCTAssertEqual(p.similarity, s, accuracy: 1e-4)
        }
    }

    func testAutomaticSearchSwitchesAtTheLimit() {
        XCTAssertEqual(NeighbourSearch.automatic.resolved(rows: NeighbourSearch.exactLimit), .exact)
        XCTAssertEqual(NeighbourSearch.automatic.resolved(rows: 100_000), .clustered(lists: 894, probes: 8))
        XCTAssertEqual(NeighbourSearch.clustered(lists: 5, probes: 2).resolved(rows: 100), .clustered(lists: 5, probes: 2))
    }

    func testExactNeighboursMatchNaive() {
        let set = PlantedSet(count: 300, dim: 24, topics: 3, scenesPerTopic: 3, families: 10, seed: 2, signatures: false)
        let q = [0, 17, 299]
        let got = exactNeighbours(normalized: set.rows, count: 300, dim: 24, of: q, k: 5, minSimilarity: -1)
        for (qi, i) in q.enumerated() {
            var sims: [(Int, Float)] = []
            for j in 0..<300 where j != i {
                var s: Float = 0
                for t in 0..<24 { s += set.rows[i * 24 + t] * set.rows[j * 24 + t] }
                sims.append((j, s))
            }
            sims.sort { $0.1 > $1.1 }
            XCTAssertEqual(got[qi].map { $0.index }, sims.prefix(5).map { $0.0 })
        }
    }

    func testDuplicateGroupsSameWithClusteredSearch() {
        let set = PlantedSet(count: 500, dim: 128, topics: 4, scenesPerTopic: 5, families: 40, seed: 5)
        let cands = (0..<500).map { i in
            DuplicateCandidate(id: i, embedding: Array(set.rows[(i * 128)..<((i + 1) * 128)]), signature: set.signatures[i],
                               contentHash: "h\(i)", width: 640, height: 480, fileSize: 1000 + i)
        }
        var opts = DuplicateOptions()
        opts.neighbours = 6
        opts.search = .exact
        let exact = findDuplicates(cands, options: opts)
        opts.search = .clustered(lists: 0, probes: 4)
        let stats = DuplicateStats()
        let clustered = findDuplicates(cands, options: opts, stats: stats)
        func canon(_ g: [DuplicateGroup]) -> Set<[Int]> { Set(g.map { $0.members.map { $0.id }.sorted() }) }
        XCTAssertEqual(canon(exact), canon(clustered))
        XCTAssertGreaterThan(stats.search.lists, 0)
        // The planted families come out as groups (copies of one picture pass the pixel check).
        var groupOf = [Int](repeating: -1, count: 500)
        for (g, grp) in clustered.enumerated() { for m in grp.members { groupOf[m.id] = g } }
        let planted = set.plantedPairs
        let found = planted.filter { groupOf[$0.0] >= 0 && groupOf[$0.0] == groupOf[$0.1] }.count
        XCTAssertGreaterThan(Double(found) / Double(planted.count), 0.9)
    }

    func testDotBlockAgainstNaive() {
        var rng = SeededRNG(seed: 12)
        for (m, n, d) in [(1, 1, 1), (7, 5, 13), (6, 16, 8), (13, 17, 33), (130, 3, 1280)] {
            let a = (0..<(m * d)).map { _ in rng.nextSigned() }, b = (0..<(n * d)).map { _ in rng.nextSigned() }
            var out = [Float](repeating: .nan, count: m * n)
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in out.withUnsafeMutableBufferPointer { op in
                dotBlockMatmul(ap.baseAddress!, m: m, bp.baseAddress!, n: n, d: d, op.baseAddress!)
            } } }
            XCTAssertLessThan(maxRelativeError(out, ref(a, b, m, n, d)), 1e-4, "matmul \(m)x\(n)x\(d)")
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in out.withUnsafeMutableBufferPointer { op in
                dotBlock(ap.baseAddress!, m: m, bp.baseAddress!, n: n, d: d, op.baseAddress!)
            } } }
            XCTAssertLessThan(maxRelativeError(out, ref(a, b, m, n, d)), 1e-4, "\(m)x\(n)x\(d)")
        }
    }

    private func ref(_ a: [Float], _ b: [Float], _ m: Int, _ n: Int, _ d: Int) -> [Float] {
        var r = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { var s: Float = 0; for t in 0..<d { s += a[i * d + t] * b[j * d + t] }; r[i * n + j] = s } }
        return r
    }
}
