import Foundation
import CImageCodecs  // the C shim's thread-priority helper (Swift cannot call gettid)

/// A blocking FIFO with a fixed capacity: decode workers wait when inference falls behind, so at
/// most `capacity` decoded images are ever in memory, however large the folder.
final class BoundedQueue<T> {
    private let cond = NSCondition()
    private var items: [T?]
    private var head = 0, count = 0
    private var producers: Int
    private var closed = false

    init(capacity: Int, producers: Int) {
        items = Array(repeating: nil, count: max(1, capacity))
        self.producers = producers
    }

    /// False when the queue was closed (the consumer gave up): the producer should stop.
    func put(_ x: T) -> Bool {
        cond.lock(); defer { cond.unlock() }
        while count == items.count && !closed { cond.wait() }
        if closed { return false }
        items[(head + count) % items.count] = x
        count += 1
        cond.broadcast()
        return true
    }

    /// Next item, or nil once every producer finished and the queue is empty (or it was closed).
    func take() -> T? {
        cond.lock(); defer { cond.unlock() }
        while count == 0 && producers > 0 && !closed { cond.wait() }
        if count == 0 || closed { return nil }
        let x = items[head]; items[head] = nil
        head = (head + 1) % items.count; count -= 1
        cond.broadcast()
        return x
    }

    func producerFinished() { cond.lock(); producers -= 1; cond.broadcast(); cond.unlock() }
    func close() { cond.lock(); closed = true; cond.broadcast(); cond.unlock() }
}

/// What a decode worker made of one file.
enum ScanOutcome {
    case reused(WalkedFile, hash: String)                 // content already analysed (moved, renamed, touched)
    case prepared(WalkedFile, hash: String, PreparedImage)
    case sameContentInFlight(WalkedFile, hash: String)    // another file with these bytes is being analysed now
    case failed(path: String, hash: String?, reason: String)
}

extension Library {
    /// Walks `paths`, reads only files that are new or changed, embeds only content never seen
    /// before, and returns every image's entry. Committed batch by batch: a crash or kill loses at
    /// most the batch in flight, and the next scan continues from there.
    public func scan(paths: [String], options: ScanOptions = ScanOptions(),
                     progress: ((ScanProgress) -> Void)? = nil) throws -> ScanReport {
        let start = Date()
        let cancelled = { options.cancellation?.isCancelled ?? false }
        progress?(ScanProgress(phase: .walking, done: 0, total: 0, rate: 0, eta: nil, embedded: 0))
        let walk = FolderWalk(options: WalkOptions(includeHidden: options.includeHidden)).walk(paths, cancelled: cancelled)
        var failures = walk.failures.map { (path: $0.path, reason: $0.reason) }
        var stats = ScanStats()

        // Split into files known unchanged (not even read) and files to read.
        let known = try knownHashes()
        var work: [WalkedFile] = []
        var unchanged: [String] = []
        try locked { try db.transaction {
            for f in walk.files {
                let row = try db.query("SELECT size, mtime_ns, content_hash FROM files WHERE path = ?", f.path) {
                    (size: $0.int(0) ?? -1, mtime: $0.int64(1) ?? -1, hash: $0.string(2) ?? "")
                }.first
                if let row, row.size == f.stat.size, row.mtime == f.stat.mtimeNanoseconds, known.contains(row.hash) {
                    unchanged.append(f.path)
                } else {
                    work.append(f)
                }
            }
            let now = Date().timeIntervalSince1970
            for p in unchanged { try db.run("UPDATE files SET last_seen = ? WHERE path = ?", now, p) }
        } }
        stats.unchanged = unchanged.count
        let total = walk.files.count
        progress?(ScanProgress(phase: .scanning, done: unchanged.count, total: total, rate: 0,
                               eta: work.isEmpty ? 0 : nil, embedded: 0))

        var wasCancelled = cancelled()
        if !work.isEmpty && !wasCancelled {
            let run = try PipelineRun(library: self, work: work, known: known, options: options,
                                      doneBefore: unchanged.count, total: total, progress: progress)
            let t0 = Date(), cpu0 = processCPUSeconds()
            run.execute()
            stats.pipelineSeconds = Date().timeIntervalSince(t0)
            stats.pipelineCPUSeconds = processCPUSeconds() - cpu0
            failures += run.failures
            stats.embedded = run.embedded
            stats.rehashed = run.rehashed
            wasCancelled = run.cancelled
        }

        let entries = try loadEntries(walk.files, includeThumbnails: options.includeThumbnails)
        stats.images = entries.count
        stats.failed = failures.count
        stats.seconds = Date().timeIntervalSince(start)
        let finalRate = stats.pipelineSeconds > 0 ? Double(work.count) / stats.pipelineSeconds : 0
        progress?(ScanProgress(phase: .finished, done: total, total: total, rate: finalRate, eta: 0, embedded: stats.embedded))
        return ScanReport(entries: entries, failures: failures, stats: stats, cancelled: wasCancelled)
    }

