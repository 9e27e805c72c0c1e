import Foundation
@testable import UI

/// A deterministic library for tests: synthetic pictures in a few colour families, clusters that
/// follow k, two duplicate groups, similarity by colour family. Records every call.
final class FakeLibrary: LibraryService {
    static let families: [(name: String, label: String, rgb: (Int, Int, Int))] = [
        ("beach", "seashore, coast", (70, 150, 230)),
        ("cat", "tabby, tiger cat", (200, 140, 60)),
        ("forest", "valley", (40, 160, 70)),
        ("city", "streetcar", (150, 150, 160)),
    ]

    let images: [ImageInfo]
    var calls: [String] = []
    var flags: [Int: ImageFlag] = [:]
    var notDuplicates: Set<[Int]> = []
    var moved: [[Int]] = []
    var failScan: String?
    var scanSteps = 3

    init(count: Int = 14) {
        var out: [ImageInfo] = []
        for i in 0..<count {
            let f = Self.families[i % Self.families.count]
            let n = i / Self.families.count + 1
            out.append(ImageInfo(
                id: i, path: "/photos/\(f.name)/\(f.name)-\(String(format: "%02d", n)).jpg",
                fileSize: 1_000_000 + 137_000 * i, width: 4000 - 100 * (i % 3), height: 3000 - 75 * (i % 3),
                format: "jpeg", captureDate: "2021:06:\(String(format: "%02d", 1 + i % 28)) 12:0\(i % 10):00",
                camera: i % 2 == 0 ? "Canon EOS 80D" : nil, exifFieldCount: 20 + i,
                topClasses: [ClassScore(label: f.label, probability: 0.62), ClassScore(label: "lakeside", probability: 0.21),
                             ClassScore(label: "sandbar", probability: 0.08)],
                thumbnail: Self.picture(family: i % Self.families.count, variant: i)))
        }
        images = out
    }

    /// A 32x24 picture: a colour-family gradient with a bright disc whose place depends on the variant.
    static func picture(family: Int, variant: Int) -> Thumbnail {
        let w = 32, h = 24
        let (r0, g0, b0) = families[family].rgb
        var px = [UInt8](repeating: 0, count: w * h * 3)
        let cx = 8 + (variant * 5) % 16, cy = 12
        for y in 0..<h {
            for x in 0..<w {
                let shade = 0.5 + 0.5 * Double(y) / Double(h)
                let inDisc = (x - cx) * (x - cx) + (y - cy) * (y - cy) < 25
                let i = (y * w + x) * 3
                px[i] = UInt8(inDisc ? 250 : Double(r0) * shade)
                px[i + 1] = UInt8(inDisc ? 240 : Double(g0) * shade)
                px[i + 2] = UInt8(inDisc ? 200 : Double(b0) * shade)
            }
        }
        return Thumbnail(width: w, height: h, pixels: px)
    }

    func scan(progress: @escaping (ScanProgressInfo) -> Void) throws -> ScanOutcome {
        calls.append("scan")
        for s in 1...scanSteps {
            progress(ScanProgressInfo(done: images.count * s / scanSteps, total: images.count, rate: 20, eta: 1, phase: "embedding"))
        }
        if let failScan { throw TestError(description: failScan) }
        return ScanOutcome(images: images, failures: [], flags: flags)
    }

    func clusters(k: Int?) throws -> Clustering {
        calls.append("clusters(\(k.map(String.init) ?? "auto"))")
        return Self.clustering(images: images.map(\.id), k: k)
    }

    static func clustering(images: [Int], k: Int?) -> Clustering {
        let kk = k ?? families.count
        var clusters: [ImageCluster] = []
        for c in 0..<kk {
            let members = images.filter { $0 % kk == c }
            guard !members.isEmpty else { continue }
            let label = kk == families.count ? families[c].label : "\(families[c % families.count].label) \(c)"
            clusters.append(ImageCluster(id: c, label: label, members: members, medoid: members[0]))
        }
        return Clustering(k: kk, automatic: k == nil, clusters: clusters)
    }

    static func duplicateSets() -> [DuplicateSet] {
        [DuplicateSet(keep: 1, reason: "largest resolution", members: [
            DuplicateMember(id: 1, verdict: .identical, similarity: 1), DuplicateMember(id: 5, verdict: .nearDuplicate, similarity: 0.97),
            DuplicateMember(id: 9, verdict: .nearDuplicate, similarity: 0.95)]),
         DuplicateSet(keep: 2, reason: "earliest capture date", members: [
            DuplicateMember(id: 2, verdict: .identical, similarity: 1), DuplicateMember(id: 6, verdict: .identical, similarity: 1)])]
    }

