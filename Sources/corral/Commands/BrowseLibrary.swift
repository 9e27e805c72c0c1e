import Foundation
import Catalog
import Grouping
import Imaging
import Models
import UI

/// The interface's LibraryService over the real modules: Catalog (scan, cache, flags, journalled
/// moves, export) and Grouping (k-means, choice of k, labels). Image ids are indices into the
/// entries of the last scan. The runtime calls it from one background queue only.
final class BrowseLibrary: LibraryService {
    let library: Library
    let paths: [String]
    let cancellation = Cancellation()
    private var entries: [CatalogEntry] = []
    private var present: [Bool] = []
    private var dim = 0
    /// Row-major embeddings of `entries` (n x dim).
    private var embeddings: [Float] = []
    private var idByPath: [String: Int] = [:]

    init(library: Library, paths: [String]) {
        self.library = library
        self.paths = paths
    }

    // MARK: Scan

    func scan(progress: @escaping (ScanProgressInfo) -> Void) throws -> ScanOutcome {
        let options = ScanOptions(includeThumbnails: true, cancellation: cancellation)
        let report = try library.scan(paths: paths, options: options) { p in
            let phase: String
            switch p.phase {
            case .walking: phase = "looking for images"
            case .scanning: phase = p.embedded > 0 ? "embedding new images" : "reading the cache"
            case .finished: phase = "finished"
            }
            progress(ScanProgressInfo(done: p.done, total: p.total, rate: p.rate, eta: p.eta, phase: phase))
        }
        entries = report.entries.sorted { $0.path < $1.path }
        present = Array(repeating: true, count: entries.count)
        dim = entries.first?.embedding.count ?? 0
        embeddings = []
        embeddings.reserveCapacity(entries.count * dim)
        for e in entries {
            // A different length would be a corrupt cache row: zeros keep the matrix rectangular.
            embeddings += e.embedding.count == dim ? e.embedding : [Float](repeating: 0, count: dim)
        }
        idByPath = Dictionary(entries.enumerated().map { ($1.path, $0) }, uniquingKeysWith: { a, _ in a })

        let stored = try library.allFlags()
        var flags: [Int: UI.ImageFlag] = [:]
        for (i, e) in entries.enumerated() {
            switch stored[e.contentHash] {
            case .keep?: flags[i] = .keep
            case .reject?: flags[i] = .reject
            case nil: break
            }
        }
        let images = entries.enumerated().map { i, e in BrowseLibrary.info(i, e) }
        return ScanOutcome(images: images, failures: report.failures.map { ScanFailure(path: $0.path, reason: $0.reason) }, flags: flags)
    }