    func knownHashes() throws -> Set<String> {
        try locked { Set(try db.query("SELECT content_hash FROM analyses WHERE model = ?", model) { $0.string(0) ?? "" }) }
    }

    /// Commits analysed images and file identities in one transaction.
    func commit(analysed: [(WalkedFile, String, PreparedImage, [Float], [(index: Int, probability: Float)])],
                identities: [(WalkedFile, String)]) throws {
        guard !analysed.isEmpty || !identities.isEmpty else { return }
        try locked {
            let now = Date().timeIntervalSince1970
            try db.transaction {
                for (_, hash, p, embedding, top) in analysed {
                    let m = p.metadata
                    let t = p.storedThumbnail ?? StoredThumbnail(encoding: p.thumbnail)
                    try db.run("""
                        INSERT OR REPLACE INTO analyses(content_hash, model, embedding, top_classes, signature, width, height,
                            orientation, date, camera_make, camera_model, format, thumb_width, thumb_height, thumbnail, created,
                            exif_fields, thumb_format) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                        """, hash, model, Blob.bytes(embedding), Blob.bytes(top), p.signature, m.width, m.height,
                               m.orientation, m.dateTimeOriginal, m.cameraMake, m.cameraModel, m.format.rawValue,
                               t.width, t.height, t.bytes, now, m.exifFieldCount, t.format.rawValue)
                }
                for (f, hash) in analysed.map({ ($0.0, $0.1) }) + identities {
                    try db.run("INSERT OR REPLACE INTO files(path, size, mtime_ns, content_hash, last_seen) VALUES (?,?,?,?,?)",
                               f.path, f.stat.size, f.stat.mtimeNanoseconds, hash, now)
                }
            }
        }
    }
}

/// One scan's pipeline: decode workers -> bounded queue -> this thread (inference + commits).
final class PipelineRun {
    let library: Library
    let work: [WalkedFile]
    let known: Set<String>
    let options: ScanOptions
    let progress: ((ScanProgress) -> Void)?
    let analyzer: ImageAnalyzer
    let decodeThreads: Int

    private let lock = NSLock()
    private var nextIndex = 0
    private var claimed = Set<String>()

    var failures: [(path: String, reason: String)] = []
    var embedded = 0
    var rehashed = 0
    var cancelled = false
    private var done: Int
    private let total: Int
    private let start = Date()
    private var lastReport = Date.distantPast
    private var processedThisRun = 0

    init(library: Library, work: [WalkedFile], known: Set<String>, options: ScanOptions,
         doneBefore: Int, total: Int, progress: ((ScanProgress) -> Void)?) throws {
        self.library = library; self.work = work; self.known = known; self.options = options
        self.progress = progress; self.done = doneBefore; self.total = total
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        decodeThreads = max(1, options.decodeThreads ?? cores)
        analyzer = try library.analyzerFactory(library.model, max(1, options.inferenceThreads ?? cores))
    }

