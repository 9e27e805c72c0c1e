import Foundation

/// Where the user is. The route is a stack: a root tab (clusters or duplicates) and what was opened
/// from it, so Esc always goes back to where the user came from.
public enum Route: Equatable, Sendable {
    case clusters
    case cluster(Int)
    case image(Int)
    case duplicates

    public var kind: ScreenKind {
        switch self {
        case .clusters: return .clusters
        case .cluster: return .cluster
        case .image: return .image
        case .duplicates: return .duplicates
        }
    }
}

public enum ScanState: Equatable, Sendable {
    case idle
    case running(ScanProgressInfo?)
    case finished
    case failed(String)

    var isRunning: Bool { if case .running = self { return true }; return false }
}

public enum ClusterSort: Equatable, Sendable { case size, name }

public enum Prompt: Equatable, Sendable {
    /// Live filter; `previous` is restored by Esc.
    case filter(previous: String)
    case exportFormat
    case exportPath(ExportFormat, text: String)
    case moveFolder(text: String)
    case confirm(PendingAction, message: String)
}

public enum PendingAction: Equatable, Sendable {
    case trash([Int])
    case move([Int], folder: String)
}

public struct StatusLine: Equatable, Sendable {
    public var text: String
    public var isError: Bool
}

/// One undoable step of this session.
public enum UndoEntry: Equatable, Sendable {
    /// Previous flags of the images that changed (nil = had no flag).
    case flags([Int: ImageFlag?])
    case notDuplicates([Int])
    case fileAction(count: Int)
}

/// What the interface needs to know about its surroundings, passed in because the UI module does no
/// I/O of its own.
public struct AppConfig: Equatable, Sendable {
    /// The folders being browsed, as shown in the title bar.
    public var title: String
    public var workingDirectory: String
    public var homeDirectory: String
    /// nil: pick k automatically.
    public var initialK: Int?
    public var similarCount: Int
    public init(title: String, workingDirectory: String, homeDirectory: String, initialK: Int? = nil, similarCount: Int = 8) {
        self.title = title; self.workingDirectory = workingDirectory; self.homeDirectory = homeDirectory
        self.initialK = initialK; self.similarCount = similarCount
    }
}

/// The whole state of the interface as one value: views are functions of it, and `update` is the
/// only way it changes, so every behaviour can be tested without a terminal.
public struct AppState: Equatable, Sendable {
    public var config: AppConfig
    public var size: TerminalSize
    public var theme: Theme
    public var route: [Route] = [.clusters]
    public var scan: ScanState = .idle
    public var images: [ImageInfo] = []
    public var failures: [ScanFailure] = []
    /// Images moved away (Trash or folder) in this session; hidden everywhere.
    public var removed: Set<Int> = []
    public var flags: [Int: ImageFlag] = [:]
    public var clustering: Clustering?
    /// nil: automatic k.
    public var requestedK: Int?
    public var clusteringPending = false
    public var clusterGeneration = 0
    public var duplicates: [DuplicateSet]?
    public var duplicatesPending = false
    public var duplicateGeneration = 0
    public var similar: [Int: [SimilarImage]] = [:]
    public var sort: ClusterSort = .size
    public var filter = ""
    public var prompt: Prompt?
    public var status: StatusLine?
    public var showHelp = false
    public var helpTop = 0
    public var undoStack: [UndoEntry] = []
    public var busy: String?
    public var shouldQuit = false

    // Cursors and scroll positions (first visible row) of each screen.
    public var clustersCursor = 0, clustersTop = 0
    public var clusterCursor = 0, clusterTop = 0
    public var similarCursor = 0
    public var dupCursor = 0, dupTop = 0, dupMember = 0

    public init(config: AppConfig, size: TerminalSize, theme: Theme = .standard) {
        self.config = config; self.size = size; self.theme = theme
        requestedK = config.initialK
    }

    public var screen: ScreenKind { route.last?.kind ?? .clusters }
    public var presentCount: Int { images.count - removed.count }

    /// True while the first scan runs (or failed) and there is nothing to browse yet.
    public var showsScanScreen: Bool {
        guard images.isEmpty else { return false }
        switch scan { case .running, .failed, .idle: return true; case .finished: return false }
    }

    public func image(_ id: Int) -> ImageInfo? { id >= 0 && id < images.count ? images[id] : nil }
    func isPresent(_ id: Int) -> Bool { id >= 0 && id < images.count && !removed.contains(id) }

    // MARK: Derived lists (what each screen shows, after removal, filter and sort)

