import XCTest
@testable import Catalog
import Imaging
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The real binary with the real model on generated photos: kill -9 and resume, Ctrl-C, renames,
/// hostile files. Skipped only while the model is not installed (`make weights`).
final class EndToEndTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        let models = (try? FileManager.default.contentsOfDirectory(atPath: TestPaths.modelsDir.path)) ?? []
        let env = ProcessInfo.processInfo.environment["CORRAL_MODELS"]
        let envModels = env.flatMap { try? FileManager.default.contentsOfDirectory(atPath: $0) } ?? []
        try XCTSkipUnless((models + envModels).contains { $0.hasPrefix("efficientnet-lite0") },
                          "efficientnet-lite0 is not installed (make weights)")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: CorralBinary.url.path), "corral binary not built")
        root = try TestPaths.makeTempDir("catalog-e2e")
    }
    override func tearDownWithError() throws { if let root { try? FileManager.default.removeItem(at: root) } }

    /// Distinct camera-like JPEGs: smooth gradients with per-image colours and a few blocks.
    static func writePhotos(_ dir: URL, count: Int, width: Int = 640, height: Int = 480, seed: UInt64 = 1) throws -> [String] {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var rng = SeededRNG(seed: seed)
        var paths: [String] = []
        for i in 0..<count {
            let a = Int(rng.next() % 256), b = Int(rng.next() % 256), c = Int(rng.next() % 256)
            var px = [UInt8](repeating: 0, count: width * height * 3)
            let bx = Int(rng.next() % UInt64(width / 2)), by = Int(rng.next() % UInt64(height / 2))
            for y in 0..<height { for x in 0..<width {
                let inBlock = x >= bx && x < bx + width / 3 && y >= by && y < by + height / 3
                px[(y * width + x) * 3] = UInt8((a + x * 255 / width) % 256)
                px[(y * width + x) * 3 + 1] = UInt8(inBlock ? 255 - b : (b + y * 255 / height) % 256)
                px[(y * width + x) * 3 + 2] = UInt8((c + (x + y) / 4) % 256)
            } }
            let p = dir.appendingPathComponent(String(format: "photo%03d.jpg", i)).path
            try Data(encodeJPEG(RGBImage(width: width, height: height, pixels: px), quality: 88)).write(to: URL(fileURLWithPath: p))
            paths.append(p)
        }
        return paths
    }

    struct Summary: Decodable { let images, embedded, unchanged, rehashed, failed: Int; let cancelled: Bool }

    func scan(_ args: [String], cache: URL) throws -> (CorralBinary.Output, Summary?) {
        let out = try CorralBinary.run(["scan"] + args + ["--cache", cache.path, "--format", "json", "--quiet"])
        return (out, try? JSONDecoder().decode(Summary.self, from: Data(out.stdout.utf8)))
    }

    func analysisCount(_ cache: URL) -> Int {
        let path = cache.appendingPathComponent(CacheLocation.databaseName).path
        guard FS.exists(path), let db = try? Database(path: path, readOnly: true) else { return 0 }
        return Int((try? db.scalar("SELECT COUNT(*) FROM analyses"))??.int64 ?? 0)
    }

    /// (path -> (hash, embedding)) from a cache.
    func contents(_ cache: URL) throws -> [String: (String, [Float])] {
        let db = try Database(path: cache.appendingPathComponent(CacheLocation.databaseName).path)
        var out: [String: (String, [Float])] = [:]
        for (p, h, e) in try db.query("SELECT f.path, f.content_hash, a.embedding FROM files f JOIN analyses a USING (content_hash)", row: {
            ($0.string(0) ?? "", $0.string(1) ?? "", Blob.floats($0.blob(2) ?? []))
        }) { out[p] = (h, e) }
        return out
    }

    /// Starts `corral scan`, waits until at least `rows` analyses are committed, sends `signal`.
    func interruptedScan(_ dir: URL, cache: URL, rows: Int, signal sig: Int32) throws -> (status: Int32, stderr: String, reason: Process.TerminationReason) {
        let p = Process()
        p.executableURL = CorralBinary.url
        p.arguments = ["scan", dir.path, "--cache", cache.path, "--quiet", "--batch", "4"]
        let err = Pipe(); p.standardError = err; p.standardOutput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        while analysisCount(cache) < rows && p.isRunning && Date() < deadline { usleep(5_000) }
        XCTAssertTrue(p.isRunning, "scan finished before it could be interrupted; use more images")
        kill(p.processIdentifier, sig)
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: errData, as: UTF8.self), p.terminationReason)
    }

    func testKill9MidScanThenResumeEqualsAnUninterruptedScan() throws {
        let photos = root.appendingPathComponent("photos")
        let paths = try Self.writePhotos(photos, count: 160)
        let cache = root.appendingPathComponent("cache")
        let killed = try interruptedScan(photos, cache: cache, rows: 8, signal: SIGKILL)
        XCTAssertEqual(killed.reason, .uncaughtSignal)
        let db = try Database(path: cache.appendingPathComponent(CacheLocation.databaseName).path)
        XCTAssertEqual(try db.integrityCheck(), ["ok"])
        let kept = analysisCount(cache)
        XCTAssertGreaterThanOrEqual(kept, 8)
        XCTAssertLessThan(kept, paths.count)

        let (resumed, summary) = try scan([photos.path], cache: cache)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let s = try XCTUnwrap(summary, resumed.stdout)
        XCTAssertEqual(s.images, paths.count)
        XCTAssertGreaterThanOrEqual(s.unchanged, kept)                       // every committed image is reused ...
        XCTAssertEqual(s.embedded, paths.count - s.unchanged)                 // ... and only the rest is embedded
        XCTAssertEqual(try db.integrityCheck(), ["ok"])

        let reference = root.appendingPathComponent("reference")
        let (full, _) = try scan([photos.path], cache: reference)
        XCTAssertEqual(full.status, 0, full.stderr)
        let a = try contents(cache), b = try contents(reference)
        XCTAssertEqual(Set(a.keys), Set(paths))
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (p, (h, e)) in a {
            XCTAssertEqual(h, b[p]?.0)
            XCTAssertGreaterThan(cosineSimilarity(e, b[p]!.1), 0.9999, p)
        }
    }

    func testCtrlCStopsCleanlyAndKeepsFinishedWork() throws {
        let photos = root.appendingPathComponent("photos")
        let paths = try Self.writePhotos(photos, count: 160, seed: 2)
        let cache = root.appendingPathComponent("cache")
        let r = try interruptedScan(photos, cache: cache, rows: 8, signal: SIGINT)
        XCTAssertEqual(r.reason, .exit)
        XCTAssertEqual(r.status, 130)
        XCTAssertTrue(r.stderr.contains("interrupted"), r.stderr)
        let kept = analysisCount(cache)
        XCTAssertGreaterThanOrEqual(kept, 8)
        let (again, s) = try scan([photos.path], cache: cache)
        XCTAssertEqual(again.status, 0)
        XCTAssertEqual(s?.images, paths.count)
        XCTAssertEqual(s?.embedded, paths.count - kept)
    }

    func testRenameAndMoveAreNotReembeddedModificationIs() throws {
        let photos = root.appendingPathComponent("photos")
        let paths = try Self.writePhotos(photos, count: 6, seed: 3)
        let cache = root.appendingPathComponent("cache")
        let (first, s1) = try scan([photos.path], cache: cache)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(s1?.embedded, 6)
        let fm = FileManager.default
        try fm.moveItem(atPath: paths[0], toPath: photos.appendingPathComponent("renamed.jpg").path)
        try fm.createDirectory(at: photos.appendingPathComponent("2024/summer"), withIntermediateDirectories: true)
        try fm.moveItem(atPath: paths[1], toPath: photos.appendingPathComponent("2024/summer/moved.jpg").path)
        let (img, _) = try decodeImage(path: paths[2])
        try Data(encodeJPEG(Imaging.resize(img, width: 320, height: 240), quality: 70)).write(to: URL(fileURLWithPath: paths[2]))
        let (second, s2) = try scan([photos.path], cache: cache)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(s2?.images, 6)
        XCTAssertEqual(s2?.embedded, 1)
        XCTAssertEqual(s2?.rehashed, 2)
        XCTAssertEqual(s2?.unchanged, 3)
    }

    /// Good images among hostile ones: all good processed, each bad named once with a reason, exit 2,
    /// nothing else on stderr (no libjpeg/libpng chatter). Run as `nobody` (setpriv) so that a
    /// mode-000 file really is unreadable: as root, permissions are not enforced.
    func testHostileFilesAreNamedOnceAndNothingElseIsPrinted() throws {
        let photos = root.appendingPathComponent("photos")
        let good = try Self.writePhotos(photos, count: 5, seed: 4)
        let fm = FileManager.default
        func p(_ n: String) -> String { photos.appendingPathComponent(n).path }
        let full = try Data(contentsOf: URL(fileURLWithPath: good[0]))
        try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: p("truncated.jpg")))
        var rng = SeededRNG(seed: 5)
        try Data((0..<4000).map { _ in UInt8(truncatingIfNeeded: rng.next()) | 1 }).write(to: URL(fileURLWithPath: p("random.jpg")))
        fm.createFile(atPath: p("empty.jpg"), contents: Data())
        var lying = try encodePNG(RGBImage(width: 8, height: 8, pixels: [UInt8](repeating: 90, count: 192)))
        lying.replaceSubrange(16..<24, with: [0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0])   // claims 100000 x 100000
        try Data(lying).write(to: URL(fileURLWithPath: p("huge.png")))
        try fm.createSymbolicLink(atPath: p("loop.jpg"), withDestinationPath: p("loop.jpg"))
        try full.write(to: URL(fileURLWithPath: p("secret.jpg")))
        chmod(p("secret.jpg"), 0)
        let bad = ["truncated.jpg", "random.jpg", "empty.jpg", "huge.png", "loop.jpg", "secret.jpg"].map(p)

        let cache = root.appendingPathComponent("cache")
        try fm.createDirectory(at: cache, withIntermediateDirectories: true)
        chmod(root.path, 0o755); chmod(photos.path, 0o755); chmod(cache.path, 0o777)
        let asNobody = FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") && getuid() == 0
        let proc = Process()
        let args = ["scan", photos.path, "--cache", cache.path, "--format", "json", "--quiet"]
        if asNobody {
            proc.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            proc.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", CorralBinary.url.path] + args
        } else {
            proc.executableURL = CorralBinary.url; proc.arguments = args
        }
        let out = Pipe(), err = Pipe()
        proc.standardOutput = out; proc.standardError = err
        try proc.run()
        // Drain stderr on another thread so a chatty child never blocks on a full pipe.
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let g = DispatchGroup(); g.enter()
        DispatchQueue.global().async { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); g.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        g.wait(); proc.waitUntilExit()
        let stderr = String(decoding: errBox.data, as: UTF8.self)

        XCTAssertEqual(proc.terminationStatus, 2, stderr)
        let s = try XCTUnwrap(try? JSONDecoder().decode(Summary.self, from: outData), String(decoding: outData, as: UTF8.self))
        XCTAssertEqual(s.images, good.count + (asNobody ? 0 : 1))   // as root the mode-000 copy is readable
        let lines = stderr.split(separator: "\n").map(String.init)
        for b in bad where asNobody || !b.hasSuffix("secret.jpg") {
            let mine = lines.filter { $0.hasPrefix("corral: \(b): ") }
            XCTAssertEqual(mine.count, 1, "\(b) in:\n\(stderr)")
            XCTAssertGreaterThan(mine.first.map { $0.count - "corral: \(b): ".count } ?? 0, 3)
        }
        if asNobody { XCTAssertTrue(stderr.contains("corral: \(p("secret.jpg")): permission denied"), stderr) }
        // Every stderr line is one of ours: no library output.
        XCTAssertEqual(lines.filter { !$0.hasPrefix("corral: ") }, [], stderr)
        XCTAssertEqual(lines.count, asNobody ? bad.count : bad.count - 1, stderr)
    }

    /// `corral export` embeds what is new, clusters, and writes groups atomically; identical
    /// copies form a duplicate group; a second export computes nothing.
    func testExportWritesGroupListsFromTheCache() throws {
        let photos = root.appendingPathComponent("photos")
        let paths = try Self.writePhotos(photos, count: 5, seed: 6)
        let copy = photos.appendingPathComponent("copy.jpg").path
        try FileManager.default.copyItem(atPath: paths[0], toPath: copy)
        let cache = root.appendingPathComponent("cache")
        let txt = root.appendingPathComponent("groups.txt").path
        let r = try CorralBinary.run(["export", photos.path, "--cache", cache.path, "--format", "txt", "--out", txt, "--k", "2", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let groups = try String(contentsOfFile: txt, encoding: .utf8).components(separatedBy: "\n\n")
            .map { $0.split(separator: "\n").map(String.init) }
        // Two clusters first, then the duplicate groups. The synthetic gradients may also be called
        // "similar" to each other by the embedding, so only the identical pair's group is pinned down.
        XCTAssertGreaterThanOrEqual(groups.count, 3, "two clusters and at least one duplicate group")
        XCTAssertEqual(Set(groups[0] + groups[1]), Set(paths + [copy]))
        let withCopy = groups.dropFirst(2).filter { $0.contains(copy) }
        XCTAssertEqual(withCopy.count, 1, "the copy is in exactly one duplicate group: \(groups)")
        XCTAssertTrue(withCopy.first?.contains(paths[0]) ?? false, "with its original: \(groups)")
        let (again, s) = try scan([photos.path], cache: cache)
        XCTAssertEqual(again.status, 0)
        XCTAssertEqual(s?.embedded, 0)
        XCTAssertEqual(s?.unchanged, 6)
        let bad = try CorralBinary.run(["export", photos.path, "--cache", cache.path, "--format", "links", "--out", photos.path, "--quiet"])
        XCTAssertEqual(bad.status, 1, "an existing non-empty folder is not replaced")
        XCTAssertTrue(bad.stderr.contains("not overwriting"), bad.stderr)
    }
}
