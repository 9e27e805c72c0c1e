import Foundation

/// The only place the state changes: a pure function of the old state and a message, returning the
/// new state and the work to start. No I/O here, so every key press is testable.
public func update(_ state: AppState, _ message: Message) -> (AppState, [Effect]) {
    var s = state
    var effects: [Effect] = []
    s.handle(message, &effects)
    s.clampCursors()
    return (s, effects)
}

/// The effects to start with: the first scan.
public func initialEffects(_ state: AppState) -> [Effect] { [.scan] }

extension AppState {
    /// The state as the first scan starts.
    public mutating func startScan() -> [Effect] {
        scan = .running(nil)
        return initialEffects(self)
    }
}

extension AppState {
    mutating func handle(_ message: Message, _ fx: inout [Effect]) {
        switch message {
        case .key(let key):
            handleKey(key, &fx)
        case .resize(let newSize):
            size = newSize
        case .scanProgress(let p):
            switch scan {
            case .idle, .running: scan = .running(p)
            case .finished, .failed: break   // a late event from a scan that already ended
            }
        case .scanFinished(let outcome):
            let rescan = !images.isEmpty
            images = outcome.images
            failures = outcome.failures
            flags = outcome.flags
            removed = []
            similar = [:]
            scan = .finished
            busy = nil
            if rescan {
                // Ids are re-assigned by a scan; anything remembered by id is stale.
                route = [route.first ?? .clusters]
                undoStack.removeAll { if case .fileAction = $0 { return false }; return true }
            }
            if images.isEmpty {
                clustering = nil; duplicates = []
            } else {
                clusterGeneration += 1; duplicateGeneration += 1
                clusteringPending = true; duplicatesPending = true
                fx.append(.cluster(k: requestedK.map { min($0, images.count) }, generation: clusterGeneration))
                fx.append(.findDuplicates(generation: duplicateGeneration))
            }
            if failures.isEmpty {
                setStatus("Scanned \(plural(images.count, "image")).")
            } else {
                setStatus("Scanned \(plural(images.count, "image")); \(failures.count) could not be read — first: \(failures[0].path): \(failures[0].reason)", error: true)
            }
        case .scanFailed(let reason):
            scan = .failed(reason)
            busy = nil
            // Without images the scan screen shows the reason itself.
            if !images.isEmpty { setStatus("Rescan failed: \(reason)", error: true) }
        case .clustersReady(let c, let generation):
            guard generation == clusterGeneration else { return }
            let hadClusters = clustering != nil
            clustering = c
            clusteringPending = false
            busy = nil
            // New clusters have new ids: leave a cluster that was open.
            if hadClusters, route.first == .clusters, route.count > 1 { route = [.clusters] }
            if hadClusters { setStatus("\(plural(c.clusters.count, "cluster")) (k = \(c.k)\(c.automatic ? ", automatic" : "")).") }
        case .clusteringFailed(let reason, let generation):
            guard generation == clusterGeneration else { return }
            clusteringPending = false
            busy = nil
            setStatus("Clustering failed: \(reason)", error: true)
        case .duplicatesReady(let groups, let generation):
            guard generation == duplicateGeneration else { return }
            duplicates = groups
            duplicatesPending = false
        case .duplicatesFailed(let reason, let generation):
            guard generation == duplicateGeneration else { return }
            duplicatesPending = false
            duplicates = duplicates ?? []
            setStatus("Finding duplicates failed: \(reason)", error: true)
        case .similarReady(let id, let list):
            similar[id] = list
        case .fileActionDone(let outcome):
            busy = nil
            removed.formUnion(outcome.moved)
            if !outcome.moved.isEmpty { undoStack.append(.fileAction(count: outcome.moved.count)) }
            let moved = "Moved \(plural(outcome.moved.count, "file")) to \(outcome.destination)"
            if outcome.failed.isEmpty {
                setStatus(moved + (outcome.moved.isEmpty ? "." : " · u undoes"))
            } else {
                setStatus(moved + "; \(outcome.failed.count) failed — \(outcome.failed[0].path): \(outcome.failed[0].reason)", error: true)
            }
            popRemovedImages()
            refreshDuplicates(&fx)
        case .undoDone(let outcome):
            busy = nil
            if let outcome {
                removed.subtract(outcome.restored)
                setStatus(outcome.description)
                refreshDuplicates(&fx)
            } else {
                setStatus("Nothing left to undo in the journal.")
            }
        case .exported(let path, let format):
            busy = nil
            let n = visibleClusters.count, d = visibleDuplicates.count
            setStatus("Exported \(plural(n, "cluster")) and \(plural(d, "duplicate group")) as \(format.rawValue) to \(path)")
        case .acknowledged:
            break
        case .serviceFailed(let reason):
            busy = nil
            setStatus(reason, error: true)
        }
    }

