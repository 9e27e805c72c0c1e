import Foundation
import ArgumentParser
import Catalog
import Grouping

/// `corral dups PATH...`: near-duplicate groups with verdicts and a keeper suggestion.
struct DupsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dups",
        abstract: "Find identical, near-duplicate and similar images, with a keeper for each group.",
        discussion: """
        identical: same bytes. near-duplicate: copies of one photo (re-encoded, resized, cropped to 60%,
        mirrored, rotated, framed, captioned, grayscale or colour-edited), found by embedding neighbours and
        confirmed by a pixel check over the 8 orientations and crops. similar: a different shot of the same
        subject (embedding cosine >= --threshold). Every pair inside a group passes (complete linkage).
        Example: corral dups ~/Pictures --format json
        """)

    @OptionGroup var common: CommonOptions
    @Argument(help: "Files or folders (walked recursively).") var paths: [String]
    @Option(name: .long, help: "Embedding cosine for the 'similar' verdict (default 0.90).") var threshold: Float?
    @Flag(name: .long, help: "Only identical and near-duplicate images; leave out 'similar' shots.") var noSimilar = false
    @Option(name: .long, help: "Pixel similarity (0-1, best correlation over orientations and crops) for 'near-duplicate' (default 0.75).") var pixelThreshold: Float?
    @Option(name: .long, help: "Embedding neighbours examined per image (default 32).") var neighbours: Int?
    @Option(name: .long, help: "json, csv or text.") var format: String = "text"

    func validate() throws {
        guard ["json", "csv", "text"].contains(format) else { throw GroupingIO.usage("unknown format '\(format)'; use json, csv or text") }
        if let t = threshold, !(t >= -1 && t <= 1) { throw GroupingIO.usage("--threshold must be a cosine between -1 and 1") }
        if paths.isEmpty { throw GroupingIO.usage("give at least one file or folder") }
    }

    func run() throws {
        let session = try CatalogSession(common: common)
        var options = ScanOptions(includeThumbnails: false)
        let report = try session.scan(paths: paths, options: &options)
        var entries = report.entries.sorted { $0.path < $1.path }
        if entries.contains(where: { !PixelSignature(bytes: $0.signature).isValid }) {
            // Older cache rows carry no signature: fall back to signatures from the cached thumbnails.
            let withThumbs = Dictionary((try session.library.entries(paths: paths, includeThumbnails: true)).map { ($0.path, $0) },
                                        uniquingKeysWith: { a, _ in a })
            entries = entries.map { withThumbs[$0.path] ?? $0 }
        }
        let notDup = Set((try? session.library.notDuplicatePairs())?.map { HashPair($0.a, $0.b) } ?? [])
        var opts = DuplicateOptions()
        opts.includeSimilar = !noSimilar
        if let pixelThreshold { opts.pixelThreshold = pixelThreshold }
        if let neighbours { opts.neighbours = max(1, neighbours) }
        let groups = findDuplicates(GroupingIO.candidates(entries), threshold: threshold, notDuplicates: notDup, options: opts)
        print(render(groups, entries), terminator: "")
        if report.cancelled { throw ExitCode(130) }
        if !report.failures.isEmpty { throw Diagnostics.partialFailure }
    }

    private func render(_ groups: [DuplicateGroup], _ entries: [CatalogEntry]) -> String {
        switch format {
        case "json":
            let gs = groups.map { g -> String in
                let imgs = g.members.map { m in
                    "{\"path\": \(GroupingIO.json(entries[m.id].path)), \"verdict\": \"\(m.verdict.rawValue)\", \"similarity\": \(GroupingIO.number(m.similarity))}"
                }
                return "{\"keep\": \(GroupingIO.json(entries[g.keep].path)), \"reason\": \(GroupingIO.json(g.reason)), \"images\": [\(imgs.joined(separator: ", "))]}"
            }
            return "{\"groups\": [\(gs.joined(separator: ", "))]}\n"
        case "csv":
            var s = "group,path,verdict,similarity,keep,reason\n"
            for (i, g) in groups.enumerated() { for m in g.members {
                s += "\(i),\(GroupingIO.csv(entries[m.id].path)),\(m.verdict.rawValue),\(GroupingIO.number(m.similarity)),\(m.id == g.keep),\(GroupingIO.csv(g.reason))\n"
            } }
            return s
        default:
            var s = "\(groups.count) group\(groups.count == 1 ? "" : "s")\n"
            for (i, g) in groups.enumerated() {
                s += "group \(i + 1): keep \(entries[g.keep].path) (\(g.reason))\n"
                for m in g.members where m.id != g.keep {
                    s += "  \(m.verdict.rawValue) \(GroupingIO.number(m.similarity)) \(entries[m.id].path)\n"
                }
            }
            return s
        }
    }
}
