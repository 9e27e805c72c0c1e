import Foundation

/// Near-duplicate groups: the list on the left; on the right the suggested keeper and the selected
/// member side by side with what differs between them.
enum DuplicatesScreen {
    static func draw(_ s: AppState, _ buf: inout ScreenBuffer) {
        let t = s.theme
        guard s.duplicates != nil else {
            Chrome.drawCentered([("Looking for near-duplicates…", .heading)], in: s, &buf)
            return
        }
        let groups = s.visibleDuplicates
        let images = groups.reduce(0) { $0 + $1.members.count }
        var header = "\(plural(groups.count, "duplicate group")) · \(plural(images, "image"))"
        if s.duplicatesPending { header += " · updating…" }
        buf.put(" " + TextWidth.truncate(header, buf.cols - 2), x: 0, y: Chrome.contentTop, style: t[.heading])
        guard !groups.isEmpty else {
            if s.filter.isEmpty {
                Chrome.drawCentered([("No duplicates among \(plural(s.presentCount, "image")).", .heading), ("", .text),
                                     ("Identical files, re-encodings, resizes and near-identical shots show up here.", .secondary)], in: s, &buf)
            } else {
                Chrome.drawCentered([("No duplicate group matches “\(s.filter)”.", .heading), ("Esc clears the filter.", .secondary)], in: s, &buf)
            }
            return
        }
        let listW = min(34, buf.cols * 2 / 5)
        let top = Chrome.contentTop + 1, height = Chrome.contentHeight(s.size) - 1
        for (i, g) in groups.enumerated().dropFirst(s.dupTop).prefix(height) {
            let y = top + i - s.dupTop
            let v = groupVerdict(g)
            let badge = TextWidth.pad(Format.verdict(v), 9)
            buf.put(badge, x: 1, y: y, style: t[Format.badgeRole(v)])
            let name = s.image(g.keep)?.fileName ?? "?"
            let text = TextWidth.pad(" \(g.members.count)× \(name)", listW - 11)
            buf.put(text, x: 10, y: y, style: i == s.dupCursor ? t[.selection] : t[.text])
        }
        if s.dupTop > 0 { buf.put("▲", x: listW - 1, y: top, style: t[.secondary]) }
        if s.dupTop + height < groups.count { buf.put("▼", x: listW - 1, y: top + height - 1, style: t[.secondary]) }
        for y in top..<(top + height) { buf.put("│", x: listW, y: y, style: t[.border]) }
        drawComparison(s, groups[s.dupCursor], &buf, x: listW + 2, y: top, width: buf.cols - listW - 3, height: height)
    }

    /// The weakest verdict in the group: the badge never claims more sameness than every member has.
    static func groupVerdict(_ g: DuplicateSet) -> DuplicateVerdict {
        g.members.filter { $0.id != g.keep }.map(\.verdict).max { $0.strength < $1.strength } ?? .identical
    }

    static func drawComparison(_ s: AppState, _ g: DuplicateSet, _ buf: inout ScreenBuffer, x: Int, y: Int, width: Int, height: Int) {
        let t = s.theme
        guard width >= 20, let keeper = s.image(g.keep), let other = s.comparedMember(in: g), let img = s.image(other.id) else { return }
        var yy = y
        buf.put(TextWidth.truncate("Keep \(keeper.fileName): \(g.reason)", width), x: x, y: yy, style: t[.keep]); yy += 1
        let colW = (width - 2) / 2
        let memberRows = min(g.members.count, max(1, height / 5))
        let infoRows = 6
        let thumbH = max(2, min(12, height - 3 - infoRows - memberRows - 1))
        let x2 = x + colW + 2
        buf.put(TextWidth.pad("suggested keeper", colW), x: x, y: yy, style: t[.heading])
        let badge = " \(other.verdict.rawValue) \(Format.similarity(other.similarity)) "
        buf.put(badge, x: x2, y: yy, style: t[Format.badgeRole(other.verdict)])
        yy += 1
        ThumbnailView.draw(keeper.thumbnail, into: &buf, x: x, y: yy, width: colW, height: thumbH, theme: t)
        ThumbnailView.draw(img.thumbnail, into: &buf, x: x2, y: yy, width: colW, height: thumbH, theme: t)
        yy += thumbH
        // Facts side by side; the better value of each pair is marked.
        func facts(_ i: ImageInfo) -> [String] {
            [i.fileName, "\(i.width) × \(i.height)", Format.bytes(i.fileSize), i.captureDate ?? "no date",
             String(format: "%.2f bits/pixel", bitsPerPixel(i)), flagText(s.flags[i.id])]
        }
        let a = facts(keeper), b = facts(img)
        // Which side wins each row (nil: equal or not comparable).
        let better: [Bool?] = [
            nil,
            compare(keeper.width * keeper.height, img.width * img.height),
            compare(keeper.fileSize, img.fileSize),
            compareDates(keeper.captureDate, img.captureDate),
            compare(bitsPerPixel(keeper), bitsPerPixel(img)),
            nil,
        ]
        for row in 0..<infoRows where yy < y + height {
            let roleA: Theme.Role = row == 0 ? .text : (better[row] == true ? .better : (row == 5 ? flagRole(s.flags[keeper.id]) : .secondary))
            let roleB: Theme.Role = row == 0 ? .text : (better[row] == false ? .better : (row == 5 ? flagRole(s.flags[img.id]) : .secondary))
            let markA = better[row] == true ? " ▲" : "", markB = better[row] == false ? " ▲" : ""
            buf.put(TextWidth.truncate(a[row] + markA, colW), x: x, y: yy, style: t[roleA])
            buf.put(TextWidth.truncate(b[row] + markB, colW), x: x2, y: yy, style: t[roleB])
            yy += 1
        }
        guard yy + 1 < y + height else { return }
        yy += 1
        let membersHeight = y + height - yy
        let first = max(0, min(s.dupMember - membersHeight + 1, g.members.count - membersHeight))
        for (i, m) in g.members.enumerated().dropFirst(first).prefix(membersHeight) {
            let name = s.image(m.id)?.fileName ?? "?"
            let tag = m.id == g.keep ? "keeper" : "\(Format.verdict(m.verdict)) \(Format.similarity(m.similarity))"
            let text = TextWidth.pad("\(Format.flagMark(s.flags[m.id])) \(name)  \(tag)", width)
            let selected = i == s.dupMember
            buf.put(text, x: x, y: yy, style: selected ? t[.selection] : (m.id == other.id ? t[.selectionDim] : t[.text]))
            yy += 1
        }
    }

    static func bitsPerPixel(_ i: ImageInfo) -> Double {
        Double(i.fileSize) * 8 / Double(max(1, i.width * i.height))
    }

    static func compare<T: Comparable>(_ a: T, _ b: T) -> Bool? { a == b ? nil : a > b }

    /// The earlier capture is more likely the original.
    static func compareDates(_ a: String?, _ b: String?) -> Bool? {
        guard let a, let b, a != b else { return nil }
        return a < b
    }

    static func flagText(_ f: ImageFlag?) -> String {
        switch f { case .keep?: return "✓ keep"; case .reject?: return "✗ reject"; case nil: return "not flagged" }
    }

    static func flagRole(_ f: ImageFlag?) -> Theme.Role {
        switch f { case .keep?: return .keep; case .reject?: return .reject; case nil: return .secondary }
    }
}