    mutating func setStatus(_ text: String, error: Bool = false) { status = StatusLine(text: text, isError: error) }

    // MARK: Keys

    mutating func handleKey(_ key: Key, _ fx: inout [Effect]) {
        if let prompt {
            handlePromptKey(key, prompt, &fx)
            return
        }
        status = nil
        if showHelp {
            switch key {
            case .char("?"), .escape, .backspace, .enter: showHelp = false
            case .char("q"), .ctrl("c"): shouldQuit = true
            case .up, .char("k"): helpTop = max(0, helpTop - 1)
            case .down, .char("j"): helpTop += 1
            case .pageUp: helpTop = max(0, helpTop - Chrome.contentHeight(size))
            case .pageDown, .char(" "): helpTop += Chrome.contentHeight(size)
            case .home, .char("g"): helpTop = 0
            default: break
            }
            return
        }
        if showsScanScreen {
            switch key {
            case .char("q"), .ctrl("c"): shouldQuit = true
            case .char("?"): showHelp = true; helpTop = 0
            case .char("r"):
                if case .failed = scan { scan = .running(nil); fx.append(.scan) }
            default: break
            }
            return
        }
        guard let action = KeyBindings.action(for: key, on: screen) else {
            if case .char(let c) = key, c != " " {
                setStatus("No action for '\(c)' here — ? shows the keys.")
            }
            return
        }
        perform(action, &fx)
    }

    mutating func perform(_ action: Action, _ fx: inout [Effect]) {
        switch action {
        case .quit: shouldQuit = true
        case .help: showHelp = true; helpTop = 0
        case .back: goBack()
        case .open: open(&fx)
        case .up, .down, .left, .right, .pageUp, .pageDown, .home, .end: move(action, &fx)
        case .switchTab: route = [route.first == .duplicates ? .clusters : .duplicates]
        case .showClusters: route = [.clusters]
        case .showDuplicates: route = [.duplicates]
        case .filter: prompt = .filter(previous: filter)
        case .moreClusters: changeK(by: 1, &fx)
        case .fewerClusters: changeK(by: -1, &fx)
        case .toggleAutoK: toggleAutoK(&fx)
        case .sort:
            sort = sort == .size ? .name : .size
            clustersCursor = 0; clustersTop = 0
            setStatus(sort == .size ? "Sorted by size (largest first)." : "Sorted by name.")
        case .keep: toggleFlag(.keep, &fx)
        case .reject: toggleFlag(.reject, &fx)
        case .keepSuggested: keepSuggested(&fx)
        case .notDuplicates: markNotDuplicates(&fx)
        case .undo: undo(&fx)
        case .trashRejected: prepareAction(folder: nil)
        case .moveRejected:
            if rejectedTargets().ids.isEmpty { prepareAction(folder: nil); return }
            prompt = .moveFolder(text: config.workingDirectory + "/rejected")
        case .export: prompt = .exportFormat
        case .rescan:
            if scan.isRunning { setStatus("Already scanning."); return }
            scan = .running(nil)
            busy = "Rescanning"
            fx.append(.scan)
        }
    }

    mutating func goBack() {
        if route.count > 1 { route.removeLast(); return }
        if !filter.isEmpty { filter = ""; setStatus("Filter cleared."); return }
        setStatus("q quits; ? shows the keys.")
    }