    func matches(_ id: Int) -> Bool {
        guard !filter.isEmpty, let img = image(id) else { return true }
        return img.fileName.localizedCaseInsensitiveContains(filter)
    }

    func labelMatches(_ c: ImageCluster) -> Bool { filter.isEmpty || c.label.localizedCaseInsensitiveContains(filter) }

    /// Clusters with at least one present image, filtered by label or member name, sorted.
    public var visibleClusters: [ImageCluster] {
        guard let clustering else { return [] }
        var out: [ImageCluster] = []
        for var c in clustering.clusters {
            c.members = c.members.filter { isPresent($0) }
            if c.members.isEmpty { continue }
            if !isPresent(c.medoid) { c.medoid = c.members[0] }
            if labelMatches(c) || c.members.contains(where: { matches($0) }) { out.append(c) }
        }
        switch sort {
        case .size: out.sort { $0.members.count != $1.members.count ? $0.members.count > $1.members.count : $0.id < $1.id }
        case .name: out.sort { $0.label.localizedCaseInsensitiveCompare($1.label) == .orderedAscending || ($0.label == $1.label && $0.id < $1.id) }
        }
        return out
    }

    public func cluster(_ id: Int) -> ImageCluster? { clustering?.clusters.first { $0.id == id } }

    /// Members of a cluster on screen: all of them when the label matches the filter, else those
    /// whose file name does.
    public func visibleMembers(of clusterID: Int) -> [Int] {
        guard let c = cluster(clusterID) else { return [] }
        let present = c.members.filter { isPresent($0) }
        if labelMatches(c) { return present }
        return present.filter { matches($0) }
    }

    /// Duplicate groups that still have two present members, filtered by member name.
    public var visibleDuplicates: [DuplicateSet] {
        guard let duplicates else { return [] }
        var out: [DuplicateSet] = []
        for var g in duplicates {
            g.members = g.members.filter { isPresent($0.id) }
            guard g.members.count >= 2 else { continue }
            if !g.members.contains(where: { $0.id == g.keep }) { g.keep = g.members[0].id }
            if filter.isEmpty || g.members.contains(where: { matches($0.id) }) { out.append(g) }
        }
        return out
    }

    /// The member compared with the keeper in the duplicates screen: the one under the cursor, or
    /// the first non-keeper when the cursor is on the keeper.
    func comparedMember(in g: DuplicateSet) -> DuplicateMember? {
        let i = min(max(0, dupMember), g.members.count - 1)
        if g.members[i].id != g.keep { return g.members[i] }
        return g.members.first { $0.id != g.keep }
    }

    /// The images shown in the parent list of an image screen, for ←/→.
    func siblingList() -> [Int]? {
        guard route.count >= 2 else { return nil }
        switch route[route.count - 2] {
        case .cluster(let cid): return visibleMembers(of: cid)
        default: return nil
        }
    }
}

/// Grid geometry shared by update (paging, scrolling) and the views (drawing), so both agree.
public struct GridLayout: Equatable {
    public let columns: Int, rowsVisible: Int
    public let cardWidth: Int, cardHeight: Int
    public let thumbWidth: Int, thumbHeight: Int
    /// First screen row of the grid.
    public let top: Int
    public let captionLines: Int

    public init(size: TerminalSize, captionLines: Int) {
        let avail = max(1, size.rows - Chrome.reservedRows - 1)
        let widthCap = max(2, (size.cols / 5 - 2) / 2)
        var th = min(8, widthCap, avail / 2 - captionLines - 1)
        th = max(2, th)
        thumbHeight = th
        thumbWidth = th * 2
        cardWidth = thumbWidth + 2
        cardHeight = th + captionLines + 1
        columns = max(1, size.cols / cardWidth)
        rowsVisible = max(1, (avail + 1) / cardHeight)
        top = Chrome.contentTop + 1
        self.captionLines = captionLines
    }

    public var pageSize: Int { columns * rowsVisible }

    /// The first visible row that keeps `cursor` on screen, moving as little as possible.
    func scrolled(top current: Int, cursor: Int, count: Int) -> Int {
        let row = cursor / columns
        var t = current
        if row < t { t = row }
        if row >= t + rowsVisible { t = row - rowsVisible + 1 }
        let lastRow = max(0, (count - 1) / columns)
        return max(0, min(t, max(0, lastRow - rowsVisible + 1)))
    }
}

/// Fixed rows around the content: the title bar, the status line and the key hints.
public enum Chrome {
    public static let contentTop = 1
    public static let reservedRows = 3
    public static func contentHeight(_ size: TerminalSize) -> Int { max(0, size.rows - reservedRows) }
}
