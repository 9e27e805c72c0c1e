import Foundation

/// Draws the whole interface for a state. Pure: the same state always gives the same frame.
public func render(_ s: AppState) -> ScreenBuffer {
    var buf = ScreenBuffer(cols: s.size.cols, rows: s.size.rows)
    let theme = s.theme
    guard s.size.cols >= 30, s.size.rows >= 8 else {
        buf.put("Too small (need 30x8)", x: 0, y: 0, style: theme[.statusError])
        buf.put("q quits", x: 0, y: 1, style: theme[.secondary])
        return buf
    }
    Chrome.drawTitle(s, &buf)
    if s.showHelp {
        HelpScreen.draw(s, &buf)
    } else if s.showsScanScreen {
        ScanningScreen.draw(s, &buf)
    } else {
        switch s.route.last ?? .clusters {
        case .clusters: ClustersScreen.draw(s, &buf)
        case .cluster(let id): ClusterScreen.draw(s, cluster: id, &buf)
        case .image(let id): ImageScreen.draw(s, image: id, &buf)
        case .duplicates: DuplicatesScreen.draw(s, &buf)
        }
    }
    Chrome.drawStatus(s, &buf)
    Chrome.drawHints(s, &buf)
    return buf
}

extension Chrome {
    /// Row 0: program name, the two tabs, where the user is, and a summary on the right.
    static func drawTitle(_ s: AppState, _ buf: inout ScreenBuffer) {
        let t = s.theme
        buf.fill(x: 0, y: 0, width: buf.cols, height: 1, style: t[.titleInfo])
        var x = buf.put(" Corral ", x: 0, y: 0, style: t[.title])
        let root = s.route.first ?? .clusters
        let clusterCount = s.clustering == nil ? "" : " \(s.visibleClustersUnfilteredCount)"
        let dupCount = s.duplicates == nil ? "" : " \(s.visibleDuplicatesUnfiltered().count)"
        x += 1
        x += buf.put(" Clusters\(clusterCount) ", x: x, y: 0, style: root == .clusters ? t[.tabActive] : t[.tabInactive])
        x += buf.put(" Duplicates\(dupCount) ", x: x, y: 0, style: root == .duplicates ? t[.tabActive] : t[.tabInactive])
        // Right: counts and k.
        var right = s.images.isEmpty ? "" : plural(s.presentCount, "image")
        if let c = s.clustering { right += " · k \(c.k)\(s.requestedK == nil ? " auto" : "")" }
        right += " "
        let rw = TextWidth.of(right)
        // Breadcrumb between the tabs and the summary.
        var crumbs: [String] = []
        for r in s.route.dropFirst() {
            switch r {
            case .cluster(let id): crumbs.append(s.cluster(id)?.label ?? "cluster")
            case .image(let id): crumbs.append(s.image(id)?.fileName ?? "image")
            default: break
            }
        }
        if s.showHelp { crumbs.append("Help") }
        let space = buf.cols - x - rw - 2
        if !crumbs.isEmpty, space > 4 {
            buf.put(" › " + TextWidth.truncateLeft(crumbs.joined(separator: " › "), space - 3), x: x, y: 0, style: t[.titleInfo])
        }
        if rw < buf.cols - x { buf.put(right, x: buf.cols - rw, y: 0, style: t[.titleInfo]) }
    }

    /// Row rows-2: a prompt, a message, background work, or the path of the focused image; flag
    /// counts on the right.
    static func drawStatus(_ s: AppState, _ buf: inout ScreenBuffer) {
        let t = s.theme, y = buf.rows - 2
        if let p = s.prompt {
            let (label, text, tail) = promptParts(p, s)
            var x = buf.put(label, x: 0, y: y, style: t[.prompt])
            let avail = buf.cols - x - TextWidth.of(tail) - 1
            let shown = TextWidth.truncateLeft(text, max(1, avail))
            x += buf.put(shown, x: x, y: y, style: t[.text])
            if !tail.isEmpty { buf.put(tail, x: x + 1, y: y, style: t[.secondary]) }
            buf.cursor = (min(x, buf.cols - 1), y)
            return
        }
        var right = ""
        let keep = s.flags.filter { $0.value == .keep && s.isPresent($0.key) }.count
        let reject = s.flags.filter { $0.value == .reject && s.isPresent($0.key) }.count
        if keep + reject > 0 { right = "✓\(keep) ✗\(reject) " }
        if !s.filter.isEmpty { right = "filter “\(TextWidth.truncate(s.filter, 16))” " + right }
        let rw = TextWidth.of(right)
        let avail = buf.cols - rw - 1
        if let status = s.status {
            buf.put(" " + TextWidth.truncate(status.text, avail - 1), x: 0, y: y, style: status.isError ? t[.statusError] : t[.status])
        } else if let busy = s.busy {
            buf.put(" " + busy + "…", x: 0, y: y, style: t[.status])
        } else if s.scan.isRunning, !s.images.isEmpty {
            buf.put(" Rescanning… " + progressText(s), x: 0, y: y, style: t[.status])
        } else if let id = s.focusedImage, let img = s.image(id) {
            buf.put(" " + TextWidth.truncateLeft(img.path, avail - 1), x: 0, y: y, style: t[.secondary])
        }
        if rw > 0, rw < buf.cols { buf.put(right, x: buf.cols - rw, y: y, style: t[.secondary]) }
    }