    mutating func open(_ fx: inout [Effect]) {
        switch route.last ?? .clusters {
        case .clusters:
            let list = visibleClusters
            guard clustersCursor < list.count else { return }
            route.append(.cluster(list[clustersCursor].id))
            clusterCursor = 0; clusterTop = 0
        case .cluster(let cid):
            let members = visibleMembers(of: cid)
            guard clusterCursor < members.count else { return }
            openImage(members[clusterCursor], &fx)
        case .image(let id):
            guard let list = similar[id]?.filter({ isPresent($0.id) }), similarCursor < list.count else {
                setStatus("No similar image to open."); return
            }
            openImage(list[similarCursor].id, &fx)
        case .duplicates:
            let groups = visibleDuplicates
            guard dupCursor < groups.count else { return }
            let g = groups[dupCursor]
            openImage(g.members[min(dupMember, g.members.count - 1)].id, &fx)
        }
    }

    mutating func openImage(_ id: Int, _ fx: inout [Effect]) {
        route.append(.image(id))
        similarCursor = 0
        if similar[id] == nil { fx.append(.similar(id: id)) }
    }

    mutating func move(_ action: Action, _ fx: inout [Effect]) {
        switch route.last ?? .clusters {
        case .clusters:
            let grid = GridLayout(size: size, captionLines: 2)
            clustersCursor = gridMove(action, clustersCursor, count: visibleClusters.count, grid: grid)
        case .cluster(let cid):
            let grid = GridLayout(size: size, captionLines: 1)
            clusterCursor = gridMove(action, clusterCursor, count: visibleMembers(of: cid).count, grid: grid)
        case .image(let id):
            switch action {
            case .left, .right:
                guard let siblings = siblingList(), !siblings.isEmpty else { return }
                let i = siblings.firstIndex(of: id) ?? clusterCursor
                let j = action == .left ? i - 1 : i + 1
                guard j >= 0, j < siblings.count else { return }
                clusterCursor = j
                route.removeLast()
                openImage(siblings[j], &fx)
            default:
                let count = similar[id]?.filter({ isPresent($0.id) }).count ?? 0
                similarCursor = listMove(action, similarCursor, count: count, page: 5)
            }
        case .duplicates:
            let groups = visibleDuplicates
            switch action {
            case .left, .right:
                guard dupCursor < groups.count else { return }
                let n = groups[dupCursor].members.count
                dupMember = action == .left ? max(0, dupMember - 1) : min(n - 1, dupMember + 1)
            default:
                let before = dupCursor
                dupCursor = listMove(action, dupCursor, count: groups.count, page: max(1, Chrome.contentHeight(size) - 2))
                if dupCursor != before { dupMember = firstNonKeeper(groups[dupCursor]) }
            }
        }
    }

    func firstNonKeeper(_ g: DuplicateSet) -> Int { g.members.firstIndex { $0.id != g.keep } ?? 0 }

    func gridMove(_ action: Action, _ cursor: Int, count: Int, grid: GridLayout) -> Int {
        guard count > 0 else { return 0 }
        var c = cursor
        switch action {
        case .left: c -= 1
        case .right: c += 1
        case .up: if c - grid.columns >= 0 { c -= grid.columns }
        case .down:
            if c + grid.columns < count { c += grid.columns }
            else if c / grid.columns < (count - 1) / grid.columns { c = count - 1 }
        case .pageUp: c -= grid.pageSize
        case .pageDown: c += grid.pageSize
        case .home: c = 0
        case .end: c = count - 1
        default: break
        }
        return max(0, min(count - 1, c))
    }

    func listMove(_ action: Action, _ cursor: Int, count: Int, page: Int) -> Int {
        guard count > 0 else { return 0 }
        var c = cursor
        switch action {
        case .up: c -= 1
        case .down: c += 1
        case .pageUp: c -= page
        case .pageDown: c += page
        case .home: c = 0
        case .end: c = count - 1
        default: break
        }
        return max(0, min(count - 1, c))
    }

    // MARK: Clustering

    mutating func changeK(by delta: Int, _ fx: inout [Effect]) {
        guard presentCount >= 2 else { setStatus("Clustering needs at least two images."); return }
        let current = requestedK ?? clustering?.k ?? min(8, presentCount)
        let k = max(1, min(presentCount, current + delta))
        guard k != current || requestedK == nil else {
            setStatus(delta > 0 ? "k is already the number of images (\(k))." : "k is already 1.")
            return
        }
        requestedK = k
        recluster(&fx)
        setStatus("Re-clustering with k = \(k)…")
    }

