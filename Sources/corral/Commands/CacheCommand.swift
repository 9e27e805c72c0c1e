import Foundation
import ArgumentParser
import Catalog

/// `corral cache info|prune|clear`: see and trim what the scans stored.
struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Show, prune or clear the cache of embeddings and thumbnails.",
        subcommands: [Info.self, Prune.self, Clear.self])

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Where the cache is and what it holds.")
        @OptionGroup var common: CommonOptions
        @Option(name: .long, help: "text or json") var format: ScanCommand.SummaryFormat = .text
        func run() throws {
            let i = try CatalogSession(common: common).library.info()
            switch format {
            case .json:
                let e = JSONEncoder(); e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try e.encode(i), as: UTF8.self))
            case .text:
                print("cache:          \(i.directory)")
                print("size:           \(CacheCommand.bytes(i.bytes))")
                print("schema version: \(i.schemaVersion)")
                print("files:          \(i.files)")
                for (m, n) in i.analyses.sorted(by: { $0.key < $1.key }) { print("embeddings:     \(n) (\(m))") }
                if i.analyses.isEmpty { print("embeddings:     0") }
                print("flags:          \(i.flags)")
                print("not-duplicates: \(i.notDuplicatePairs)")
                print("journal:        \(i.journalEntries) moves")
            }
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forget files that no longer exist and embeddings no file uses (flags and the undo journal stay).")
        @OptionGroup var common: CommonOptions
        func run() throws {
            let r = try CatalogSession(common: common).library.prune()
            print("removed \(r.filesRemoved) files and \(r.analysesRemoved) embeddings; \(CacheCommand.bytes(r.bytesBefore)) -> \(CacheCommand.bytes(r.bytesAfter))")
        }
    }

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop every cached embedding and file record (flags and the undo journal stay).")
        @OptionGroup var common: CommonOptions
        func run() throws {
            let r = try CatalogSession(common: common).library.clearComputed()
            print("removed \(r.filesRemoved) files and \(r.analysesRemoved) embeddings; \(CacheCommand.bytes(r.bytesBefore)) -> \(CacheCommand.bytes(r.bytesAfter))")
        }
    }

    static func bytes(_ n: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var v = Double(n), u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        return u == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[u])
    }
}
