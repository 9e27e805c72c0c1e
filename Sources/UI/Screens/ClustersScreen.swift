/// Every cluster as a card: the medoid's thumbnail, the label and the size.
enum ClustersScreen {
    static func draw(_ s: AppState, _ buf: inout ScreenBuffer) {
        let t = s.theme
        let clusters = s.visibleClusters
        guard s.clustering != nil else {
            if s.images.isEmpty {
                Chrome.drawCentered([("No images found in " + s.config.title, .heading), ("", .text),
                                     ("Corral reads JPEG, PNG, WebP and HEIC files and searches folders recursively.", .secondary),
                                     ("r rescans · q quits", .secondary)], in: s, &buf)
            } else {
                Chrome.drawCentered([("Grouping \(plural(s.presentCount, "image")) by content…", .heading), ("", .text),
                                     ("Tab shows duplicates meanwhile.", .secondary)], in: s, &buf)
            }
            return
        }
        let sortName = s.sort == .size ? "by size" : "by name"
        var header = "\(plural(clusters.count, "cluster")) of \(plural(s.presentCount, "image")) · sorted \(sortName)"
        if s.clusteringPending { header += " · re-clustering…" }
        let pos = clusters.isEmpty ? "" : "\(s.clustersCursor + 1)/\(clusters.count) "
        buf.put(" " + TextWidth.truncate(header, buf.cols - TextWidth.of(pos) - 3), x: 0, y: Chrome.contentTop, style: t[.heading])
        buf.put(pos, x: buf.cols - TextWidth.of(pos), y: Chrome.contentTop, style: t[.secondary])
        guard !clusters.isEmpty else {
            Chrome.drawCentered([("No cluster matches “\(s.filter)”.", .heading), ("Esc clears the filter.", .secondary)], in: s, &buf)
            return
        }
        let g = GridLayout(size: s.size, captionLines: 2)
        let first = s.clustersTop * g.columns
        for i in first..<min(clusters.count, first + g.pageSize) {
            let c = clusters[i]
            let row = (i - first) / g.columns, col = (i - first) % g.columns
            let x = col * g.cardWidth, y = g.top + row * g.cardHeight
            ThumbnailView.draw(s.image(c.medoid)?.thumbnail, into: &buf, x: x + 1, y: y, width: g.thumbWidth, height: g.thumbHeight, theme: t)
            let selected = i == s.clustersCursor
            let label = TextWidth.pad(c.label, g.thumbWidth)
            buf.put(label, x: x + 1, y: y + g.thumbHeight, style: selected ? t[.selection] : t[.text])
            let rejected = c.members.filter { s.flags[$0] == .reject }.count
            var sizeText = plural(c.members.count, "image")
            if rejected > 0 { sizeText += " ✗\(rejected)" }
            buf.put(TextWidth.pad(sizeText, g.thumbWidth), x: x + 1, y: y + g.thumbHeight + 1, style: selected ? t[.selectionDim] : t[.secondary])
            if selected {
                buf.put("▶", x: x, y: y + g.thumbHeight, style: t[.heading])
            }
        }
        drawScrollMarks(s, &buf, top: s.clustersTop, rows: (clusters.count + g.columns - 1) / g.columns, visible: g.rowsVisible)
    }

    /// "more above / below" arrows at the right edge when the grid scrolls.
    static func drawScrollMarks(_ s: AppState, _ buf: inout ScreenBuffer, top: Int, rows: Int, visible: Int) {
        if top > 0 { buf.put("▲", x: buf.cols - 1, y: Chrome.contentTop + 1, style: s.theme[.secondary]) }
        if top + visible < rows { buf.put("▼", x: buf.cols - 1, y: buf.rows - Chrome.reservedRows, style: s.theme[.secondary]) }
    }
}