    mutating func toggleAutoK(_ fx: inout [Effect]) {
        if requestedK == nil {
            requestedK = clustering?.k ?? min(8, presentCount)
            setStatus("Automatic k off: k stays \(requestedK!); + and - change it.")
        } else {
            requestedK = nil
            guard presentCount >= 1 else { return }
            recluster(&fx)
            setStatus("Automatic k on: re-clustering…")
        }
    }

    mutating func recluster(_ fx: inout [Effect]) {
        clusterGeneration += 1
        clusteringPending = true
        busy = "Clustering"
        clustersCursor = 0; clustersTop = 0
        fx.append(.cluster(k: requestedK, generation: clusterGeneration))
    }

    mutating func refreshDuplicates(_ fx: inout [Effect]) {
        duplicateGeneration += 1
        duplicatesPending = true
        fx.append(.findDuplicates(generation: duplicateGeneration))
    }

    // MARK: Flags

    /// The image the flag keys act on: the one under the cursor.
    var focusedImage: Int? {
        switch route.last ?? .clusters {
        case .clusters: return nil
        case .cluster(let cid):
            let m = visibleMembers(of: cid)
            return clusterCursor < m.count ? m[clusterCursor] : nil
        case .image(let id): return id
        case .duplicates:
            let groups = visibleDuplicates
            guard dupCursor < groups.count else { return nil }
            let g = groups[dupCursor]
            return g.members[min(dupMember, g.members.count - 1)].id
        }
    }

    mutating func toggleFlag(_ flag: ImageFlag, _ fx: inout [Effect]) {
        guard let id = focusedImage, let img = image(id) else { setStatus("No image selected."); return }
        let old = flags[id]
        let new: ImageFlag? = old == flag ? nil : flag
        applyFlags([id: new], previous: [id: old], &fx)
        switch new {
        case .keep?: setStatus("\(img.fileName): keep.")
        case .reject?: setStatus("\(img.fileName): reject — T moves rejected files to the Trash.")
        case nil: setStatus("\(img.fileName): flag cleared.")
        }
    }

    /// Sets flags, remembers the previous ones for undo, and persists them.
    mutating func applyFlags(_ changes: [Int: ImageFlag?], previous: [Int: ImageFlag?], _ fx: inout [Effect]) {
        undoStack.append(.flags(previous))
        setFlags(changes, &fx)
    }

    mutating func setFlags(_ changes: [Int: ImageFlag?], _ fx: inout [Effect]) {
        for (id, f) in changes { flags[id] = f }
        fx.append(contentsOf: flagEffects(changes))
    }

    func flagEffects(_ changes: [Int: ImageFlag?]) -> [Effect] {
        var byFlag: [String: (ImageFlag?, [Int])] = [:]
        for (id, f) in changes {
            let key = f?.rawValue ?? "none"
            byFlag[key, default: (f, [])].1.append(id)
        }
        return byFlag.keys.sorted().map { k in .setFlag(byFlag[k]!.0, ids: byFlag[k]!.1.sorted()) }
    }

    mutating func keepSuggested(_ fx: inout [Effect]) {
        let groups = visibleDuplicates
        guard dupCursor < groups.count else { setStatus("No duplicate group selected."); return }
        let g = groups[dupCursor]
        var changes: [Int: ImageFlag?] = [:], previous: [Int: ImageFlag?] = [:]
        for m in g.members {
            changes[m.id] = m.id == g.keep ? .keep : .reject
            previous[m.id] = flags[m.id]
        }
        applyFlags(changes, previous: previous, &fx)
        let name = image(g.keep)?.fileName ?? "the suggested image"
        setStatus("Keeping \(name), rejected \(plural(g.members.count - 1, "other")) — T moves them to the Trash, u undoes.")
    }

