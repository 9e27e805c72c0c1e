import Foundation
import Imaging

/// One image as the rest of Corral sees it: where it is, what it contains, and what the model made of it.
public struct CatalogEntry: Sendable {
    public var path: String
    public var contentHash: String
    public var fileSize: Int
    public var modified: Date
    public var metadata: ImageMetadata
    public var embedding: [Float]
    public var topClasses: [(index: Int, probability: Float)]
    public var signature: [UInt8]
    /// Empty (0x0) when the caller asked for entries without thumbnails; see `Library.thumbnail`.
    public var thumbnail: RGBImage
}

public struct ScanOptions {
    public var includeHidden: Bool
    /// Decode workers (default: one per core; they share the cores with inference, which is what
    /// lets the two stages overlap instead of adding up).
    public var decodeThreads: Int?
    /// Threads for inference (default: one per core).
    public var inferenceThreads: Int?
    public var batchSize: Int?
    /// Entries carry thumbnails (the interface wants them; the CLI does not).
    public var includeThumbnails: Bool
    public var cancellation: Cancellation?
    /// How much the decode workers lower their own scheduling priority (Linux nice, per thread).
    /// Inference splits every layer across its threads and waits for the slowest, so a decode
    /// worker preempting one inference thread stalls them all; niced, decoding mostly takes the
    /// cores when inference leaves them (between layers, batches and commits). Measured side by
    /// side (docs/catalog.md, "Threads"): +13% scan rate at nice 5 on the loaded 2-core machine.
    /// 0 leaves them equal (`corral scan --decode-nice 0`).
    public var decodeNice: Int
    public init(includeHidden: Bool = false, decodeThreads: Int? = nil, inferenceThreads: Int? = nil, batchSize: Int? = nil,
                includeThumbnails: Bool = true, cancellation: Cancellation? = nil, decodeNice: Int = ScanOptions.defaultDecodeNice) {
        self.includeHidden = includeHidden; self.decodeThreads = decodeThreads; self.inferenceThreads = inferenceThreads
        self.batchSize = batchSize; self.includeThumbnails = includeThumbnails; self.cancellation = cancellation
        self.decodeNice = decodeNice
    }
    public static let defaultDecodeNice = 5
}

/// A flag another thread (a signal handler's queue, the interface) raises to stop a scan; finished
/// batches stay committed.
public final class Cancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    public init() {}
    public func cancel() { lock.lock(); flag = true; lock.unlock() }
    public var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return flag }
}

public struct ScanProgress: Sendable {
    public enum Phase: String, Sendable { case walking, scanning, finished }
    public var phase: Phase
    public var done: Int
    public var total: Int
    /// Images per second over the files that needed reading in this run.
    public var rate: Double
    public var eta: TimeInterval?
    public var embedded: Int
}

/// What a scan did, for `corral scan --format json` and the tests that check nothing is recomputed.
public struct ScanStats: Sendable, Codable, Equatable {
    public var images = 0          // images in the result
    public var unchanged = 0       // path, size and mtime as cached: not even read
    public var rehashed = 0        // read and hashed, embedding found by content (moved, renamed, touched)
    public var embedded = 0        // decoded and run through the model
    public var failed = 0
    public var seconds = 0.0
    /// Decode + inference + commits only (no walk, model loading or result loading): the figure
    /// bench/scan.sh compares with decode-only and embed-only rates.
    public var pipelineSeconds = 0.0
    /// Process CPU time (all threads) over the same span: on a shared machine wall time says how
    /// busy the neighbours were, CPU time per image says what the scan costs.
    public var pipelineCPUSeconds = 0.0
}

func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

public struct ScanReport {
    public var entries: [CatalogEntry]
    public var failures: [(path: String, reason: String)]
    public var stats: ScanStats
    public var cancelled: Bool
}

/// The catalog of one cache folder for one model: scans, cached entries, flags, file actions.
/// Thread-safe: every database use is serialised on one lock, so the interface may set flags while
/// a scan runs on another thread.
public final class Library: @unchecked Sendable {
    public let model: String
    public let cacheDirectory: URL
    let db: Database
    let lock = NSRecursiveLock()
    let analyzerFactory: AnalyzerFactory

