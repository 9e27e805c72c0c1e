import Foundation
import ArgumentParser
import Catalog
import Grouping

/// `corral similar IMAGE`: the images closest in content to one image.
struct SimilarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "similar",
        abstract: "List the images most similar to IMAGE (cosine of embeddings).",
        discussion: "Example: corral similar ~/Pictures/cat.jpg --in ~/Pictures --top 5 --format json")

    @OptionGroup var common: CommonOptions
    @Argument(help: "The image to compare with.") var image: String
    @Option(name: .customLong("in"), parsing: .upToNextOption, help: "Where to search (default: the image's folder).") var searchIn: [String] = []
    @Option(name: .long, help: "How many results.") var top: Int = 10
    @Option(name: .long, help: "json or text.") var format: String = "text"

    func validate() throws {
        guard ["json", "text"].contains(format) else { throw GroupingIO.usage("unknown format '\(format)'; use json or text") }
        guard top >= 1 else { throw GroupingIO.usage("--top must be at least 1") }
    }

    func run() throws {
        let imagePath = URL(fileURLWithPath: image).standardizedFileURL.path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: imagePath, isDirectory: &isDir), !isDir.boolValue else {
            Diagnostics.fileError(imagePath, "no such image file")
            throw ExitCode(1)
        }
        let scope = searchIn.isEmpty ? [URL(fileURLWithPath: imagePath).deletingLastPathComponent().path] : searchIn
        let session = try CatalogSession(common: common)
        var options = ScanOptions(includeThumbnails: false)
        let report = try session.scan(paths: [imagePath] + scope, options: &options)
        guard let query = report.entries.first(where: { $0.path == imagePath }) else {
            throw Diagnostics.partialFailure   // the scan already named the failure
        }
        var seen = Set<String>()
        let pool = report.entries.filter { $0.path != imagePath && seen.insert($0.path).inserted }
        let d = query.embedding.count
        let usable = pool.filter { $0.embedding.count == d }
        let hits = nearest(to: query.embedding, in: usable.flatMap { $0.embedding }, dim: d, k: top)
        switch format {
        case "json":
            let items = hits.map { "{\"path\": \(GroupingIO.json(usable[$0.index].path)), \"similarity\": \(GroupingIO.number($0.similarity))}" }
            print("[\(items.joined(separator: ", "))]")
        default:
            for h in hits { print("\(GroupingIO.number(h.similarity))  \(usable[h.index].path)") }
        }
        if !report.failures.isEmpty { throw Diagnostics.partialFailure }
    }
}