    static func progressText(_ s: AppState) -> String {
        if case .running(let p?) = s.scan { return "\(p.done)/\(p.total)" }
        return ""
    }

    static func promptParts(_ p: Prompt, _ s: AppState) -> (String, String, String) {
        switch p {
        case .filter: return (" Filter: ", s.filter, "Enter keeps · Esc clears")
        case .exportFormat: return (" Export as: ", "", "c csv · j json · t txt · l folder of links · Esc cancels")
        case .exportPath(let f, let text): return (" Export \(f.rawValue) to: ", text, "Enter writes · Esc cancels")
        case .moveFolder(let text): return (" Move rejected files to folder: ", text, "Enter · Esc cancels")
        case .confirm(_, let message): return (" " + message + " ", "", "")
        }
    }

    /// Last row: the keys that matter on this screen.
    static func drawHints(_ s: AppState, _ buf: inout ScreenBuffer) {
        let t = s.theme, y = buf.rows - 1
        var hints: [(key: String, text: String)]
        if s.prompt != nil {
            hints = [("Enter", "accept"), ("Esc", "cancel")]
        } else if s.showHelp {
            hints = [("↑↓", "scroll"), ("?", "close"), ("q", "quit")]
        } else if s.showsScanScreen {
            hints = [("?", "help"), ("q", "quit")]
            if case .failed = s.scan { hints.insert(("r", "retry"), at: 0) }
        } else {
            hints = KeyBindings.hints(for: s.screen)
        }
        var x = 1
        for h in hints {
            let need = TextWidth.of(h.key) + 1 + TextWidth.of(h.text) + 2
            if x + need > buf.cols { break }
            x += buf.put(h.key, x: x, y: y, style: t[.hintKey])
            x += 1
            x += buf.put(h.text, x: x, y: y, style: t[.hint])
            x += 2
        }
    }

    /// Centred lines for empty states and messages.
    static func drawCentered(_ lines: [(String, Theme.Role)], in s: AppState, _ buf: inout ScreenBuffer, top: Int? = nil) {
        let h = contentHeight(s.size)
        var y = top ?? (contentTop + max(0, (h - lines.count) / 2))
        for (text, role) in lines {
            let shown = TextWidth.truncate(text, buf.cols - 2)
            buf.put(shown, x: max(1, (buf.cols - TextWidth.of(shown)) / 2), y: y, style: s.theme[role])
            y += 1
        }
    }
}

extension AppState {
    var visibleClustersUnfilteredCount: Int { visibleClustersUnfiltered().count }
}

/// Shared formatting.
enum Format {
    static func bytes(_ n: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var v = Double(n), i = 0
        while v >= 1000, i < units.count - 1 { v /= 1000; i += 1 }
        return i == 0 ? "\(n) B" : String(format: v < 10 ? "%.1f" : "%.0f", v) + " " + units[i]
    }

    static func duration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds.rounded()))
        if s >= 3600 { return String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) }
        return String(format: "%d:%02d", s / 60, s % 60)
    }

    static func percent(_ p: Float) -> String { String(format: "%.0f%%", Double(p) * 100) }
    static func similarity(_ p: Float) -> String { String(format: "%.2f", Double(p)) }

    static func flagMark(_ f: ImageFlag?) -> String {
        switch f { case .keep?: return "✓"; case .reject?: return "✗"; case nil: return " " }
    }

    static func verdict(_ v: DuplicateVerdict) -> String {
        switch v { case .identical: return "identical"; case .nearDuplicate: return "near-dup"; case .similar: return "similar" }
    }

    static func badgeRole(_ v: DuplicateVerdict) -> Theme.Role {
        switch v { case .identical: return .badgeIdentical; case .nearDuplicate: return .badgeNear; case .similar: return .badgeSimilar }
    }
}