    private func claimNext() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard nextIndex < work.count else { return nil }
        defer { nextIndex += 1 }
        return nextIndex
    }

    /// True when this worker is the first to see these bytes in this run.
    private func claim(_ hash: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return claimed.insert(hash).inserted
    }

    private func process(_ f: WalkedFile) -> ScanOutcome {
        let data: [UInt8]
        do { data = try FS.readFile(f.path) } catch {
            return .failed(path: f.path, hash: nil, reason: failureReason(error, path: f.path))
        }
        if data.isEmpty { return .failed(path: f.path, hash: nil, reason: "empty file") }
        let hash = ContentHasher.hash(data)
        if known.contains(hash) { return .reused(f, hash: hash) }
        guard claim(hash) else { return .sameContentInFlight(f, hash: hash) }
        do {
            let p = try analyzer.prepare(data: data, path: f.path)
            guard p.input.count == analyzer.inputElements else {
                return .failed(path: f.path, hash: hash, reason: "internal: model input has \(p.input.count) values, expected \(analyzer.inputElements)")
            }
            return .prepared(f, hash: hash, p)
        } catch {
            return .failed(path: f.path, hash: hash, reason: failureReason(error, path: f.path))
        }
    }

    func execute() {
        let batch = max(1, options.batchSize ?? analyzer.batchSize)
        let queue = BoundedQueue<ScanOutcome>(capacity: batch * 2, producers: decodeThreads)
        let workersDone = DispatchGroup()
        for i in 0..<decodeThreads {
            workersDone.enter()
            let t = Thread { [self] in
                _ = corral_lower_thread_priority(Int32(options.decodeNice))  // best effort
                while !(options.cancellation?.isCancelled ?? false), let idx = claimNext() {
                    if !queue.put(process(work[idx])) { break }
                }
                queue.producerFinished()
                workersDone.leave()
            }
            t.name = "corral-decode-\(i)"
            t.stackSize = 4 << 20
            t.start()
        }

        var pending: [(WalkedFile, String, PreparedImage)] = []
        var identities: [(WalkedFile, String)] = []
        var waitingOnContent: [String: [WalkedFile]] = [:]   // same bytes as an image being analysed
        var analysedHashes = Set<String>()
        var failedHashes: [String: String] = [:]

        func flush() {
            var analysed: [(WalkedFile, String, PreparedImage, [Float], [(index: Int, probability: Float)])] = []
            if !pending.isEmpty {
                let n = pending.count
                let per = analyzer.inputElements
                var input = [Float](repeating: 0, count: n * per)
                input.withUnsafeMutableBufferPointer { buf in
                    for (i, p) in pending.enumerated() {
                        p.2.input.withUnsafeBufferPointer { src in
                            (buf.baseAddress! + i * per).update(from: src.baseAddress!, count: per)
                        }
                    }
                }
                do {
                    let results = try analyzer.embed(batch: input, count: n)
                    guard results.count == n else { throw FileError(path: analyzer.modelName, reason: "model returned \(results.count) results for \(n) images") }
                    for (i, p) in pending.enumerated() {
                        analysed.append((p.0, p.1, p.2, results[i].embedding, topClasses(results[i].probabilities)))
                    }
                } catch {
                    for p in pending {
                        failures.append((p.0.path, "inference failed: \(error)"))
                        failedHashes[p.1] = "inference failed: \(error)"
                        for other in waitingOnContent.removeValue(forKey: p.1) ?? [] {
                            failures.append((other.path, "inference failed: \(error)"))
                        }
                    }
                }
            }
            var rows = identities
            for a in analysed {
                analysedHashes.insert(a.1)
                for other in waitingOnContent.removeValue(forKey: a.1) ?? [] { rows.append((other, a.1)) }
            }
            do {
                try library.commit(analysed: analysed, identities: rows)
                embedded += analysed.count
            } catch {
                for a in analysed { failures.append((a.0.path, "cache write failed: \(error)")) }
                for r in rows { failures.append((r.0.path, "cache write failed: \(error)")) }
            }
            pending.removeAll(keepingCapacity: true)
            identities.removeAll(keepingCapacity: true)
        }

        while let outcome = queue.take() {
            switch outcome {
            case .reused(let f, let hash):
                identities.append((f, hash)); rehashed += 1
            case .prepared(let f, let hash, let p):
                pending.append((f, hash, p))
            case .sameContentInFlight(let f, let hash):
                if analysedHashes.contains(hash) { identities.append((f, hash)) }
                else if let reason = failedHashes[hash] { failures.append((f.path, reason)) }
                else { waitingOnContent[hash, default: []].append(f) }
            case .failed(let path, let hash, let reason):
                failures.append((path, reason))
                if let hash {
                    failedHashes[hash] = reason
                    for other in waitingOnContent.removeValue(forKey: hash) ?? [] { failures.append((other.path, reason)) }
                }
            }
            done += 1; processedThisRun += 1
            if pending.count >= batch || identities.count >= 256 { flush() }
            report()
            if options.cancellation?.isCancelled ?? false { cancelled = true; queue.close(); break }
        }
        flush()
        workersDone.wait()
        if options.cancellation?.isCancelled ?? false { cancelled = true }
        for (_, files) in waitingOnContent { for f in files { failures.append((f.path, "not analysed (scan interrupted)")) } }
    }

    private func report() {
        guard let progress else { return }
        let now = Date()
        guard now.timeIntervalSince(lastReport) >= 0.1 || done == total else { return }
        lastReport = now
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(processedThisRun) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : nil
        progress(ScanProgress(phase: .scanning, done: done, total: total, rate: rate, eta: eta, embedded: embedded))
    }
}