    mutating func markNotDuplicates(_ fx: inout [Effect]) {
        let groups = visibleDuplicates
        guard dupCursor < groups.count, let other = comparedMember(in: groups[dupCursor]) else {
            setStatus("No pair selected."); return
        }
        if other.verdict == .identical {
            setStatus("These files have the same bytes: identical files are always duplicates.")
            return
        }
        let pair = [groups[dupCursor].keep, other.id]
        undoStack.append(.notDuplicates(pair))
        fx.append(.setNotDuplicates(pair, true))
        // Show the result at once; the recomputed groups follow.
        if var all = duplicates, let gi = all.firstIndex(where: { $0.keep == groups[dupCursor].keep && $0.members.contains(where: { $0.id == other.id }) }) {
            all[gi].members.removeAll { $0.id == other.id }
            if all[gi].members.count < 2 { all.remove(at: gi) }
            duplicates = all
        }
        refreshDuplicates(&fx)
        let a = image(pair[0])?.fileName ?? "", b = image(pair[1])?.fileName ?? ""
        setStatus("\(a) and \(b) are not duplicates (remembered) · u undoes")
    }

    mutating func undo(_ fx: inout [Effect]) {
        guard let last = undoStack.popLast() else {
            setStatus("Nothing to undo in this session (`corral undo` restores earlier moves).")
            return
        }
        switch last {
        case .flags(let previous):
            setFlags(previous, &fx)
            setStatus(previous.count == 1 ? "Undid the flag change." : "Undid \(previous.count) flag changes.")
        case .notDuplicates(let ids):
            fx.append(.setNotDuplicates(ids, false))
            refreshDuplicates(&fx)
            setStatus("Undid \"not duplicates\".")
        case .fileAction(let count):
            busy = "Restoring"
            fx.append(.undoFileAction)
            setStatus("Restoring \(plural(count, "file"))…")
        }
    }

    // MARK: Acting on rejected files

    /// Rejected present images, minus the last copy of any duplicate group whose members are all
    /// rejected: acting must never remove every copy of a picture.
    func rejectedTargets() -> (ids: [Int], protected: [Int]) {
        var ids = Set(images.indices.filter { flags[$0] == .reject && isPresent($0) })
        var protected: [Int] = []
        for g in duplicates ?? [] {
            let present = g.members.map(\.id).filter { isPresent($0) }
            guard !present.isEmpty, present.allSatisfy({ ids.contains($0) }) else { continue }
            let keep = present.contains(g.keep) ? g.keep : present[0]
            ids.remove(keep)
            protected.append(keep)
        }
        return (ids.sorted(), protected.sorted())
    }

    mutating func prepareAction(folder: String?) {
        let (ids, protected) = rejectedTargets()
        guard !ids.isEmpty else {
            if protected.isEmpty {
                setStatus("No rejected files. Flag files with x (or K on a duplicate group) first.")
            } else {
                setStatus("Nothing to move: the rejected files are the last copies of their groups.")
            }
            return
        }
        let dest = folder.map { "to \($0)" } ?? "to the Trash"
        var message = "Move \(plural(ids.count, "rejected file")) \(dest)?"
        if !protected.isEmpty { message += " (\(plural(protected.count, "file")) kept: last copy of its group)" }
        prompt = .confirm(folder.map { .move(ids, folder: $0) } ?? .trash(ids), message: message + " [y/N]")
    }

    /// Removes images that were just moved away from the route.
    mutating func popRemovedImages() {
        while route.count > 1, case .image(let id) = route.last!, removed.contains(id) { route.removeLast() }
    }

    // MARK: Prompts

