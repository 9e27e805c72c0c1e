/// A key as the interface sees it, independent of curses key codes.
public enum Key: Hashable, Sendable {
    case char(Character)
    case ctrl(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, backspace, delete, tab, backTab

    /// How the help screen and the hint line spell it.
    public var label: String {
        switch self {
        case .char(" "): return "space"
        case .char(let c): return String(c)
        case .ctrl(let c): return "^" + String(c).uppercased()
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .home: return "Home"
        case .end: return "End"
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .backspace: return "Bksp"
        case .delete: return "Del"
        case .tab: return "Tab"
        case .backTab: return "S-Tab"
        }
    }
}

public struct TerminalSize: Hashable, Sendable {
    public var cols: Int
    public var rows: Int
    public init(cols: Int, rows: Int) { self.cols = cols; self.rows = rows }
}

/// Everything that can happen to the interface: keys, resizes, and results of background work.
public enum Message: Sendable {
    case key(Key)
    case resize(TerminalSize)
    case scanProgress(ScanProgressInfo)
    case scanFinished(ScanOutcome)
    case scanFailed(String)
    case clustersReady(Clustering, generation: Int)
    case clusteringFailed(String, generation: Int)
    case duplicatesReady([DuplicateSet], generation: Int)
    case duplicatesFailed(String, generation: Int)
    case similarReady(id: Int, [SimilarImage])
    case fileActionDone(FileActionOutcome)
    case undoDone(UndoOutcome?)
    case exported(path: String, format: ExportFormat)
    case serviceFailed(String)
    /// A fire-and-forget effect (a flag saved) finished; nothing changes.
    case acknowledged
}

/// Work the update function asks the runtime to do; results come back as messages.
public enum Effect: Equatable, Sendable {
    case scan
    case cluster(k: Int?, generation: Int)
    case findDuplicates(generation: Int)
    case similar(id: Int)
    case setFlag(ImageFlag?, ids: [Int])
    case setNotDuplicates([Int], Bool)
    case trash(ids: [Int])
    case move(ids: [Int], folder: String)
    case undoFileAction
    case export(ExportFormat, path: String, Clustering?, [DuplicateSet])
}