    func duplicateGroups() throws -> [DuplicateSet] {
        calls.append("duplicates")
        return Self.duplicateSets().compactMap { g in
            var g = g
            g.members.removeAll { m in m.id != g.keep && notDuplicates.contains([g.keep, m.id]) }
            g.members.removeAll { m in moved.joined().contains(m.id) }
            return g.members.count >= 2 ? g : nil
        }
    }

    func similar(to id: Int, count: Int) throws -> [SimilarImage] {
        calls.append("similar(\(id))")
        return images.filter { $0.id != id }
            .map { SimilarImage(id: $0.id, similarity: $0.id % 4 == id % 4 ? 0.9 - Float(abs($0.id - id)) / 100 : 0.4 - Float(abs($0.id - id)) / 100) }
            .sorted { $0.similarity > $1.similarity }.prefix(count).map { $0 }
    }

    func setFlag(_ flag: ImageFlag?, ids: [Int]) throws {
        calls.append("setFlag(\(flag?.rawValue ?? "none"), \(ids))")
        for id in ids { flags[id] = flag }
    }

    func setNotDuplicates(_ ids: [Int], _ value: Bool) throws {
        calls.append("notDuplicates(\(ids), \(value))")
        if value { notDuplicates.insert(ids) } else { notDuplicates.remove(ids) }
    }

    func trash(ids: [Int]) throws -> FileActionOutcome {
        calls.append("trash(\(ids))")
        moved.append(ids)
        return FileActionOutcome(moved: ids, destination: "the Trash")
    }

    func move(ids: [Int], to folder: String) throws -> FileActionOutcome {
        calls.append("move(\(ids), \(folder))")
        moved.append(ids)
        return FileActionOutcome(moved: ids, destination: folder)
    }

    func undoLastFileAction() throws -> UndoOutcome? {
        calls.append("undo")
        guard let last = moved.popLast() else { return nil }
        return UndoOutcome(restored: last, description: "Restored \(last.count) files.")
    }

    func export(format: ExportFormat, to path: String, clustering: Clustering?, duplicates: [DuplicateSet]) throws -> String {
        calls.append("export(\(format.rawValue), \(path), \(clustering?.clusters.count ?? 0), \(duplicates.count))")
        return path
    }
}

struct TestError: Error, CustomStringConvertible { let description: String }

/// A terminal that replays keys and records frames.
final class ScriptedTerminal: TerminalDevice {
    var size: TerminalSize
    var events: [TerminalEvent]
    var frames: [ScreenBuffer] = []
    var pendingSignal: Int32?
    /// Called before each event is handed out, to let background work land.
    var beforeEvent: (() -> Void)?

    init(size: TerminalSize, events: [TerminalEvent]) { self.size = size; self.events = events }

    func draw(_ buffer: ScreenBuffer) { frames.append(buffer) }

    func nextEvent(timeoutMilliseconds: Int) -> TerminalEvent? {
        beforeEvent?()
        if events.isEmpty { pendingSignal = 2; return nil }
        return events.removeFirst()
    }
}

extension AppState {
    static func fixture(cols: Int = 80, rows: Int = 24, theme: Theme = .standard) -> AppState {
        AppState(config: AppConfig(title: "/photos", workingDirectory: "/home/ann", homeDirectory: "/home/ann"),
                 size: TerminalSize(cols: cols, rows: rows), theme: theme)
    }

    /// A state with the fake library loaded: scan finished, clusters and duplicates ready.
    static func loaded(cols: Int = 80, rows: Int = 24, theme: Theme = .standard, k: Int? = nil) -> AppState {
        let lib = FakeLibrary()
        var s = fixture(cols: cols, rows: rows, theme: theme)
        s.requestedK = k
        s = update(s, .scanFinished(ScanOutcome(images: lib.images))).0
        s = update(s, .clustersReady(FakeLibrary.clustering(images: lib.images.map(\.id), k: k), generation: s.clusterGeneration)).0
        s = update(s, .duplicatesReady(FakeLibrary.duplicateSets(), generation: s.duplicateGeneration)).0
        s.status = nil
        return s
    }

    func pressing(_ keys: Key...) -> AppState {
        var s = self
        for k in keys { s = update(s, .key(k)).0 }
        return s
    }
}
