import Foundation
import ArgumentParser
import Catalog
import UI

/// `corral export PATH... --format csv|json|txt|links --out DEST`: the interface's group lists
/// (clusters and duplicate groups) for scripts and other tools, from the cache (new images are
/// embedded first), written atomically.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the clusters and duplicate groups of PATH as csv, json, txt or a folder of symlinks.",
        discussion: """
            csv:   kind,group,label,path,verdict,similarity,keep (one row per image and group)
            json:  {"clusters": [{"id", "label", "medoid", "images"}], "duplicates": [{"keep", "reason", "images": [{"path", "verdict", "similarity"}]}]}
            txt:   one path a line, groups separated by a blank line (clusters, then duplicate groups)
            links: DEST/clusters/NN-label/ and DEST/duplicates/NN/ holding symlinks to the images
            Examples:
              corral export ~/Pictures --format csv --out groups.csv
              corral export ~/Pictures --format links --out ~/sorted --k 12
            """)

    @OptionGroup var common: CommonOptions
    @Argument(help: "Files or folders (walked recursively).") var paths: [String]
    @Option(name: .long, help: "csv, json, txt or links.") var format: Catalog.ExportFormat
    @Option(name: .long, help: "Output file (folder for links); never overwritten partially.") var out: String
    @Option(name: .long, help: "Number of clusters, or auto.") var k: String = "auto"

    func validate() throws {
        if k != "auto" { guard let n = Int(k), n >= 1 else { throw ValidationError("--k must be a positive number or auto") } }
    }

    func run() throws {
        let session = try CatalogSession(common: common)
        let browse = BrowseLibrary(library: session.library, paths: paths)
        let bar = ProgressBar(label: "scanning", quiet: common.quiet)
        let outcome: ScanOutcome
        do {
            outcome = try browse.scan { p in
                bar.draw(done: p.done, total: p.total, rate: p.rate, eta: p.eta, walking: p.phase == "looking for images",
                         finished: p.phase == "finished")
            }
        } catch {
            bar.finish()
            throw CatalogSession.fail("\(error)")
        }
        bar.finish()
        for f in outcome.failures { Diagnostics.fileError(f.path, f.reason) }
        let clustering = try browse.clusters(k: Int(k))
        let dups = try browse.duplicateGroups()
        let uiFormat = UI.ExportFormat(rawValue: format.rawValue)!
        do {
            let written = try browse.export(format: uiFormat, to: out, clustering: clustering, duplicates: dups)
            FileHandle.standardError.write(Data("corral: wrote \(clustering.clusters.count) clusters and \(dups.count) duplicate groups to \(URL(fileURLWithPath: written).standardizedFileURL.path)\n".utf8))
        } catch {
            throw CatalogSession.fail("\(error)")
        }
        if !outcome.failures.isEmpty { throw Diagnostics.partialFailure }
    }
}

extension Catalog.ExportFormat: ExpressibleByArgument {}