    static func info(_ id: Int, _ e: CatalogEntry) -> ImageInfo {
        let m = e.metadata
        let camera = [m.cameraMake, m.cameraModel].compactMap { $0?.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        let thumb = e.thumbnail.width > 0 ? Thumbnail(width: e.thumbnail.width, height: e.thumbnail.height, pixels: e.thumbnail.pixels) : nil
        return ImageInfo(id: id, path: e.path, fileSize: e.fileSize, width: m.width, height: m.height, format: m.format.rawValue,
                         captureDate: m.dateTimeOriginal, camera: camera.isEmpty ? nil : camera, exifFieldCount: m.exifFieldCount,
                         topClasses: e.topClasses.map { ClassScore(label: ImageNetLabels.names.indices.contains($0.index) ? ImageNetLabels.names[$0.index] : "class \($0.index)",
                                                                   probability: $0.probability) },
                         thumbnail: thumb)
    }

    private var presentIDs: [Int] { present.indices.filter { present[$0] } }

    private func rows(_ ids: [Int]) -> [Float] {
        var x = [Float]()
        x.reserveCapacity(ids.count * dim)
        for id in ids { x += embeddings[(id * dim)..<((id + 1) * dim)] }
        return x
    }

    // MARK: Grouping

    func clusters(k: Int?) throws -> Clustering {
        let ids = presentIDs
        guard !ids.isEmpty, dim > 0 else { return Clustering(k: 0, automatic: k == nil, clusters: []) }
        let x = rows(ids)
        let n = ids.count
        let kk = try k.map { max(1, min($0, n)) } ?? KMeans.chooseK(x, count: n, dim: dim, spherical: true, seed: 0).k
        let result = try KMeans(k: kk, seed: 0, nInit: 3, spherical: true).fit(x, count: n, dim: dim)
        var members = [[Int]](repeating: [], count: result.centroids.count)
        for (row, label) in result.labels.enumerated() where label >= 0 && label < members.count { members[label].append(row) }
        var clusters: [ImageCluster] = []
        for (c, rowsInCluster) in members.enumerated() where !rowsInCluster.isEmpty {
            let label = ClusterNaming.label(memberTopClasses: rowsInCluster.map { entries[ids[$0]].topClasses }, names: ImageNetLabels.names)
            let medoidRow = ClusterNaming.medoid(members: rowsInCluster, embeddings: x, dim: dim, centroid: result.centroids[c]) ?? rowsInCluster[0]
            clusters.append(ImageCluster(id: c, label: label.isEmpty ? "cluster \(c + 1)" : label,
                                         members: rowsInCluster.map { ids[$0] }, medoid: ids[medoidRow]))
        }
        return Clustering(k: kk, automatic: k == nil, clusters: clusters)
    }

    /// Grouping's near-duplicate search over the present images (embedding candidates, pixel
    /// check, complete linkage, keeper rules), honouring the stored "not duplicates" pairs.
    func duplicateGroups() throws -> [DuplicateSet] {
        let ids = presentIDs
        let notDuplicates = Set(try library.notDuplicatePairs().map { HashPair($0.a, $0.b) })
        let candidates = GroupingIO.candidates(ids.map { entries[$0] })
        return findDuplicates(candidates, notDuplicates: notDuplicates).map { g in
            DuplicateSet(keep: ids[g.keep], reason: g.reason, members: g.members.map { m in
                let verdict: DuplicateVerdict
                switch m.verdict {
                case .identical: verdict = .identical
                case .nearDuplicate: verdict = .nearDuplicate
                case .similar: verdict = .similar
                }
                return DuplicateMember(id: ids[m.id], verdict: verdict, similarity: m.similarity)
            })
        }
    }

    /// Cosine neighbours among the present images (Grouping's exact search).
    func similar(to id: Int, count: Int) throws -> [SimilarImage] {
        guard id < entries.count, dim > 0 else { return [] }
        let ids = presentIDs.filter { $0 != id }
        guard !ids.isEmpty else { return [] }
        let query = Array(embeddings[(id * dim)..<((id + 1) * dim)])
        return nearest(to: query, in: rows(ids), dim: dim, k: count).map { SimilarImage(id: ids[$0.index], similarity: $0.similarity) }
    }

    // MARK: Decisions

    func setFlag(_ flag: UI.ImageFlag?, ids: [Int]) throws {
        var changes: [String: Catalog.ImageFlag?] = [:]
        for id in ids where id < entries.count {
            changes[entries[id].contentHash] = flag.map { $0 == .keep ? Catalog.ImageFlag.keep : .reject }
        }
        try library.setFlags(changes)
    }

    func setNotDuplicates(_ ids: [Int], _ value: Bool) throws {
        let hashes = ids.filter { $0 < entries.count }.map { entries[$0].contentHash }
        for i in hashes.indices { for j in hashes.indices where j > i { try library.setNotDuplicates(hashes[i], hashes[j], value) } }
    }

    // MARK: Files

    func trash(ids: [Int]) throws -> FileActionOutcome {
        try moveFiles(ids, to: .trash, destination: "the Trash")
    }

    func move(ids: [Int], to folder: String) throws -> FileActionOutcome {
        try moveFiles(ids, to: .folder(folder), destination: folder)
    }

    private func moveFiles(_ ids: [Int], to target: ActionTarget, destination: String) throws -> FileActionOutcome {
        let paths = ids.filter { $0 < entries.count }.map { entries[$0].path }
        // The Catalog refuses to empty any of these groups, a second guard behind the interface's.
        let groups = try duplicateGroups().map { $0.members.map { entries[$0.id].path } }
        let result = try library.moveFiles(paths, to: target, protecting: groups)
        var moved: [Int] = []
        for r in result.records where r.state == "done" {
            if let id = idByPath[r.source] { moved.append(id); present[id] = false }
        }
        return FileActionOutcome(moved: moved, failed: result.failures.map { ScanFailure(path: $0.path, reason: $0.reason) },
                                 destination: destination)
    }

    func undoLastFileAction() throws -> UndoOutcome? {
        guard let result = try library.undoLastBatch() else { return nil }
        var restored: [Int] = []
        for r in result.records where r.state == "undone" {
            if let id = idByPath[r.source] { restored.append(id); present[id] = true }
        }
        var text = "Restored \(restored.count) file\(restored.count == 1 ? "" : "s")."
        if let f = result.failures.first { text += " \(result.failures.count) could not be restored — \(f.path): \(f.reason)" }
        return UndoOutcome(restored: restored, description: text)
    }

    func export(format: UI.ExportFormat, to path: String, clustering: Clustering?, duplicates: [DuplicateSet]) throws -> String {
        let clusters = (clustering?.clusters ?? []).map { c in
            ExportCluster(id: c.id, label: c.label, medoid: entries[c.medoid].path, images: c.members.map { entries[$0].path })
        }
        let dups = duplicates.map { g in
            ExportDuplicateGroup(keep: entries[g.keep].path, reason: g.reason,
                                 images: g.members.map { ExportDuplicateMember(path: entries[$0.id].path, verdict: $0.verdict.rawValue, similarity: $0.similarity) })
        }
        let f: Catalog.ExportFormat
        switch format {
        case .csv: f = .csv
        case .json: f = .json
        case .txt: f = .txt
        case .links: f = .links
        }
        try Exporter.write(clusters: clusters, duplicates: dups, format: f, to: path)
        return path
    }
}
