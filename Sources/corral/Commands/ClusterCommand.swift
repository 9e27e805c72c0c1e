import Foundation
import ArgumentParser
import Grouping
import Catalog
import Models

/// `corral cluster`: k-means over embeddings, of the images under PATH (through the catalog's scan,
/// spherical k-means on the L2-normalised embeddings, named by the classifier) or of vectors the
/// user brings (`--embeddings FILE.npy`, Euclidean unless --spherical).
struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Group images (or embedding vectors) by content with k-means.",
        discussion: """
        --k auto picks k by the highest mean silhouette on a sample of at most 2000 rows over
        k = 2...min(40, sqrt(n)); the reason is printed on stderr.
        Example: corral cluster --embeddings x.npy --k 50 --seed 1 --format json
        """)

    @OptionGroup var common: CommonOptions
    @Argument(help: "Images or folders (walked recursively).")
    var paths: [String] = []
    @Option(name: .long, help: "Cluster the rows of an N x D float32 .npy file instead of images.")
    var embeddings: String?
    @Option(name: .long, help: "Number of clusters, or 'auto'.")
    var k: String = "auto"
    @Option(name: .long, help: "Random seed (same seed, same clusters).")
    var seed: UInt64 = 0
    @Option(name: .long, help: "k-means++ restarts; the lowest inertia wins.")
    var nInit: Int = 1
    @Option(name: .long, help: "Maximum Lloyd iterations.")
    var maxIter: Int = 300
    @Option(name: .long, help: "Split/merge repairs after Lloyd (0: plain k-means++ and Lloyd as in scikit-learn).")
    var repairs: Int = 8
    @Flag(name: .long, help: "Cosine k-means (rows and centres L2-normalised).")
    var spherical = false
    @Option(name: .long, help: "json, csv or text.")
    var format: String = "text"

    func validate() throws {
        guard ["json", "csv", "text"].contains(format) else {
            throw GroupingIO.usage("unknown format '\(format)'; use json, csv or text")
        }
        if k != "auto" {
            guard let v = Int(k), v >= 1 else { throw GroupingIO.usage("--k must be a positive integer or 'auto' (got '\(k)')") }
        }
        guard nInit >= 1 else { throw GroupingIO.usage("--n-init must be at least 1") }
        guard maxIter >= 1 else { throw GroupingIO.usage("--max-iter must be at least 1") }
        guard repairs >= 0 else { throw GroupingIO.usage("--repairs must be 0 or more") }
        if embeddings == nil && paths.isEmpty {
            throw GroupingIO.usage("nothing to cluster; give image folders or --embeddings FILE.npy")
        }
        if embeddings != nil && !paths.isEmpty {
            throw GroupingIO.usage("give either --embeddings FILE.npy or image paths, not both")
        }
    }

    func run() throws {
        guard let embeddings else { return try runOnImages() }
        let path = URL(fileURLWithPath: embeddings).standardizedFileURL.path
        let m: NpyMatrix
        do { m = try NpyMatrix.read(path: path) } catch {
            Diagnostics.fileError(path, (error as? NpyMatrix.Failure)?.reason ?? "\(error)")
            throw Diagnostics.partialFailure
        }
        do {
            var kk: Int
            if k == "auto" {
                let choice = try KMeans.chooseK(m.values, count: m.rows, dim: m.cols, spherical: spherical, seed: seed)
                Diagnostics.warn("--k auto: \(choice.reason)")
                kk = choice.k
            } else { kk = Int(k)! }
            let km = KMeans(k: kk, seed: seed, nInit: nInit, maxIterations: maxIter, spherical: spherical, repairs: repairs)
            let r = try km.fit(m.values, count: m.rows, dim: m.cols)
            if let note = r.note { Diagnostics.warn(note) }
            kk = r.centroids.count
            var members = [[Int]](repeating: [], count: kk)
            for (i, l) in r.labels.enumerated() { members[l].append(i) }
            let medoids = (0..<kk).map { c in
                ClusterNaming.medoid(members: members[c], embeddings: m.values, dim: m.cols, centroid: r.centroids[c])
            }
            print(render(r, members: members, medoids: medoids), terminator: "")
        } catch let e as GroupingError {
            Diagnostics.fileError(path, e.reason)
            throw Diagnostics.partialFailure
        }
    }

    /// Scan (cached), spherical k-means, a label from the mean class probabilities and the medoid.
    private func runOnImages() throws {
        let session = try CatalogSession(common: common)
        var options = ScanOptions(includeThumbnails: false)
        let report = try session.scan(paths: paths, options: &options)
        let entries = report.entries.sorted { $0.path < $1.path }
        guard let d = entries.first?.embedding.count, d > 0 else {
            Diagnostics.warn("no images to cluster under \(paths.map { URL(fileURLWithPath: $0).standardizedFileURL.path }.joined(separator: " "))")
            throw report.failures.isEmpty ? ExitCode(1) : Diagnostics.partialFailure
        }
        let x = entries.flatMap { $0.embedding }
        var kk: Int
        if k == "auto" {
            let choice = try KMeans.chooseK(x, count: entries.count, dim: d, spherical: true, seed: seed)
            if !common.quiet { Diagnostics.warn("--k auto: \(choice.reason)") }
            kk = choice.k
        } else { kk = min(Int(k)!, entries.count) }
        let r = try KMeans(k: kk, seed: seed, nInit: nInit, maxIterations: maxIter, spherical: true, repairs: repairs)
            .fit(x, count: entries.count, dim: d)
        if let note = r.note { Diagnostics.warn(note) }
        kk = r.centroids.count
        var members = [[Int]](repeating: [], count: kk)
        for (i, l) in r.labels.enumerated() { members[l].append(i) }
        let labels = members.map { ClusterNaming.label(memberTopClasses: $0.map { entries[$0].topClasses }, names: ImageNetLabels.names) }
        let medoids = (0..<kk).map { ClusterNaming.medoid(members: members[$0], embeddings: x, dim: d, centroid: r.centroids[$0]) }
        switch format {
        case "json":
            let cs = (0..<kk).map { c -> String in
                let medoid = medoids[c].map { GroupingIO.json(entries[$0].path) } ?? "null"
                let imgs = members[c].map { GroupingIO.json(entries[$0].path) }.joined(separator: ", ")
                return "{\"id\": \(c), \"label\": \(GroupingIO.json(labels[c])), \"medoid\": \(medoid), \"images\": [\(imgs)]}"
            }
            print("{\"k\": \(kk), \"clusters\": [\(cs.joined(separator: ", "))]}")
        case "csv":
            print("path,cluster,label")
            for (i, e) in entries.enumerated() { print("\(GroupingIO.csv(e.path)),\(r.labels[i]),\(GroupingIO.csv(labels[r.labels[i]]))") }
        default:
            print("k=\(kk)")
            for c in 0..<kk {
                print("cluster \(c) \(labels[c]) (\(members[c].count) images), medoid \(medoids[c].map { entries[$0].path } ?? "-")")
                for m in members[c] { print("  \(entries[m].path)") }
            }
        }
        if report.cancelled { throw ExitCode(130) }
        if !report.failures.isEmpty { throw Diagnostics.partialFailure }
    }

    private func render(_ r: KMeansResult, members: [[Int]], medoids: [Int?]) -> String {
        switch format {
        case "json":
            var s = "{\"k\": \(members.count), \"inertia\": \(r.inertia), \"iterations\": \(r.iterations), \"repairs\": \(r.repairs), \"clusters\": ["
            for (c, rows) in members.enumerated() {
                if c > 0 { s += ", " }
                let medoid = medoids[c].map(String.init) ?? "null"
                s += "{\"id\": \(c), \"label\": null, \"medoid\": \(medoid), \"images\": [\(rows.map(String.init).joined(separator: ", "))]}"
            }
            return s + "]}\n"
        case "csv":
            var s = "row,cluster\n"
            for (i, l) in r.labels.enumerated() { s += "\(i),\(l)\n" }
            return s
        default:
            var s = "k=\(members.count) inertia=\(r.inertia) iterations=\(r.iterations)\(r.converged ? "" : " (not converged)")\n"
            for (c, rows) in members.enumerated() {
                let preview = rows.prefix(12).map(String.init).joined(separator: " ")
                s += "cluster \(c): \(rows.count) rows, medoid \(medoids[c].map(String.init) ?? "-"): \(preview)\(rows.count > 12 ? " ..." : "")\n"
            }
            return s
        }
    }
}
