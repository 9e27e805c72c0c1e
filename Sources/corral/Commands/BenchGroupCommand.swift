import ArgumentParser
import Dispatch
import Foundation
import Grouping
import Tensors

/// `corral bench group`: the grouping work at library scale on a synthetic set shaped like real
/// embeddings (`PlantedSet`: topics, scenes at cosine ~0.6, planted families of copies), so the
/// 100,000-image target can be measured without 100,000 photos. Peak memory comes from the
/// outside (`/usr/bin/time -v`, bench/scale.sh); this reports wall times per stage and how many
/// planted copies were found.
struct BenchGroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group",
        abstract: "Measure clustering and near-duplicate search at scale on synthetic embeddings.",
        discussion: """
        --phase cluster: spherical k-means (--k) on the rows. --phase dups: findDuplicates (candidate
        search, pixel check on candidate pairs, complete linkage) with recall of the planted copies;
        --recall-sample N also compares the search with the exact top-k of N random rows.
        --phase kernels: Grouping's own dot kernel vs Tensors.matmul on Grouping's block shapes.
        Example: corral bench group --phase dups --n 100000 --format json
        """)

    enum Phase: String, ExpressibleByArgument { case cluster, dups, kernels }
    enum Search: String, ExpressibleByArgument { case auto, exact, clustered }

    @Option(name: .long, help: "cluster, dups or kernels.") var phase: Phase = .dups
    @Option(name: .long, help: "Rows (images).") var n: Int = 100_000
    @Option(name: .long, help: "Embedding size.") var dim: Int = 1280
    @Option(name: .long, help: "Topics (the k-means ground truth).") var topics: Int = 100
    @Option(name: .long, help: "Scenes per topic (rows of one scene sit at cosine ~0.6).") var scenes: Int = 20
    @Option(name: .long, help: "Families of planted copies (1-4 copies each).") var families: Int = 2000
    @Option(name: .long, help: "Seed of the synthetic set.") var seed: UInt64 = 1
    @Option(name: .long, help: "k for --phase cluster (default: --topics).") var k: Int?
    @Option(name: .long, help: "Split/merge repairs for --phase cluster.") var repairs: Int = 8
    @Option(name: .long, help: "Neighbour search: auto, exact or clustered.") var search: Search = .auto
    @Option(name: .long, help: "Lists of the clustered search (0: sqrt(n x probes)).") var lists: Int = 0
    @Option(name: .long, help: "Lists probed per row.") var probes: Int = 8
    @Option(name: .long, help: "Neighbours per row.") var neighbours: Int = 32
    @Option(name: .long, help: "Rows whose exact top-k is compared with the search (0: none).") var recallSample: Int = 0
    @Option(name: .long, help: "Repeats per shape for --phase kernels.") var repeats: Int = 5
    @Option(name: .long, help: "json or text.") var format: String = "json"

    func validate() throws {
        guard n >= 2, dim >= 1, topics >= 1, scenes >= 1, families >= 0, probes >= 1, neighbours >= 1, lists >= 0, recallSample >= 0 else {
            throw ValidationError("--n must be at least 2 and the other counts positive")
        }
        guard ["json", "text"].contains(format) else { throw ValidationError("unknown format '\(format)'; use json or text") }
    }

    func run() throws {
        var out: [(String, String)] = [("phase", "\"\(phase.rawValue)\"")]
        if phase == .kernels {
            // Lloyd's assignment (128 rows x k centres), the exact search (128 x 512), the clustered
            // search (128 queries x one list of ~100) and the coarse filing (256 rows x lists).
            let shapes = [(20_000, 50, 1280, 128), (20_000, 512, 1280, 128), (20_000, 100, 1280, 128), (20_000, 900, 1280, 256), (4_096, 16, 1280, 128)]
            var rows: [String] = []
            for (m, nn, d, blk) in shapes {
                let r = GroupingKernelBench.compare(m: m, n: nn, d: d, rowBlock: blk, repeats: repeats)
                rows.append("{\"m\": \(m), \"n\": \(nn), \"d\": \(d), \"row_block\": \(blk), \"own_gflops\": \(fmt(r.own)), \"matmul_gflops\": \(fmt(r.matmul)), \"matmul_over_own\": \(fmt(r.matmul / r.own))}")
                if format == "text" { FileHandle.standardError.write("\(m)x\(nn)x\(d) rows/\(blk): own \(fmt(r.own)) GFLOP/s, matmul \(fmt(r.matmul)) GFLOP/s\n".data(using: .utf8)!) }
            }
            out.append(("shapes", "[\(rows.joined(separator: ", "))]"))
            return emit(out)
        }
        var t0 = DispatchTime.now()
        let set = PlantedSet(count: n, dim: dim, topics: topics, scenesPerTopic: scenes, families: families, seed: seed,
                             signatures: phase == .dups)
        out += [("n", "\(n)"), ("dim", "\(dim)"), ("topics", "\(topics)"), ("scenes_per_topic", "\(scenes)"),
                ("families", "\(Set(set.family.filter { $0 >= 0 }).count)"), ("generate_seconds", fmt(since(t0)))]
        switch phase {
        case .cluster:
            t0 = DispatchTime.now()
            let r = try KMeans(k: k ?? topics, seed: seed, spherical: true, repairs: repairs).fit(set.rows, count: n, dim: dim)
            let secs = since(t0)
            out += [("k", "\(r.centroids.count)"), ("cluster_seconds", fmt(secs)), ("iterations", "\(r.iterations)"),
                    ("repairs", "\(r.repairs)"), ("inertia", "\(r.inertia)"),
                    ("purity", fmt(purity(r.labels, set.topic.map(Int.init))))]
        case .dups:
            var opts = DuplicateOptions()
            opts.neighbours = neighbours
            opts.search = search == .exact ? .exact : search == .clustered ? .clustered(lists: lists, probes: probes) : .automatic
            if search == .auto, lists != 0 || probes != NeighbourSearch.defaultProbes, n > NeighbourSearch.exactLimit {
                opts.search = .clustered(lists: lists, probes: probes)
            }
            let candidates = (0..<n).map { i in
                DuplicateCandidate(id: i, embedding: Array(set.rows[(i * dim)..<((i + 1) * dim)]), signature: set.signatures[i],
                                   contentHash: "h\(i)", width: 640, height: 480, fileSize: 100_000 + i)
            }
            let stats = DuplicateStats(recordPairs: true)
            t0 = DispatchTime.now()
            let groups = findDuplicates(candidates, options: opts, stats: stats)
            let secs = since(t0)
            let planted = set.plantedPairs
            var groupOf = [Int](repeating: -1, count: n)
            for (g, grp) in groups.enumerated() { for m in grp.members { groupOf[m.id] = g } }
            let foundPlanted = planted.filter { groupOf[$0.0] >= 0 && groupOf[$0.0] == groupOf[$0.1] }.count
            let candidateSet = Set(stats.pairs.map { $0.0 * n + $0.1 })
            let plantedCandidates = planted.filter { candidateSet.contains($0.0 * n + $0.1) }.count
            var groupedPairs = 0
            for grp in groups { groupedPairs += grp.members.count * (grp.members.count - 1) / 2 }
            let s = stats.search
            out += [("search", "\"\(s.lists > 0 ? "clustered" : "exact")\""), ("lists", "\(s.lists)"), ("probes", "\(s.probes)"),
                    ("products_over_n2", fmt(Double(s.products) / Double(n) / Double(n))), ("largest_list", "\(s.largestList)"),
                    ("dups_seconds", fmt(secs)), ("search_seconds", fmt(stats.searchSeconds)),
                    ("verdict_seconds", fmt(stats.verdictSeconds)), ("link_seconds", fmt(stats.linkSeconds)),
                    ("candidate_pairs", "\(stats.candidatePairs)"), ("groups", "\(groups.count)"),
                    ("planted_pairs", "\(planted.count)"), ("planted_pairs_in_candidates", "\(plantedCandidates)"),
                    ("planted_pairs_grouped", "\(foundPlanted)"),
                    ("planted_recall", fmt(Double(foundPlanted) / Double(max(1, planted.count)))),
                    ("grouped_pairs", "\(groupedPairs)"),
                    ("grouped_precision", fmt(Double(foundPlanted) / Double(max(1, groupedPairs))))]
            if recallSample > 0 {
                var rng = SplitMix64(seed: seed ^ 0xABCD)
                var picked = Set<Int>()
                while picked.count < min(recallSample, n) { picked.insert(Int(rng.next() % UInt64(n))) }
                let queries = picked.sorted()
                let x = set.rows   // already L2-normalised
                t0 = DispatchTime.now()
                let exact = exactNeighbours(normalized: x, count: n, dim: dim, of: queries, k: neighbours, minSimilarity: opts.candidateThreshold)
                let exactSecs = since(t0)
                var total = 0, hit = 0
                for (q, list) in zip(queries, exact) { for e in list {
                    total += 1
                    if candidateSet.contains(min(q, e.index) * n + max(q, e.index)) { hit += 1 }
                } }
                out += [("recall_sample", "\(queries.count)"), ("exact_neighbours", "\(total)"),
                        ("neighbour_recall_vs_exact", fmt(Double(hit) / Double(max(1, total)))),
                        ("exact_sample_seconds", fmt(exactSecs)),
                        ("exact_full_seconds_estimate", fmt(exactSecs * Double(n) / Double(queries.count)))]
            }
        case .kernels: break
        }
        emit(out)
    }

    private func emit(_ fields: [(String, String)]) {
        if format == "json" { print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}") }
        else { for (k, v) in fields { print("\(k): \(v)") } }
    }
    private func since(_ t: DispatchTime) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t.uptimeNanoseconds) / 1e9 }
    private func fmt(_ v: Double) -> String { String(format: "%.4g", v) }

    /// Share of rows whose cluster's most common topic is their own.
    private func purity(_ labels: [Int], _ truth: [Int]) -> Double {
        var counts: [Int: [Int: Int]] = [:]
        for (l, t) in zip(labels, truth) { counts[l, default: [:]][t, default: 0] += 1 }
        return Double(counts.values.map { $0.values.max() ?? 0 }.reduce(0, +)) / Double(max(1, labels.count))
    }
}
