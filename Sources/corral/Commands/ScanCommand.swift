import Foundation
import ArgumentParser
import Catalog
import Models
#if canImport(Glibc)
import Glibc
#endif

/// `corral scan PATH...`: fill the cache so every later command starts instantly.
struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Embed every image under PATH into the cache (resumable; a later run reuses it).",
        discussion: """
            Only new or changed files are read, and only content never seen before is embedded: a renamed or
            moved photo is recognised by a hash of its bytes. Ctrl-C stops after the batch in flight and keeps
            everything finished; so does a crash, and the next scan continues.
            Examples:
              corral scan ~/Pictures
              corral scan ~/Pictures /mnt/camera --format json
            """)

    @OptionGroup var common: CommonOptions
    @Argument(help: "Files or folders (walked recursively).") var paths: [String]
    @Flag(name: .long, help: "Also walk hidden folders and files.") var hidden = false
    @Option(name: .long, help: "Output: text (a summary line) or json (counts and timing).") var format: SummaryFormat = .text
    @Option(name: .long, help: "Decode worker threads (default: one per core).") var decodeThreads: Int?
    @Option(name: .long, help: "Inference threads (default: one per core).") var threads: Int?
    @Option(name: .long, help: "Images per inference batch.") var batch: Int?
    @Option(name: .long, help: ArgumentHelp("How far decode workers lower their priority below inference (0-19).", visibility: .hidden))
    var decodeNice: Int = ScanOptions.defaultDecodeNice

    enum SummaryFormat: String, ExpressibleByArgument { case text, json }

    func validate() throws {
        for (name, v) in [("--decode-threads", decodeThreads), ("--threads", threads), ("--batch", batch)] {
            if let v, v < 1 || v > 256 { throw ValidationError("\(name) must be between 1 and 256") }
        }
        if decodeNice < 0 || decodeNice > 19 { throw ValidationError("--decode-nice must be between 0 and 19") }
    }

    func run() throws {
        var options = ScanOptions(includeHidden: hidden, decodeThreads: decodeThreads, inferenceThreads: threads,
                                  batchSize: batch, includeThumbnails: false, decodeNice: decodeNice)
        let session = try CatalogSession(common: common)
        let report = try session.scan(paths: paths, options: &options)
        let s = report.stats
        switch format {
        case .text:
            print("\(s.images) images: \(s.embedded) embedded, \(s.unchanged + s.rehashed) from the cache, \(s.failed) failed, "
                  + String(format: "%.1f s", s.seconds) + (report.cancelled ? " (interrupted)" : ""))
        case .json:
            struct Out: Encodable {
                let images, embedded, unchanged, rehashed, failed: Int
                let seconds, images_per_second, pipeline_seconds, pipeline_images_per_second, pipeline_cpu_ms_per_image: Double
                let cancelled: Bool; let cache: String; let model: String
            }
            let processed = s.embedded + s.rehashed + s.failed
            let out = Out(images: s.images, embedded: s.embedded, unchanged: s.unchanged, rehashed: s.rehashed, failed: s.failed,
                          seconds: (s.seconds * 1000).rounded() / 1000,
                          images_per_second: s.seconds > 0 ? (Double(processed) / s.seconds * 10).rounded() / 10 : 0,
                          pipeline_seconds: (s.pipelineSeconds * 1000).rounded() / 1000,
                          pipeline_images_per_second: s.pipelineSeconds > 0 ? (Double(processed) / s.pipelineSeconds * 10).rounded() / 10 : 0,
                          pipeline_cpu_ms_per_image: processed > 0 ? (s.pipelineCPUSeconds * 1000 / Double(processed) * 10).rounded() / 10 : 0,
                          cancelled: report.cancelled, cache: session.library.cacheDirectory.path, model: session.library.model)
            let e = JSONEncoder(); e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try e.encode(out), as: UTF8.self))
        }
        if report.cancelled { throw ExitCode(130) }
        if !report.failures.isEmpty { throw Diagnostics.partialFailure }
    }
}

/// The cache as every data command uses it: open the library for --model/--cache, scan with a
/// progress bar and Ctrl-C handling, name each failed file once on stderr. Commands call
/// `CatalogSession(common:).scan(paths:)` and get entries whose embeddings are computed at most once.
final class CatalogSession {
    static var defaultModel: String { ModelCatalog.defaultModel }
    let library: Library
    let quiet: Bool

    init(common: CommonOptions) throws {
        quiet = common.quiet
        let cache = common.cache.map { URL(fileURLWithPath: $0, isDirectory: true) }
        do {
            library = try Library(cacheDirectory: cache, model: common.model ?? CatalogSession.defaultModel)
        } catch {
            throw CatalogSession.fail("cannot open the cache: \(error)")
        }
    }

    /// A one-line reason on stderr and exit status 1 (usage or set-up problem).
    static func fail(_ message: String) -> ExitCode {
        Diagnostics.warn(message)
        return ExitCode(1)
    }

    /// Scans with progress on stderr; failures are printed here (once each). Ctrl-C cancels the
    /// scan cleanly: finished batches stay committed and the partial report comes back.
    func scan(paths: [String], options: inout ScanOptions) throws -> ScanReport {
        let cancel = Cancellation()
        options.cancellation = cancel
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        var interrupts = 0
        source.setEventHandler {
            interrupts += 1
            if interrupts > 1 { _exit(130) }   // a second Ctrl-C: the user really wants out
            cancel.cancel()
        }
        source.resume()
        defer { source.cancel(); signal(SIGINT, SIG_DFL) }

        let bar = ProgressBar(label: "scanning", quiet: quiet)
        let report: ScanReport
        do {
            report = try library.scan(paths: paths, options: options) { bar.update($0) }
        } catch {
            bar.finish()
            throw CatalogSession.fail("\(error)")
        }
        bar.finish()
        for f in report.failures { Diagnostics.fileError(f.path, f.reason) }
        if report.cancelled { Diagnostics.warn("interrupted: finished work is kept in the cache; run again to continue") }
        return report
    }
}