    mutating func handlePromptKey(_ key: Key, _ p: Prompt, _ fx: inout [Effect]) {
        switch p {
        case .filter(let previous):
            switch key {
            case .enter, .down, .up, .tab:
                prompt = nil
                if !filter.isEmpty { setStatus("Filter “\(filter)” — Esc clears it.") }
            case .escape: filter = previous; prompt = nil; resetCursors()
            default:
                if edit(&filter, key) { resetCursors() }
            }
        case .exportFormat:
            let format: ExportFormat?
            switch key {
            case .char("c"): format = .csv
            case .char("j"): format = .json
            case .char("t"): format = .txt
            case .char("l"): format = .links
            case .escape, .char("q"): prompt = nil; setStatus("Export cancelled."); return
            default: return
            }
            prompt = .exportPath(format!, text: config.workingDirectory + "/" + format!.defaultName)
        case .exportPath(let format, var text):
            switch key {
            case .escape: prompt = nil; setStatus("Export cancelled.")
            case .enter:
                guard let path = resolvePath(text) else { setStatus("Type a file name to export to.", error: true); return }
                prompt = nil
                busy = "Exporting"
                let c = clustering.map { Clustering(k: $0.k, automatic: $0.automatic, clusters: visibleClustersUnfiltered()) }
                fx.append(.export(format, path: path, c, visibleDuplicatesUnfiltered()))
            default:
                if edit(&text, key) { prompt = .exportPath(format, text: text) }
            }
        case .moveFolder(var text):
            switch key {
            case .escape: prompt = nil; setStatus("Move cancelled.")
            case .enter:
                guard let path = resolvePath(text) else { setStatus("Type a folder to move the files to.", error: true); return }
                prompt = nil
                prepareAction(folder: path)
            default:
                if edit(&text, key) { prompt = .moveFolder(text: text) }
            }
        case .confirm(let action, _):
            switch key {
            case .char("y"), .char("Y"):
                prompt = nil
                switch action {
                case .trash(let ids): busy = "Moving to the Trash"; fx.append(.trash(ids: ids))
                case .move(let ids, let folder): busy = "Moving"; fx.append(.move(ids: ids, folder: folder))
                }
            case .char("n"), .char("N"), .escape, .enter, .char("q"):
                prompt = nil
                setStatus("Nothing moved.")
            default: break
            }
        }
    }

    /// Line editing for prompts; returns whether the text changed.
    func edit(_ text: inout String, _ key: Key) -> Bool {
        switch key {
        case .char(let c): text.append(c); return true
        case .backspace, .delete: if text.isEmpty { return false }; text.removeLast(); return true
        case .ctrl("u"): text = ""; return true
        case .ctrl("w"):
            while text.last == " " { text.removeLast() }
            while let l = text.last, l != " ", l != "/" { text.removeLast() }
            return true
        default: return false
        }
    }

    func resolvePath(_ raw: String) -> String? {
        let t = raw.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty else { return nil }
        if t == "~" { return config.homeDirectory }
        if t.hasPrefix("~/") { return config.homeDirectory + String(t.dropFirst(1)) }
        if t.hasPrefix("/") { return t }
        return config.workingDirectory + "/" + t
    }

    mutating func resetCursors() {
        switch screen {
        case .clusters: clustersCursor = 0; clustersTop = 0
        case .cluster: clusterCursor = 0; clusterTop = 0
        case .duplicates: dupCursor = 0; dupTop = 0; dupMember = 0
        case .image: break
        }
    }

    /// Export writes every group that still exists, whatever the filter shows.
    func visibleClustersUnfiltered() -> [ImageCluster] {
        var s = self; s.filter = ""; return s.visibleClusters
    }
    func visibleDuplicatesUnfiltered() -> [DuplicateSet] {
        var s = self; s.filter = ""; return s.visibleDuplicates
    }

    // MARK: Keeping cursors valid

    mutating func clampCursors() {
        let clusters = visibleClusters
        clustersCursor = max(0, min(clustersCursor, clusters.count - 1))
        let cg = GridLayout(size: size, captionLines: 2)
        clustersTop = cg.scrolled(top: clustersTop, cursor: clustersCursor, count: clusters.count)
        if case .cluster(let cid)? = route.last {
            if cluster(cid) == nil { route = [.clusters] } else {
                let n = visibleMembers(of: cid).count
                clusterCursor = max(0, min(clusterCursor, n - 1))
                let g = GridLayout(size: size, captionLines: 1)
                clusterTop = g.scrolled(top: clusterTop, cursor: clusterCursor, count: n)
            }
        }
        let groups = visibleDuplicates
        dupCursor = max(0, min(dupCursor, groups.count - 1))
        if dupCursor < groups.count { dupMember = max(0, min(dupMember, groups[dupCursor].members.count - 1)) } else { dupMember = 0 }
        let rows = max(1, Chrome.contentHeight(size) - 1)
        if dupCursor < dupTop { dupTop = dupCursor }
        if dupCursor >= dupTop + rows { dupTop = dupCursor - rows + 1 }
        dupTop = max(0, min(dupTop, max(0, groups.count - rows)))
        helpTop = max(0, min(helpTop, max(0, HelpScreen.lineCount(width: size.cols) - Chrome.contentHeight(size))))
    }
}

func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