    /// Opens (creating and migrating) the cache. `analyzer` defaults to the real model.
    public init(cacheDirectory: URL?, model: String, analyzer: AnalyzerFactory? = nil) throws {
        self.model = model
        self.cacheDirectory = CacheLocation.resolve(cacheDirectory)
        do {
            try FileManager.default.createDirectory(at: self.cacheDirectory, withIntermediateDirectories: true)
        } catch {
            throw FileError(path: self.cacheDirectory.path, reason: "cannot create cache folder (\(error.localizedDescription))")
        }
        db = try Database(path: self.cacheDirectory.appendingPathComponent(CacheLocation.databaseName).path)
        try Schema.migrate(db)
        analyzerFactory = analyzer ?? Library.defaultAnalyzerFactory
    }

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body()
    }

    // MARK: Entries

    /// Cached entries for the images under `paths`, without computing anything: files that are new,
    /// changed since their scan, or gone are simply absent.
    public func entries(paths: [String], includeHidden: Bool = false, includeThumbnails: Bool = true) throws -> [CatalogEntry] {
        let walk = FolderWalk(options: WalkOptions(includeHidden: includeHidden)).walk(paths)
        return try loadEntries(walk.files, includeThumbnails: includeThumbnails)
    }

    func loadEntries(_ files: [WalkedFile], includeThumbnails: Bool) throws -> [CatalogEntry] {
        try locked { try db.readTransaction {
            var out: [CatalogEntry] = []
            out.reserveCapacity(files.count)
            let sql = """
                SELECT f.size, f.mtime_ns, f.content_hash, a.embedding, a.top_classes, a.signature, a.width, a.height,
                       a.orientation, a.date, a.camera_make, a.camera_model, a.format, a.exif_fields,
                       a.thumb_width, a.thumb_height, \(includeThumbnails ? "a.thumbnail" : "NULL"), a.thumb_format
                FROM files f JOIN analyses a ON a.content_hash = f.content_hash AND a.model = ?
                WHERE f.path = ?
                """
            var stored: [StoredThumbnail?] = []
            for f in files {
                let rows = try db.query(sql, model, f.path) { r -> (CatalogEntry, StoredThumbnail?)? in
                    guard r.int(0) == f.stat.size, r.int64(1) == f.stat.mtimeNanoseconds else { return nil }
                    return Library.entry(path: f.path, row: r, offset: 2, size: f.stat.size, mtime: f.stat.mtimeNanoseconds)
                }
                if let (e, t) = rows.first ?? nil { out.append(e); stored.append(t) }
            }
            // JPEG thumbnails (30-60 us each) are decoded in parallel, off the SQLite loop: a
            // library of 100,000 photos would otherwise spend seconds here on one core.
            out.withUnsafeMutableBufferPointer { entries in
                let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
                let chunk = max(64, (entries.count + cores * 4 - 1) / (cores * 4))
                let base = entries.baseAddress
                DispatchQueue.concurrentPerform(iterations: (entries.count + chunk - 1) / chunk) { c in
                    for i in (c * chunk)..<min(entries.count, (c + 1) * chunk) {
                        if let t = stored[i] { base![i].thumbnail = t.decoded() }
                    }
                }
            }
            return out
        } }
    }

    /// Row layout: hash, embedding, top, signature, width, height, orientation, date, make, model,
    /// format, exif_fields, thumb_w, thumb_h, thumbnail, thumb_format.
    /// The entry's thumbnail is left empty and returned still encoded, for the caller to decode.
    static func entry(path: String, row r: Row, offset o: Int, size: Int, mtime: Int64) -> (CatalogEntry, StoredThumbnail?) {
        let meta = ImageMetadata(format: ImageFormat(rawValue: r.string(o + 10) ?? "") ?? .jpeg,
                                 width: r.int(o + 4) ?? 0, height: r.int(o + 5) ?? 0, orientation: r.int(o + 6) ?? 1,
                                 dateTimeOriginal: r.string(o + 7), cameraMake: r.string(o + 8), cameraModel: r.string(o + 9),
                                 exifFieldCount: r.int(o + 11) ?? 0)
        let tw = r.int(o + 12) ?? 0, th = r.int(o + 13) ?? 0
        let thumb = r.blob(o + 14).flatMap { bytes in
            StoredThumbnail.Format(rawValue: r.string(o + 15) ?? "").map { StoredThumbnail(format: $0, width: tw, height: th, bytes: bytes) }
        }
        let entry = CatalogEntry(path: path, contentHash: r.string(o) ?? "", fileSize: size,
                                 modified: Date(timeIntervalSince1970: Double(mtime) / 1e9),
                                 metadata: meta, embedding: Blob.floats(r.blob(o + 1) ?? []),
                                 topClasses: Blob.topClasses(r.blob(o + 2) ?? []), signature: r.blob(o + 3) ?? [],
                                 thumbnail: RGBImage(width: 0, height: 0, pixels: []))
        return (entry, thumb)
    }

    /// A damaged row (unknown format, sizes and bytes that disagree) degrades to an empty thumbnail.
    static func cachedThumbnail(width: Int, height: Int, format: String?, bytes: [UInt8]?) -> RGBImage {
        guard let bytes, let f = StoredThumbnail.Format(rawValue: format ?? "") else { return RGBImage(width: 0, height: 0, pixels: []) }
        return StoredThumbnail(format: f, width: width, height: height, bytes: bytes).decoded()
    }

    /// The cached thumbnail of one content hash (for interfaces that load them lazily).
    public func thumbnail(contentHash: String) throws -> RGBImage? {
        try locked {
            try db.query("SELECT thumb_width, thumb_height, thumbnail, thumb_format FROM analyses WHERE content_hash = ? AND model = ?",
                         contentHash, model) { r in
                Library.cachedThumbnail(width: r.int(0) ?? 0, height: r.int(1) ?? 0, format: r.string(3), bytes: r.blob(2))
            }.first
        }
    }

    /// `PRAGMA integrity_check` of the cache (["ok"] when healthy).
    public func integrityCheck() throws -> [String] { try locked { try db.integrityCheck() } }
}

/// Little-endian encodings of the BLOB columns.
enum Blob {
    static func bytes(_ floats: [Float]) -> [UInt8] {
        var out = [UInt8](); out.reserveCapacity(floats.count * 4)
        for f in floats { withUnsafeBytes(of: f.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }
    static func floats(_ b: [UInt8]) -> [Float] {
        let n = b.count / 4
        return b.withUnsafeBytes { raw in
            (0..<n).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }
    static func bytes(_ top: [(index: Int, probability: Float)]) -> [UInt8] {
        var out = [UInt8]()
        for t in top {
            withUnsafeBytes(of: Int32(t.index).littleEndian) { out.append(contentsOf: $0) }
            withUnsafeBytes(of: t.probability.bitPattern.littleEndian) { out.append(contentsOf: $0) }
        }
        return out
    }
    static func topClasses(_ b: [UInt8]) -> [(index: Int, probability: Float)] {
        let n = b.count / 8
        return b.withUnsafeBytes { raw in
            (0..<n).map { i in
                (Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int32.self))),
                 Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8 + 4, as: UInt32.self))))
            }
        }
    }
}
