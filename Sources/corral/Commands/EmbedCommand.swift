import ArgumentParser
import Dispatch
import Foundation
import Catalog
import Imaging
import Models

/// `corral embed PATH... --format jsonl|npy [--out FILE.npy]`: one L2-normalised embedding per image.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Print each image's embedding (the model's pooled features, L2-normalised).",
        discussion: """
            jsonl: one line per image, {"path": "/abs/a.jpg", "model": "...", "embedding": [...]}.
            npy: an N x D float32 matrix in FILE.npy (numpy format 1.0) and the paths, one a line,
            in FILE.paths.txt. Folders are walked recursively; images are recognised by content.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case jsonl, npy }

    @Argument(help: "Image files or folders.")
    var paths: [String]

    @Option(name: .long, help: "Output format: jsonl or npy.")
    var format: Format = .jsonl

    @Option(name: .long, help: "The .npy file to write (with --format npy).")
    var out: String?

    @Option(name: .long, help: "Threads for decoding and inference (default: all cores).")
    var threads: Int?

    @OptionGroup var common: CommonOptions

    func validate() throws {
        if format == .npy && out == nil { throw ValidationError("--format npy needs --out FILE.npy") }
        if format == .jsonl && out != nil { throw ValidationError("--out is for --format npy; jsonl goes to stdout") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Goes through the catalog like every other data command, so a second `corral embed` on an
    /// unchanged folder (or after `corral scan`) reads the cache and runs no network at all.
    func run() throws {
        let session = try CatalogSession(common: common)
        var options = ScanOptions(inferenceThreads: threads, includeThumbnails: false)
        let report = try session.scan(paths: paths, options: &options)
        let model = common.model ?? CatalogSession.defaultModel
        let failed = !report.failures.isEmpty
        var npyRows: [Float] = []
        var npyPaths: [String] = []
        var dimension = 0
        for entry in report.entries {
            switch format {
            case .jsonl:
                var line = "{\"path\": \(JSONText.string(entry.path)), \"model\": \(JSONText.string(model)), \"embedding\": ["
                line += entry.embedding.map { JSONText.number($0) }.joined(separator: ", ")
                line += "]}\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            case .npy:
                npyRows += entry.embedding
                npyPaths.append(entry.path)
                dimension = entry.embedding.count
            }
        }
        if report.cancelled { throw ExitCode(130) }
        if format == .npy, let out {
            let url = URL(fileURLWithPath: out).standardizedFileURL
            do {
                try AtomicFile.write(NPY.float32Matrix(npyRows, rows: npyPaths.count, columns: dimension), to: url)
                let listURL = url.deletingPathExtension().appendingPathExtension("paths.txt")
                try AtomicFile.write(Data(npyPaths.map { $0 + "\n" }.joined().utf8), to: listURL)
            } catch {
                Diagnostics.fileError(url.path, "cannot write: \((error as NSError).localizedDescription)")
                throw ExitCode.failure
            }
        }
        if failed { throw Diagnostics.partialFailure }
    }
}

/// Files in, (path, embedding, probabilities) out: the part `embed` and `classify` share. Decodes
/// a chunk of images on all cores, then runs the network on the chunk (which itself uses all cores).
struct ModelRunner {
    let embedder: Embedder
    let threads: Int
    let quiet: Bool

    init(model: String?, threads: Int?, quiet: Bool) throws {
        let name = model ?? ModelCatalog.defaultModel
        self.threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        self.quiet = quiet
        // A model that is missing or unusable is a set-up problem: one line, exit status 1.
        do {
            embedder = try Embedder(modelName: name, threads: self.threads)
        } catch let error as WeightsError where error.kind == .notInstalled || error.kind == .invalidName {
            Diagnostics.warn(error.reason + " (installed: `corral model list`)")
            throw ExitCode(1)
        } catch {
            Diagnostics.warn("cannot load model \(name): \(error)")
            throw ExitCode(1)
        }
    }

    /// Calls `emit` for every image in input order; names each failure once on stderr.
    /// Returns true when some input failed.
    func run(_ arguments: [String], emit: (String, (embedding: [Float], probabilities: [Float])) -> Void) -> Bool {
        var (files, failed) = ImageFiles.collect(arguments)
        let prep = embedder.preprocessing
        let perImage = prep.inputSize * prep.inputSize * 3
        let chunk = max(8, threads * 4)
        let progress = ProgressLine(total: files.count, enabled: !quiet)
        var done = 0
        var start = 0
        while start < files.count {
            let slice = Array(files[start..<min(start + chunk, files.count)])
            start += slice.count
            var tensor = [Float](repeating: 0, count: slice.count * perImage)
            var errors = [String?](repeating: nil, count: slice.count)
            let lock = NSLock()
            tensor.withUnsafeMutableBufferPointer { buffer in
                let base = buffer.baseAddress!
                DispatchQueue.concurrentPerform(iterations: slice.count) { i in
                    do {
                        let (image, _) = try decodeImage(path: slice[i].path, minimumShortSide: embedder.decodeShortSide)
                        prep.apply(image, into: base + i * perImage)
                    } catch let error as ImageError {
                        // A non-image met while walking a folder is not a failure; a named one is.
                        let reason = error.kind == .unsupported && slice[i].fromFolder ? "" : error.reason
                        lock.lock(); errors[i] = reason; lock.unlock()
                    } catch {
                        lock.lock(); errors[i] = "\(error)"; lock.unlock()
                    }
                }
            }
            // Compact the good images to the front so the network runs only on them.
            var good: [Int] = []
            for i in slice.indices {
                if let reason = errors[i] {
                    if !reason.isEmpty { Diagnostics.fileError(slice[i].path, reason); failed = true }
                } else {
                    if good.count != i {
                        let dst = good.count * perImage
                        tensor.withUnsafeMutableBufferPointer { b in
                            (b.baseAddress! + dst).update(from: b.baseAddress! + i * perImage, count: perImage)
                        }
                    }
                    good.append(i)
                }
            }
            if !good.isEmpty {
                let results = embedder.run(batch: tensor, count: good.count)
                for (i, r) in zip(good, results) { emit(slice[i].path, r) }
            }
            done += slice.count
            progress.update(done)
        }
        progress.finish()
        return failed
    }
}

/// Arguments to absolute file paths: folders walked recursively (sorted, hidden entries skipped).
enum ImageFiles {
    struct File { let path: String; let fromFolder: Bool }

    static func collect(_ arguments: [String]) -> (files: [File], failed: Bool) {
        var files: [File] = []
        var failed = false
        var seen = Set<String>()
        let fm = FileManager.default
        for argument in arguments {
            let path = URL(fileURLWithPath: argument).standardizedFileURL.path
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
                Diagnostics.fileError(path, "no such file or folder"); failed = true; continue
            }
            if isDir.boolValue {
                var found: [String] = []
                let e = fm.enumerator(at: URL(fileURLWithPath: path), includingPropertiesForKeys: [.isRegularFileKey],
                                      options: [.skipsHiddenFiles])
                while let url = e?.nextObject() as? URL {
                    if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                        found.append(url.standardizedFileURL.path)
                    }
                }
                for f in found.sorted() where seen.insert(f).inserted { files.append(File(path: f, fromFolder: true)) }
            } else if seen.insert(path).inserted {
                files.append(File(path: path, fromFolder: false))
            }
        }
        return (files, failed)
    }
}

/// "embedding 40/152" on stderr, redrawn in place; only when stderr is a terminal.
final class ProgressLine {
    let total: Int
    let enabled: Bool
    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled && isatty(2) == 1 && total > 0
    }
    func update(_ done: Int) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\rcorral: \(done)/\(total) images".utf8))
    }
    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

enum JSONText {
    static func string(_ s: String) -> String { SafeTensors.jsonString(s) }

    /// Shortest text that reads back as the same Float.
    static func number(_ v: Float) -> String { v.isFinite ? "\(v)" : "null" }
}

/// numpy's .npy format, version 1.0, little-endian float32, C order.
enum NPY {
    static func float32Matrix(_ values: [Float], rows: Int, columns: Int) -> Data {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        // Magic (6) + version (2) + length (2) + header + newline, padded to a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let n = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8)])
        data.append(contentsOf: Array(header.utf8))
        values.withUnsafeBufferPointer { b in
            for v in b { var le = v.bitPattern.littleEndian; withUnsafeBytes(of: &le) { data.append(contentsOf: $0) } }
        }
        return data
    }
}

/// Temp file in the same folder, then rename: a reader never sees half a file.
enum AtomicFile {
    static func write(_ data: Data, to url: URL) throws {
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        do {
            try data.write(to: tmp)
            if rename(tmp.path, url.path) != 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
    }
}
