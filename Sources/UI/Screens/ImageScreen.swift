/// One image: a large preview, its facts, what the model sees in it, and the most similar images.
enum ImageScreen {
    static func draw(_ s: AppState, image id: Int, _ buf: inout ScreenBuffer) {
        let t = s.theme
        guard let img = s.image(id) else { return }
        let top = Chrome.contentTop, height = Chrome.contentHeight(s.size)
        let previewW = max(10, buf.cols / 2 - 1)
        ThumbnailView.draw(img.thumbnail, into: &buf, x: 1, y: top, width: previewW, height: height, theme: t)

        let x = previewW + 3, w = buf.cols - x - 1
        guard w >= 10 else { return }
        var y = top
        func line(_ label: String, _ value: String, _ role: Theme.Role = .text) {
            guard y < top + height else { return }
            buf.put(TextWidth.pad(label, 10), x: x, y: y, style: t[.secondary])
            buf.put(TextWidth.truncate(value, w - 10), x: x + 10, y: y, style: t[role])
            y += 1
        }
        buf.put(TextWidth.truncate(img.fileName, w), x: x, y: y, style: t[.heading]); y += 1
        for l in wrapPath(img.path, width: w).prefix(2) { buf.put(l, x: x, y: y, style: t[.secondary]); y += 1 }
        y += 1
        line("Pixels", "\(img.width) × \(img.height)")
        line("File", Format.bytes(img.fileSize) + " · " + img.format)
        line("Taken", img.captureDate ?? "unknown")
        if let camera = img.camera { line("Camera", camera) }
        switch s.flags[id] {
        case .keep?: line("Flag", "✓ keep", .keep)
        case .reject?: line("Flag", "✗ reject", .reject)
        case nil: line("Flag", "none", .secondary)
        }
        if let c = s.clustering?.clusters.first(where: { $0.members.contains(id) }) { line("Cluster", c.label) }
        if let g = s.visibleDuplicates.first(where: { $0.members.contains { $0.id == id } }) {
            let m = g.members.first { $0.id == id }!
            line("Duplicate", g.keep == id ? "suggested keeper (\(g.reason))" : "\(m.verdict.rawValue) of \(s.image(g.keep)?.fileName ?? "?")")
        }
        if !img.topClasses.isEmpty, y + 2 < top + height {
            y += 1
            buf.put("Looks like", x: x, y: y, style: t[.heading]); y += 1
            let barW = max(4, min(12, w / 4))
            for c in img.topClasses.prefix(s.size.rows >= 30 ? 5 : 3) where y < top + height {
                let filled = Int((Double(c.probability) * Double(barW)).rounded())
                buf.put(String(repeating: "█", count: filled), x: x, y: y, style: t[.progressDone])
                buf.put(String(repeating: "░", count: barW - filled), x: x + filled, y: y, style: t[.progressTodo])
                let pct = Format.percent(c.probability)
                buf.put(TextWidth.pad(pct, 5), x: x + barW + 1, y: y, style: t[.text])
                buf.put(TextWidth.truncate(c.label, w - barW - 7), x: x + barW + 6, y: y, style: t[.text])
                y += 1
            }
        }
        guard y + 2 < top + height else { return }
        y += 1
        buf.put("Most similar (Enter opens)", x: x, y: y, style: t[.heading]); y += 1
        guard let list = s.similar[id]?.filter({ s.isPresent($0.id) }) else {
            buf.put("Looking…", x: x, y: y, style: t[.secondary]); return
        }
        if list.isEmpty { buf.put("No other images.", x: x, y: y, style: t[.secondary]); return }
        let rows = top + height - y
        let first = max(0, min(s.similarCursor - rows + 1, list.count - rows))
        for (i, sim) in list.enumerated().dropFirst(max(0, first)).prefix(rows) {
            let selected = i == s.similarCursor
            let name = s.image(sim.id)?.fileName ?? "?"
            let text = TextWidth.pad("\(Format.similarity(sim.similarity))  \(Format.flagMark(s.flags[sim.id])) \(name)", w)
            buf.put(text, x: x, y: y, style: selected ? t[.selection] : t[.text])
            y += 1
        }
    }

    /// A path over at most two lines, keeping its end when it is longer.
    static func wrapPath(_ path: String, width: Int) -> [String] {
        if TextWidth.of(path) <= width { return [path] }
        let tail = TextWidth.truncateLeft(path, width * 2)
        var first = "", used = 0
        var rest = Substring(tail)
        while let ch = rest.first, used + TextWidth.of(ch) <= width { first.append(ch); used += TextWidth.of(ch); rest = rest.dropFirst() }
        return [first, String(rest)]
    }
}
